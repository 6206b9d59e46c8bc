"""Page 11 as a learner meets it: a workshop grid on the sample data, heatmaps, the winner."""

from __future__ import annotations

from tests.apptest_helpers import metric_values, open_page, run_until

PAGE = "pages/11_Hyperparameters.py"


def test_the_workshop_grid_runs_and_shows_heatmaps_and_the_best_setting():
    at = open_page(PAGE)
    assert not at.exception
    at.toggle(key="p11:workshop").set_value(True).run()
    assert metric_values(at)["Cells"] == "8"
    at.multiselect(key="p11:grid:lr:True").set_value([1e-4, 1e-3]).run()
    assert metric_values(at)["Cells"] == "16"
    assert any("cannot change the result" in i.value and "only 8 distinct runs" in i.value
               for i in at.info)
    at.button(key="p11:run").click().run()
    run_until(at, lambda a: any("Best setting" in s.value for s in a.success))
    assert not at.exception and not at.error
    assert "weight_decay" in at.success[0].value
    charts = at.get("plotly_chart")
    assert len(charts) >= 1 + 3  # the heatmap and a box plot per swept setting
    assert at.get("download_button")
    at.button(key="p11:run").click().run()  # again: everything is stored already
    run_until(at, lambda a: any("0 trained now" in c.value for c in a.caption))
