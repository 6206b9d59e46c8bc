"""Page 02 (multi-label) in Streamlit's AppTest, on the sample data's multi-label set."""

from __future__ import annotations

import os
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from cvlib.storage.persist import read_model_meta

REPO = Path(__file__).resolve().parent.parent


def metrics(app: AppTest) -> dict[str, str]:
    """The metric cards on the page, label -> shown value."""
    return {m.label: m.value for m in app.metric}


def trained_page() -> AppTest:
    """Page 02 after a workshop-preset training on the sample set (quick, Lite0, 224 px)."""
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    app.switch_page("pages/02_Multi_label.py")
    app.run()
    app.toggle(key="p02:workshop").set_value(True).run()
    app.button(key="p02:train").click().run()
    deadline = time.time() + 600
    while "Exact match" not in metrics(app) and time.time() < deadline:
        assert not app.exception, app.exception
        time.sleep(2)
        app.run()
    assert "Exact match" in metrics(app), "training did not finish in time"
    return app


def test_page_02_teaches_trains_tunes_and_saves_with_thresholds():
    app = trained_page()
    assert not app.exception, app.exception
    assert not app.error, [e.value for e in app.error]
    worked = [d.value for d in app.dataframe]
    assert any("softmax" in frame.columns and "sigmoid" in frame.columns for frame in worked)
    assert app.radio(key="p02:regions").value == "strips", "multi-label looks at strips"
    assert any("13 regions of each image" in c.value for c in app.caption)

    tuned = metrics(app)
    threshold = app.slider(key="p02:threshold")
    assert 0.0 <= threshold.value <= 1.0

    threshold.set_value(1.0).run()
    at_one = metrics(app)
    assert at_one["Recall"] == "0.0%" and at_one["F1"] == "0.0%", "1.0 predicts nothing"
    threshold.set_value(0.0).run()
    assert metrics(app)["Recall"] == "100.0%", "0.0 predicts every label"
    assert float(tuned["Exact match"].rstrip("%")) >= float(
        metrics(app)["Exact match"].rstrip("%")), "the tuned threshold beats predicting all"

    app.toggle(key="p02:per-class").set_value(True).run()
    assert not app.exception, app.exception
    assert any("true:" in m.value and "predicted:" in m.value for m in app.markdown)

    (name,) = [t for t in app.text_input if t.label == "Model name"]
    assert name.value.startswith("fridge-multilabel-efficientnet_lite0-quick-"), name.value
    name.input("fridge-multi")
    save = next(b for b in app.button if "Save model" in b.label)
    save.click().run()
    assert not app.exception, app.exception
    meta = read_model_meta(Path(os.environ["CVLIB_HOME"]) / "models" / "fridge-multi")
    assert meta["multi_label"] is True and len(meta["regions"]["boxes"]) == 13
    assert isinstance(meta["thresholds"], list) and len(meta["thresholds"]) == 4
    save.click().run()
    assert any("already saved" in w.value for w in app.warning), "no silent overwrite"

    app.toggle(key="p02:workshop").set_value(False).run()  # other settings: not this model
    assert "Exact match" not in metrics(app)
    assert any("other data or other settings" in i.value for i in app.info)


def test_the_workshop_preset_says_the_size_it_really_trains_at():
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    app.switch_page("pages/02_Multi_label.py")
    app.run()
    app.toggle(key="p02:workshop").set_value(True).run()
    assert not app.exception, app.exception
    notice = app.info[-1].value
    assert "13 regions of the photo at 224 px each" in notice and "448 px" in notice
    assert any("448 px" in c.value for c in app.caption)


def test_the_threshold_chart_keeps_its_legend_off_the_axis_title():
    from ui.multilabel import threshold_figure

    curve = {"threshold": [0.25, 0.5], **{name: [0.5, 0.6] for name in (
        "exact_match", "hamming_accuracy", "f1", "precision", "recall")}}
    legend = threshold_figure(curve, 0.5, 0.5).to_dict()["layout"]["legend"]
    assert legend["orientation"] == "h" and legend["y"] >= 1, "above the plot, not below"
