"""Page 03 as a learner meets it: pick presets, train and time them here, read the trade-off."""

from __future__ import annotations

import os
from pathlib import Path

from tests.apptest_helpers import open_page, run_until

PAGE = "pages/03_Accuracy_vs_speed.py"


def test_page_explains_the_trade_off_and_lists_the_presets_before_any_training():
    at = open_page(PAGE)
    assert not at.exception
    assert any("Pareto front" in md.value for md in at.markdown)
    (table,) = [df.value for df in at.dataframe if "training" in df.value.columns]
    assert list(table["preset"]) == ["tiny", "small", "fast", "balanced", "accurate",
                                     "accurate-full"]
    assert table["training"].iloc[-1] == "full, 3 epochs"
    assert at.multiselect(key="p03:presets:False").value == ["tiny", "small", "fast",
                                                            "balanced", "accurate"]
    at.toggle(key="p03:workshop").set_value(True).run()
    assert at.multiselect(key="p03:presets:True").value == ["tiny", "fast"]


def test_the_rules_of_thumb_are_tables_measured_here_that_say_where_they_come_from():
    at = open_page(PAGE)
    text = " ".join(md.value for md in at.markdown)
    for rule in ("| learning rate |", "| epochs |", "| batch size |", "| image size |",
                 "12-megapixel JPEG"):
        assert rule in text
    assert "bench/rules_of_thumb.py" in text and "bench/image_decode.py" in text


def test_comparing_a_preset_on_the_sample_data_measures_it_and_recommends_one():
    at = open_page(PAGE)
    at.multiselect(key="p03:presets:False").set_value(["fast"]).run()
    at.button(key="p03:run").click().run()
    run_until(at, lambda a: any("Recommendation" in s.value for s in a.success))
    assert not at.exception and not at.error
    (table,) = [df.value for df in at.dataframe if "ms/image (PyTorch)" in df.value.columns]
    row = table.iloc[0]
    assert row["preset"] == "fast"
    assert row["ms/image (PyTorch)"] > 0 and row["ms/image (ONNX)"] > 0
    assert 10 < row["MB on disk"] < 30
    assert "**fast** is the most accurate" in at.success[0].value
    assert not [c for c in at.caption if "mirror" in c.value], "saved models run one view"
    (name,) = [t for t in at.text_input if t.label == "Model name"]
    assert name.value.startswith("fridge4-efficientnet_lite0-quick-"), name.value
    next(b for b in at.button if b.label.startswith("💾 Save")).click().run()
    assert any(f"Saved as **{name.value}**" in s.value for s in at.success)
    assert (Path(os.environ["CVLIB_HOME"]) / "models" / name.value / "model.onnx").is_file()

    at.multiselect(key="p03:presets:False").set_value(["fast", "tiny"]).run()
    assert not [s for s in at.success if "Recommendation" in s.value], "not what is chosen now"
    assert any("other data or other settings" in i.value for i in at.info)
