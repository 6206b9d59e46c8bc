"""Page 01 as a learner meets it: pick data, see it, train, read honest results."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.apptest_helpers import metric_values, open_page, run_until

PAGE = "pages/01_Training_introduction.py"
REPO = Path(__file__).resolve().parent.parent


def chart(at: AppTest, key: str) -> dict:
    """The Plotly figure of the chart with this key, as JSON."""
    (found,) = [c for c in at.get("plotly_chart") if key in c.proto.id]
    return json.loads(found.proto.spec)


def test_page_renders_the_sample_data_summary_before_any_training():
    at = open_page(PAGE)
    assert not at.exception
    metrics = metric_values(at)
    assert metrics["Images"] == "120"
    assert metrics["Classes"] == "4"
    assert metrics["Unreadable"] == "0"
    assert at.button(key="p01-train")


def test_the_workshop_preset_is_a_small_full_training_run():
    at = open_page(PAGE)
    at.toggle(key="p01:workshop").set_value(True).run()
    assert "**full** training (3 epochs" in at.info[0].value
    assert "whole photo at 128 px" in at.info[0].value


def test_full_training_draws_both_curves_per_epoch_and_reads_them_back():
    # the workshop preset's recipe, smaller still to keep the suite fast (the browser walk
    # trains the preset itself)
    at = open_page(PAGE, timeout=300)
    at.radio(key="p01:mode").set_value("full").run()
    at.selectbox(key="p01:arch").set_value("efficientnet_lite0").run()
    at.select_slider(key="p01:size").set_value(96).run()
    at.number_input(key="p01:ep").set_value(2).run()
    at.select_slider(key="p01:bs").set_value(32).run()
    at.button(key="p01-train").click().run()
    run_until(at, lambda a: "Validation accuracy" in metric_values(a), timeout=1200, every=3)
    assert not at.exception, at.exception
    curves = chart(at, "curves-train-p01")["data"]
    for trace in curves:  # training and validation, loss and accuracy, epoch by epoch
        assert trace["type"] == "scatter" and trace["x"] == [0, 1, 2], trace["name"]
    assert {t["name"] for t in curves} == {"training", "validation"}
    said = " ".join(m.value for m in at.markdown)
    assert "of its training photos" in said and "validation photos" in said
    (modes,) = [d.value for d in at.dataframe if "mode" in d.value.columns]
    assert list(modes["mode"]) == ["quick (last layer only)", "full (2 epochs)"]
    truth = [m.value for m in at.markdown if "(truth)" in m.value]
    assert len(truth) == 8, "every top loss lists every class's score, the truth marked"
    assert all(m.count("%") == 4 for m in truth)
    assert not [c for c in at.caption if c.value.startswith("features: ")]
    assert_top_losses_show_where_the_model_looked(at)


def assert_top_losses_show_where_the_model_looked(at: AppTest) -> None:
    """Every top-loss tile is a photo with its Grad-CAM heatmap blended over it: an image
    (not a message) that matches none of the sample photos as they are."""
    import numpy as np
    from PIL import Image

    from cvlib.data.images import load_image, thumbnail

    _, pictures = at.session_state["p01:top-loss-cams"]
    assert len(pictures) == 8 and all(isinstance(p, Image.Image) for p in pictures.values())
    bare = [np.asarray(thumbnail(load_image(path), 320).convert("RGB"), dtype=float)
            for path in sorted((REPO / "sample_data" / "fridge4").rglob("*.jpg"))]
    for picture in pictures.values():
        tile = np.asarray(picture, dtype=float)
        closest = min(np.abs(tile - photo).mean() for photo in bare if photo.shape == tile.shape)
        assert closest > 2, "a top-loss tile is the bare photo, without its heatmap"


def test_the_learning_rate_finder_runs_in_the_background_and_stops():
    at = open_page(PAGE)
    at.toggle(key="p01:workshop").set_value(True).run()
    at.button(key="p01:lrfind").click().run()
    stop = [b for b in at.button if b.label.startswith("⏹ Stop")]
    assert stop, "the finder is a job with a Stop button, not a blocking spinner"
    stop[0].click().run()
    run_until(at, lambda a: any("no learning rate" in w.value for w in a.warning))
    assert not at.exception


def test_the_finders_plot_stays_when_its_suggestion_is_used_and_goes_with_other_settings():
    from cvlib.data.dataset import load_dataset
    from cvlib.training.config import TrainConfig
    from ui.training import lr_finder_context

    data = load_dataset(REPO / "sample_data" / "fridge4")
    base = TrainConfig(mode="full", image_size=128, epochs=3, lr=1e-3)
    same = [TrainConfig(mode="full", image_size=128, epochs=6, lr=3.3e-4, schedule="flat")]
    other = [TrainConfig(mode="full", image_size=160, epochs=3, lr=1e-3),
             TrainConfig(mode="full", image_size=128, epochs=3, lr=1e-3, batch_size=8)]
    assert {lr_finder_context(data, c) for c in [base, *same]} == {
        lr_finder_context(data, base)}
    assert all(lr_finder_context(data, c) != lr_finder_context(data, base) for c in other)


def test_the_suggested_rate_is_applied_with_one_click():
    def script():
        import streamlit as st

        from cvlib.training.config import TrainConfig
        from cvlib.training.presets import WORKSHOP_TRAINING
        from ui.training import training_settings, use_learning_rate

        config = training_settings("t", workshop=WORKSHOP_TRAINING)
        st.button("use", key="use", on_click=use_learning_rate,
                  args=("t", TrainConfig(**WORKSHOP_TRAINING), 3.3e-4))
        st.write(f"lr={config.lr} mode={config.mode} size={config.image_size}")

    at = AppTest.from_function(script, default_timeout=60)
    at.run()
    at.toggle(key="t:workshop").set_value(True).run()
    at.button(key="use").click().run()
    assert not at.exception
    assert at.toggle(key="t:workshop").value is False
    assert at.number_input(key="t:lr").value == 3.3e-4
    assert at.markdown[-1].value == "lr=0.00033 mode=full size=128"


def quick_training(folder: Path | None, size: int) -> AppTest:
    """Page 01 after quick training Lite0 at ``size`` px on ``folder`` (the sample data if
    None), with its validation results shown."""
    at = open_page(PAGE)
    if folder is not None:
        at.radio(key="tutorial:single-source").set_value("A folder on this machine").run()
        at.text_input(key="tutorial:single-folder").set_value(str(folder)).run()
    at.radio(key="p01:mode").set_value("quick").run()
    at.select_slider(key="p01:size").set_value(size).run()
    at.selectbox(key="p01:arch").set_value("efficientnet_lite0").run()
    at.button(key="p01-train").click().run()
    run_until(at, lambda a: "Validation accuracy" in metric_values(a))
    assert not at.exception
    return at


def validation_accuracy(at: AppTest) -> float:
    """The validation accuracy card, in percent."""
    return float(metric_values(at)["Validation accuracy"].rstrip("%"))


def test_quick_training_shows_validation_results():
    """On the sample data (measured: 22 of 24 validation photos, 91.7 %): good, never
    perfect, so a learner has confusions and top losses to look at, as on real photos."""
    at = quick_training(None, 128)
    assert 75 <= validation_accuracy(at) < 100
    assert metric_values(at)["Validation images"] == "24"
    assert any("Confusion matrix" in md.value for md in at.markdown)
    assert {t["type"] for t in chart(at, "curves-train-p01")["data"]} == {"bar"}


def test_quick_training_on_real_photos_reaches_80_percent(groceries4):
    at = quick_training(groceries4, 224)
    assert validation_accuracy(at) >= 80
    assert metric_values(at)["Validation images"] == "32"


def test_an_unknown_folder_gives_a_message_not_a_crash(tmp_path):
    at = open_page(PAGE)
    at.radio(key="tutorial:single-source").set_value("A folder on this machine").run()
    at.text_input(key="tutorial:single-folder").set_value(str(tmp_path / "missing")).run()
    assert not at.exception
    assert at.error and "missing" in at.error[0].value
