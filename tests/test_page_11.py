"""Page 11 as a learner meets it: a workshop grid on the sample data, heatmaps, the winner."""

from __future__ import annotations

import json

from cvlib.training.presets import WORKSHOP_GRID, WORKSHOP_GRID_FIXED
from tests.apptest_helpers import metric_values, open_page, run_until

PAGE = "pages/11_Hyperparameters.py"


def test_the_workshop_grid_sweeps_the_learning_rate_of_full_training():
    at = open_page(PAGE)
    at.toggle(key="p11:workshop").set_value(True).run()
    assert not at.exception
    assert metric_values(at)["Cells"] == "3"
    assert at.multiselect(key="p11:grid:lr:True").value == WORKSHOP_GRID["lr"]
    assert at.radio(key="p11:mode").disabled
    assert not any("cannot change the result" in i.value for i in at.info)
    (grid,) = [c.value for c in at.code if "lr:" in c.value]
    assert "mode: full" in grid and f"image_size: {WORKSHOP_GRID_FIXED['image_size']}" in grid


def test_a_quick_grid_runs_and_shows_heatmaps_and_the_best_setting():
    at = open_page(PAGE)
    at.number_input(key="p11:repeats:False").set_value(1).run()
    assert metric_values(at)["Cells"] == "6"  # 3 weight decays x 2 label smoothings
    at.multiselect(key="p11:grid:lr:False").set_value([1e-4, 1e-3]).run()
    assert any("cannot change the result" in i.value and "only 6 distinct runs" in i.value
               for i in at.info)
    at.multiselect(key="p11:grid:lr:False").set_value([]).run()
    at.button(key="p11:run").click().run()
    run_until(at, lambda a: any("Best setting" in s.value for s in a.success))
    assert not at.exception and not at.error
    assert "weight_decay" in at.success[0].value
    charts = at.get("plotly_chart")
    assert len(charts) >= 1 + 2  # the heatmap and a box plot per swept setting
    assert at.get("download_button")

    at.multiselect(key="p11:grid:label_smoothing:False").set_value([]).run()
    assert not [s for s in at.success if "Best setting" in s.value], "another grid now"
    assert any("other data or other settings" in i.value for i in at.info)
    at.button(key="p11:run").click().run()  # stored already: only one setting now
    run_until(at, lambda a: any("0 trained now" in c.value for c in a.caption))
    heatmap = json.loads(at.get("plotly_chart")[0].proto.spec)["data"][0]
    assert heatmap["y"] == ["all runs"], "one swept setting is not put on both axes"


def test_a_learning_rate_grid_opens_on_the_last_epoch_and_says_what_each_rate_did(lr_sweep):
    """The editor's version of the session's tiny grid: its runs are stored, so it is instant."""
    at = open_page(PAGE)
    at.radio(key="p11:mode").set_value("full").run()
    for name, values in {"weight_decay": [], "label_smoothing": [], "image_size": [96],
                         "epochs": [1], "lr": [1e-5, 1e-1]}.items():
        at.multiselect(key=f"p11:grid:{name}:False").set_value(values).run()
    at.number_input(key="p11:repeats:False").set_value(1).run()
    assert metric_values(at)["Cells"] == "2"
    at.button(key="p11:run").click().run()
    run_until(at, lambda a: any("0 trained now" in c.value for c in a.caption))
    assert not at.exception and not at.error
    metric = at.selectbox(key="p11:hm")
    assert metric.value == "last_accuracy"
    assert {"Kept model's accuracy", "Last epoch's validation loss"} <= set(metric.options)
    (said,) = [c.value for c in at.caption if "What the training did" in c.value]
    assert "Learning rate 1e-01: **diverged**" in said and "kept model *is* the head" in said
    heatmap = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert heatmap["data"][0]["y"] == ["all runs"], "one swept setting is not put on both axes"
    assert heatmap["layout"]["xaxis"]["ticktext"] == ["1e-05", "1e-01"]
    small, large = heatmap["data"][0]["z"][0]
    assert large < small  # the last epoch at 1e-1 is far worse: the kept model hid it
