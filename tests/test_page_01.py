"""Page 01 as a learner meets it: pick data, see it, train, read honest results."""

from __future__ import annotations

from tests.apptest_helpers import metric_values, open_page, run_until

PAGE = "pages/01_Training_introduction.py"


def test_page_renders_the_sample_data_summary_before_any_training():
    at = open_page(PAGE)
    assert not at.exception
    metrics = metric_values(at)
    assert metrics["Images"] == "120"
    assert metrics["Classes"] == "4"
    assert metrics["Unreadable"] == "0"
    assert at.button(key="p01-train")


def test_quick_training_on_real_photos_shows_validation_results(groceries4):
    at = open_page(PAGE)
    at.radio(key="tutorial:single-source").set_value("A folder on this machine").run()
    at.text_input(key="tutorial:single-folder").set_value(str(groceries4)).run()
    at.toggle(key="p01:workshop").set_value(True).run()
    assert "efficientnet_lite0" in at.info[0].value
    at.button(key="p01-train").click().run()
    run_until(at, lambda a: "Validation accuracy" in metric_values(a))
    assert not at.exception
    metrics = metric_values(at)
    assert float(metrics["Validation accuracy"].rstrip("%")) >= 80
    assert metrics["Validation images"] == "32"
    assert any("Confusion matrix" in md.value for md in at.markdown)


def test_an_unknown_folder_gives_a_message_not_a_crash(tmp_path):
    at = open_page(PAGE)
    at.radio(key="tutorial:single-source").set_value("A folder on this machine").run()
    at.text_input(key="tutorial:single-folder").set_value(str(tmp_path / "missing")).run()
    assert not at.exception
    assert at.error and "missing" in at.error[0].value
