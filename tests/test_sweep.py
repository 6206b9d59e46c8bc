"""Local hyperparameter grids: parsing, deduplication, resuming, aggregation, CLI.

The grid runs in quick mode on the sample data (``sample_data/fridge4``) with EfficientNet-Lite0
at 128 px, whose features the session's ``sample_model_dir`` fixture has already cached.
"""

from __future__ import annotations

import json
import statistics

import pytest

from cvlib.errors import Cancelled, StudioError
from cvlib.runtime.progress import Progress
from cvlib.training.sweep import (
    Grid,
    SweepStore,
    best_setting,
    cells,
    collect,
    heatmap_data,
    load_grid,
    plan_sweep,
    run_sweep,
    to_csv,
    training_effects,
    verdict,
)
from tests.conftest import TINY_LR_GRID
from tests.samples import FRIDGE4, QUICK

LITE0 = {"architecture": QUICK.architecture, "image_size": QUICK.image_size, "mode": "quick"}


def small_grid() -> Grid:
    """2 weight decays × 2 learning rates × 2 repeats = 8 cells; lr is moot in quick mode."""
    return Grid.from_dict({"grid": {"weight_decay": [1e-3, 10.0], "lr": [1e-4, 1e-3]},
                           "fixed": LITE0, "repeats": 2}, [FRIDGE4])


