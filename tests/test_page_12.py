"""Page 12 as a learner meets it: round 0, review the hardest negatives, retrain, compare."""

from __future__ import annotations

import json

from tests.apptest_helpers import open_page, run_until

PAGE = "pages/12_Hard_negatives.py"


def rounds_shown(at) -> int:
    """How many rows the rounds table has (0 before round 0 finished)."""
    tables = [df.value for df in at.dataframe if "fp_rate" in df.value.columns]
    return len(tables[0]) if tables else 0


def charts(at) -> list[dict]:
    """Every Plotly figure on the page, as its JSON."""
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def confusion_tabs(at) -> list[str]:
    """The labels of the per-round confusion-matrix tabs."""
    return [t.label for t in at.tabs if t.label.startswith("Round ")]


def test_a_round_of_mining_on_the_sample_data_adds_reviewed_negatives():
    at = open_page(PAGE)
    assert not at.exception
    assert any("hard negatives" in md.value for md in at.markdown)
    at.toggle(key="p12:workshop").set_value(True).run()
    at.button(key="p12:start").click().run()
    run_until(at, lambda a: rounds_shown(a) == 1)
    assert not at.exception and not at.error
    assert confusion_tabs(at) == ["Round 0"]
    boxes = [c for c in at.checkbox if c.key.startswith("p12:review:0:")]
    assert len(boxes) == 10 and all(c.value for c in boxes)
    boxes[0].uncheck().run()
    assert at.button(key="p12:next").label == "➕ Add 9 negatives and retrain"
    at.button(key="p12:next").click().run()
    run_until(at, lambda a: rounds_shown(a) == 2)
    assert not at.exception and not at.error
    table = next(df.value for df in at.dataframe if "fp_rate" in df.value.columns)
    assert list(table["n_negatives"]) == [5, 14], "5 seeded before round 0, then 9 more"
    assert confusion_tabs(at) == ["Round 1", "Round 0"]
    rows = [fig["data"][0]["y"] for fig in charts(at) if fig["data"][0]["type"] == "heatmap"]
    assert rows and all(r[-1] == "none of these" for r in rows), "the background row shown"
    assert any(c.key.startswith("p12:review:1:") for c in at.checkbox)

    at.radio(key="p12:strategy").set_value("threshold").run()
    assert rounds_shown(at) == 0, "these rounds used the negatives as a class, not a threshold"
    assert any("other data or other settings" in i.value for i in at.info)
