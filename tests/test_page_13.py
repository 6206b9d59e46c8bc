"""Page 13 shows a run's mistakes cell by cell, sorted by loss, and the run history."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cvlib.data.dataset import load_dataset
from cvlib.training.runs import RunRecord, attach_model, load_run
from cvlib.training.workflow import train_and_record
from tests.samples import FRIDGE4, QUICK, REPO

PAGE = "pages/13_Errors_and_history.py"


@pytest.fixture(scope="module")
def recorded_run(sample_model_dir: Path) -> RunRecord:
    """A recorded quick run on the sample data whose model is saved (Grad-CAM needs one):
    the run that made ``sample_model_dir``, repeated (cached features: seconds)."""
    result = train_and_record(load_dataset(FRIDGE4), QUICK, surface="test")
    attach_model(result.meta["run_id"], sample_model_dir)
    return load_run(result.meta["run_id"])


def open_page() -> AppTest:
    app = AppTest.from_file(str(REPO / "app.py"), default_timeout=300)
    app.switch_page(PAGE)
    return app.run()


def run_until(app: AppTest, done, timeout: float = 300) -> AppTest:
    """Rerun the page while the background job works, until ``done(app)``."""
    deadline = time.time() + timeout
    while not done(app):
        assert time.time() < deadline, "the page never finished"
        time.sleep(1)
        app.run()
    return app


def test_the_mistakes_open_cell_by_cell_worst_first(recorded_run):
    app = open_page()
    assert not app.exception
    app.selectbox(key="p13:run").set_value(recorded_run.id).run()
    app.button(key="p13:analyse").click().run()
    run_until(app, lambda a: any(s.key == "p13:cell" for s in a.selectbox))
    assert not app.exception and not app.error

    cell = app.selectbox(key="p13:cell")
    assert cell.options[0].startswith("All validation images")
    mistaken = [o for o in cell.options if "mistaken" in o]
    assert mistaken and cell.value == mistaken[0]  # the first confusion opens by itself
    n = int(mistaken[0].split("(")[1].split(",")[0])
    tiles = [c.value for c in app.caption if "· loss" in c.value]
    assert len(tiles) == min(n, 12)
    losses = [float(t.rsplit("loss ", 1)[1]) for t in tiles]
    assert losses == sorted(losses, reverse=True)

    cell.set_value(cell.options[0]).run()
    tiles = [c.value for c in app.caption if "· loss" in c.value]
    assert len(tiles) == 12  # every validation image, the 12 worst shown
    assert any(t.key.startswith("p13:cam-") for t in app.toggle)  # Grad-CAM on demand


def test_the_history_lists_runs_and_compares_two(recorded_run):
    app = open_page()
    assert not app.exception
    table = app.dataframe[0].value
    assert recorded_run.id in set(table["id"])
    if len(table[table["kind"] == "train"]) >= 2:
        assert app.selectbox(key="p13:cmp-a") and app.selectbox(key="p13:cmp-b")
    assert app.button(key="p13:rerun")


def test_every_confusion_cell_carries_a_clickable_marker_at_its_centre():
    """A click on a Plotly heatmap sends Streamlit no selection event; one on a marker does.

    The browser walk clicks a cell in Chromium; this checks the figure it clicks on.
    """
    from ui.errors import _clicked_cell, clickable_confusion_matrix

    classes = ["can", "milk", "water"]
    fig = clickable_confusion_matrix([[3, 1, 0], [0, 4, 0], [2, 0, 5]], classes)
    markers = next(t for t in fig.data if t.type == "scatter")
    cells = list(zip(markers.y, markers.x, markers.customdata, strict=True))
    assert len(cells) == 9 and ("water", "can", 2) in cells  # actual water, predicted can
    assert markers.marker.opacity == 0 and fig.layout.clickmode == "event+select"
    event = {"selection": {"points": [{"x": "can", "y": "water", "curve_number": 1}]}}
    assert _clicked_cell(event, classes) == (2, 0)