def test_a_grid_file_reads_aliases_flat_settings_and_yaml_safely(tmp_path):
    path = tmp_path / "grid.yaml"
    path.write_text("repeats: 3\nbackbone: efficientnet_lite0\naugmentation: [on, off]\n"
                    "grid:\n  learning_rate: [0.0001, 0.001]\n")
    grid = load_grid(path, [FRIDGE4])
    assert grid.axes == {"lr": [1e-4, 1e-3], "augment": [True, False]}
    assert grid.fixed == {"architecture": "efficientnet_lite0"}
    assert grid.repeats == 3 and grid.n_cells() == 12
    path.write_text("grid: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(StudioError, match="cannot read the grid"):
        load_grid(path, [FRIDGE4])


def test_unknown_settings_and_bad_values_are_refused_with_the_valid_names():
    with pytest.raises(StudioError, match=r"known: .*weight_decay"):
        Grid.from_dict({"grid": {"momentum": [0.9]}}, [FRIDGE4])
    with pytest.raises(StudioError, match="mode must be one of"):
        Grid.from_dict({"mode": "slow"}, [FRIDGE4])
    with pytest.raises(StudioError, match="at least one dataset"):
        Grid.from_dict({"lr": [1e-3]})


def test_quick_cells_that_differ_only_in_fine_tuning_settings_share_one_run():
    grid = small_grid()
    assert grid.quick_ignored() == ["lr"]
    plan = plan_sweep(grid)
    assert len(cells(grid)) == 8
    assert len(plan.run_keys()) == 4  # 2 weight decays × 2 repeats
    full = Grid.from_dict({"grid": {"lr": [1e-4, 1e-3]}, "mode": "full"}, [FRIDGE4])
    assert full.quick_ignored() == []
    assert len(plan_sweep(full).run_keys()) == 2


def test_a_sweep_stores_each_run_and_a_rerun_only_trains_what_is_missing(
        sample_model_dir, tmp_path):
    store = SweepStore(tmp_path / "sweeps")
    grid = small_grid()
    first = run_sweep(grid, store=store)
    assert (first.n_runs, first.n_trained) == (4, 4)
    assert all(row["accuracy"] is not None for row in first.rows)
    shared = [row for row in first.rows if row["shared"] is not None]
    assert len(shared) == 4
    for row in shared:
        assert row["accuracy"] == first.rows[row["shared"]]["accuracy"]

    again = run_sweep(grid, store=store)
    assert again.n_trained == 0 and again.rows == first.rows

    def results(rows):  # a re-trained run takes its own time; everything else must match
        return [{k: v for k, v in row.items() if k != "train_s"} for row in rows]


    lost = sorted((tmp_path / "sweeps" / "cells").glob("*.json"))[0]
    lost.unlink()  # as if the process died while this run was in flight
    resumed = run_sweep(grid, store=store)
    assert resumed.n_trained == 1 and results(resumed.rows) == results(first.rows)


def test_stop_ends_the_sweep_and_keeps_nothing_half_done(tmp_path):
    progress = Progress()
    progress.cancel()
    store = SweepStore(tmp_path / "sweeps")
    with pytest.raises(Cancelled):
        run_sweep(small_grid(), store=store, progress=progress)
    assert not list(tmp_path.rglob("*.json"))


def test_heatmaps_average_over_repeats_and_show_the_spread(sample_model_dir, tmp_path):
    rows = run_sweep(small_grid(), store=SweepStore(tmp_path / "s")).rows
    data = heatmap_data(rows, "weight_decay", "lr")
    assert data.x_values == [1e-3, 10.0] and data.y_values == [1e-4, 1e-3]
    assert data.count == [[2, 2], [2, 2]]
    for j, wd in enumerate(data.x_values):
        values = [r["accuracy"] for r in rows if r["weight_decay"] == wd and r["lr"] == 1e-4]
        assert data.mean[0][j] == pytest.approx(statistics.fmean(values))
        assert data.std[0][j] == pytest.approx(statistics.stdev(values))
        assert data.mean[0][j] == data.mean[1][j]  # lr cannot matter in quick mode
    # A weight decay of 10 all but forbids the head to fit: the grid must find that out.
    best = best_setting(rows)
    assert best["settings"]["weight_decay"] == 1e-3
    assert best["mean"] > data.mean[0][1]
    csv_text = to_csv(rows)
    assert csv_text.splitlines()[0].startswith("cell,dataset,weight_decay,lr,repeat")
    assert len(csv_text.splitlines()) == 1 + len(rows)


def test_the_command_line_runs_a_grid_file_and_prints_json(sample_model_dir, tmp_path,
                                                           capsys):
    from cvlib.cli import main

    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"grid": {"weight_decay": [1e-3, 1e-2]}, **LITE0}))
    assert main(["sweep", "--grid", str(grid), "--data", str(FRIDGE4), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n_cells"] == 2 and report["n_runs"] == 2
    assert report["best"]["settings"]["weight_decay"] in (1e-3, 1e-2)
    assert main(["sweep", "--grid", str(grid), "--data", str(FRIDGE4), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n_trained"] == 0


def rows_of(lrs: list[float], accuracies: list[float]) -> list[dict]:
    """Result rows of a one-setting grid, as ``collect`` makes them."""
    return [{"cell": i, "dataset": "fridge4", "lr": lr, "repeat": 0, "seed": 42,
             "accuracy": acc, "loss": 1 - acc, "train_s": 1.0, "shared": None}
            for i, (lr, acc) in enumerate(zip(lrs, accuracies, strict=True))]


def test_with_one_swept_setting_the_heatmap_has_one_row_not_the_setting_twice():
    from ui.sweep import heatmap_figure

    data = heatmap_data(rows_of([1e-5, 1e-3, 1e-2], [0.9, 0.95, 0.7]), "lr")
    assert data.y_values == ["all runs"] and data.mean == [[0.9, 0.95, 0.7]]
    figure = heatmap_figure(data, "accuracy").to_dict()
    heatmap = figure["data"][0]
    assert list(heatmap["y"]) == ["all runs"]
    assert (heatmap["zmin"], heatmap["zmax"]) == (0.7, 0.95)  # the colour bar spans the data


def test_a_flat_grid_keeps_its_colour_bar_and_accuracy_axis_inside_zero_to_one():
    from ui.sweep import box_figure, heatmap_figure

    rows = rows_of([1e-5, 1e-3, 1e-2], [1.0, 1.0, 1.0])
    heatmap = heatmap_figure(heatmap_data(rows, "lr"), "accuracy").to_dict()["data"][0]
    assert 0.98 <= heatmap["zmin"] < heatmap["zmax"] <= 1.0
    layout = box_figure(rows, "lr", "accuracy").to_dict()["layout"]
    assert layout["yaxis"]["range"] == [0, 1.02]


def test_learning_rates_and_weight_decays_go_on_a_log_axis_other_settings_on_categories():
    from ui.sweep import box_figure

    rows = rows_of([1e-5, 1e-3, 1e-2], [0.9, 0.95, 0.7])
    assert box_figure(rows, "lr", "accuracy").to_dict()["layout"]["xaxis"]["type"] == "log"
    sizes = [{**r, "image_size": size} for r, size in zip(rows, [96, 160, 224], strict=True)]
    layout = box_figure(sizes, "image_size", "accuracy").to_dict()["layout"]
    assert layout["xaxis"]["type"] == "category"


def test_each_full_training_cell_records_what_its_learning_rate_did(lr_sweep):
    small, large = sorted(lr_sweep.rows, key=lambda r: r["lr"])
    for row in (small, large):  # both start from the same quick head, on the same split
        assert row["start_accuracy"] == small["start_accuracy"]
        assert row["last_valid_loss"] is not None and row["last_train_loss"] is not None
    assert abs(small["last_valid_loss"] - small["start_valid_loss"]) < 0.1  # barely moved
    assert large["peak_valid_loss"] > 2 * large["start_valid_loss"]  # blew up
    assert large["last_accuracy"] < small["last_accuracy"]
    # no epoch beat the head at 1e-1, so the kept model is the head: same accuracy as at 1e-5
    assert large["kept_start"] is True
    assert large["accuracy"] == large["start_accuracy"]
    effects = training_effects(lr_sweep.rows, ["lr"])
    assert [(e.settings, e.verdict) for e in effects][1] == ({"lr": 1e-1}, "diverged")
    assert effects[0].verdict in ("barely moved", "helped")


def test_a_run_stored_before_curves_were_kept_is_still_read(lr_sweep, repo_root, tmp_path):
    grid = Grid.from_dict(TINY_LR_GRID, [repo_root / "sample_data" / "fridge4"])
    plan = plan_sweep(grid)
    store = SweepStore(tmp_path / "sweeps")
    old = {"key": plan.planned[0].key, "metrics": {"accuracy": 0.875, "loss": 0.25, "n": 24},
           "train_s": 12.0}  # what a sweep stored before it kept the training curve
    store.put(plan.planned[0].key, old)
    (row, missing) = collect(plan, store)
    assert row["accuracy"] == 0.875 and row["last_accuracy"] is None
    assert row["kept_start"] is None and missing["accuracy"] is None
    assert training_effects([row], ["lr"]) == []
    stored = json.loads(next((tmp_path / "sweeps" / "cells").glob("*.json")).read_text())
    assert "training" not in stored


def test_the_verdicts_follow_the_learning_rate_rule_of_thumb():
    assert verdict(start=0.25, best=0.248, last=0.248, peak=0.249) == "barely moved"
    assert verdict(start=0.69, best=0.52, last=0.57, peak=0.57) == "helped"
    assert verdict(start=0.25, best=0.25, last=1.4, peak=1.75) == "diverged"
    assert verdict(start=0.25, best=0.25, last=0.39, peak=0.39) == "no better"


def test_the_heatmap_puts_learning_rates_on_a_log_axis_and_losses_from_zero(lr_sweep):
    from ui.sweep import heatmap_figure, metric_choices, training_caption

    assert metric_choices(lr_sweep.rows)[:4] == ["accuracy", "loss", "last_accuracy",
                                                 "last_valid_loss"]
    figure = heatmap_figure(heatmap_data(lr_sweep.rows, "lr", metric="last_valid_loss"),
                            "last_valid_loss").to_dict()
    heatmap, xaxis = figure["data"][0], figure["layout"]["xaxis"]
    assert list(heatmap["x"]) == pytest.approx([-5, -1])  # log10 of the learning rates
    assert list(xaxis["ticktext"]) == ["1e-05", "1e-01"] and "log scale" in xaxis["title"]["text"]
    assert heatmap["zmin"] >= 0 and heatmap["zmax"] > 2 * heatmap["zmin"]
    caption = training_caption(training_effects(lr_sweep.rows, ["lr"]))
    assert "Learning rate 1e-01: **diverged**" in caption
    assert "kept model *is* the head" in caption and "At 1e-01 no epoch" in caption
