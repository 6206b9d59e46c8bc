"""Local hyperparameter grids: every combination of some settings, trained, stored, compared.

A grid names a few values for a few settings (learning rate, image size, backbone, weight
decay...) and trains one model per combination, per repeat (a different seed, so a
different validation split) and per dataset.  Averaging over repeats separates real effects
from the luck of the split; the spread says how much luck there is.

Each finished run is stored at once, atomically, under ``<studio home>/sweeps/cells``, keyed
by the data's fingerprint and the settings that actually change the result: running the
same grid again skips what is done, and a crash loses only the run in flight.  In *quick*
mode only the linear head is trained, so settings that only shape fine-tuning (learning
rate, epochs, batch size, augmentation, dropout, schedule) cannot change the result; cells
that differ only in those share one run instead of repeating it.

This module is torch-free at import (pages import it); running a sweep imports training.

Examples
--------
>>> grid = Grid.from_dict({"grid": {"weight_decay": [1e-4, 1e-2], "image_size": [192, 224]},
...                        "fixed": {"architecture": "efficientnet_lite0"}, "repeats": 2},
...                       datasets=["../shared/data/groceries4"])
>>> result = run_sweep(grid)
>>> best_setting(result.rows)["settings"]
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import itertools
import json
import math
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cvlib.data.dataset import Dataset, fingerprint, load_dataset
from cvlib.errors import Cancelled, StudioError
from cvlib.models.registry import get_spec
from cvlib.runtime.progress import Progress, child_progress
from cvlib.storage.home import studio_home
from cvlib.storage.persist import atomic_write_json, read_json
from cvlib.training.config import MODES, REGIONS, SCHEDULES, TrainConfig

PARAMETERS: dict[str, type] = {
    "mode": str, "architecture": str, "image_size": int, "weight_decay": float,
    "label_smoothing": float, "lr": float, "epochs": int, "batch_size": int, "augment": bool,
    "dropout": float, "schedule": str, "freeze_epochs": int, "regions": str,
}
"""Settings a grid may sweep or fix, with their types (all are :class:`TrainConfig` fields)."""

CHOICES = {"mode": MODES, "schedule": SCHEDULES, "regions": REGIONS}
"""Settings that take one of a few names."""

ALIASES = {"backbone": "architecture", "learning_rate": "lr", "augmentation": "augment"}
"""Friendlier names accepted in grid files."""

QUICK_IGNORED = ("lr", "epochs", "batch_size", "augment", "dropout", "schedule",
                 "freeze_epochs")
"""Settings that only shape fine-tuning, so cannot change a quick-mode result."""

CURVE_METRICS = ("last_accuracy", "last_valid_loss", "last_train_loss", "peak_valid_loss",
                 "start_accuracy", "start_valid_loss")
"""What full training itself did, read off its curve (epoch 0 is the starting quick head):
the kept model alone can hide it, since it may be that very head."""

METRICS = ("accuracy", "loss", "train_s", *CURVE_METRICS)
"""What each run reports; higher accuracy is better, lower loss and time are better."""

ACCURACIES = ("accuracy", "last_accuracy", "start_accuracy")
"""Metrics that are shares of photos right: 0 to 1, more is better (the others: less)."""


@dataclass
class Grid:
    """Which settings to sweep (``axes``), which to fix, how many repeats, on which data.

    Repeat ``r`` uses seed ``seed + r``: another validation split and initialisation.
    """

    axes: dict[str, list[Any]]
    fixed: dict[str, Any] = field(default_factory=dict)
    repeats: int = 1
    datasets: list[str] = field(default_factory=list)

    @classmethod
    def from_dict(cls, spec: dict[str, Any], datasets: Sequence[str | Path] = ()) -> Grid:
        """Read a grid file's content: ``grid:`` (lists), ``fixed:``, ``repeats:``, ``datasets:``.

        Top-level settings are accepted too: a list sweeps, a single value is fixed.
        ``datasets`` given here are added to those in the file.
        """
        if not isinstance(spec, dict):
            raise StudioError("a grid must be a mapping, e.g. {grid: {lr: [1e-4, 1e-3]}}")
        axes, fixed = {}, {}
        for name, value in _settings(spec).items():
            values = value if isinstance(value, list) else [value]
            if not values:
                raise StudioError(f"grid setting {name!r} has no values")
            checked = list(dict.fromkeys(_check_value(name, v) for v in values))
            if len(checked) > 1:
                axes[name] = checked
            else:
                fixed[name] = checked[0]
        repeats = int(spec.get("repeats", 1))
        if repeats < 1:
            raise StudioError("repeats must be at least 1")
        found = [str(d) for d in spec.get("datasets") or []] + [str(d) for d in datasets]
        if not found:
            raise StudioError("the sweep needs at least one dataset")
        return cls(axes, fixed, repeats, list(dict.fromkeys(found)))

    def to_dict(self) -> dict[str, Any]:
        """The grid as a grid file would hold it (JSON / YAML ready)."""
        return {"grid": self.axes, "fixed": self.fixed, "repeats": self.repeats,
                "datasets": self.datasets}

    def n_cells(self) -> int:
        """Combinations × repeats × datasets."""
        return math.prod(len(v) for v in self.axes.values()) * self.repeats * len(self.datasets)

    def config(self, settings: dict[str, Any], repeat: int = 0) -> TrainConfig:
        """The training settings of one cell (or of the best setting, to train it for real)."""
        values = {**self.fixed, **settings}
        seed = int(values.pop("seed", 42)) + repeat
        return TrainConfig(**values, seed=seed)

    def quick_ignored(self) -> list[str]:
        """Swept settings that cannot matter because every cell trains in quick mode."""
        if "full" in self.axes.get("mode", [self.fixed.get("mode", "quick")]):
            return []
        return [name for name in self.axes if name in QUICK_IGNORED]


def _settings(spec: dict[str, Any]) -> dict[str, Any]:
    """Every setting in a grid file, aliases resolved; unknown keys are an error."""
    merged: dict[str, Any] = {}
    nested = {**(spec.get("fixed") or {}), **(spec.get("grid") or {})}
    top = {k: v for k, v in spec.items() if k not in ("grid", "fixed", "repeats", "datasets")}
    for name, value in {**nested, **top}.items():
        canonical = ALIASES.get(name, name)
        if canonical not in PARAMETERS and canonical != "seed":
            raise StudioError(f"unknown grid setting {name!r}; known: "
                              f"{', '.join([*PARAMETERS, *ALIASES])}")
        merged[canonical] = value
    return merged


def _check_value(name: str, value: Any) -> Any:
    """One value cast to its setting's type, with a clear message when it cannot be."""
    kind = PARAMETERS.get(name, int)
    try:
        if kind is bool:
            if isinstance(value, str):
                value = value.strip().lower() in ("1", "true", "yes", "on")
            return bool(value)
        cast = kind(value)
    except (TypeError, ValueError):
        raise StudioError(f"{name}: {value!r} is not a {kind.__name__}") from None
    if name in CHOICES and cast not in CHOICES[name]:
        raise StudioError(f"{name} must be one of {CHOICES[name]}, not {cast!r}")
    if name == "architecture":
        get_spec(cast)
    return cast


def load_grid(path: str | Path, datasets: Sequence[str | Path] = ()) -> Grid:
    """Read a YAML or JSON grid file (``yaml.safe_load``: data only, never code)."""
    import yaml

    try:
        spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise StudioError(f"cannot read the grid {path}: {exc}") from exc
    return Grid.from_dict(spec, datasets)


@dataclass(frozen=True)
class Cell:
    """One combination of settings, on one dataset, for one repeat."""

    index: int
    dataset: str
    settings: dict[str, Any]
    repeat: int


def cells(grid: Grid) -> list[Cell]:
    """Every cell of the grid, datasets outermost and repeats innermost."""
    names = list(grid.axes)
    combos = [dict(zip(names, values, strict=True)) for values in _product(grid.axes)]
    out: list[Cell] = []
    for dataset in grid.datasets:
        for combo in combos:
            for repeat in range(grid.repeats):
                out.append(Cell(len(out), dataset, combo, repeat))
    return out


def _product(axes: dict[str, list[Any]]) -> Iterator[tuple[Any, ...]]:
    """Cartesian product of the axes, first axis slowest."""
    return itertools.product(*axes.values())


def effective_settings(config: TrainConfig) -> dict[str, Any]:
    """The settings that can change the result: quick mode drops the fine-tuning ones."""
    settings = config.to_dict()
    if config.mode == "quick":
        for name in QUICK_IGNORED:
            settings.pop(name, None)
    return settings


def run_key(data_fingerprint: str, config: TrainConfig) -> str:
    """Identity of a run: the exact data and the settings that matter (sha256 hex)."""
    text = json.dumps({"data": data_fingerprint, "settings": effective_settings(config)},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class SweepStore:
    """Finished runs on disk, one small JSON each, written atomically as they finish."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = root or studio_home() / "sweeps"

    def _path(self, key: str) -> Path:
        return self.root / "cells" / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """A stored run, or None (a damaged file counts as not done)."""
        path = self._path(key)
        if not path.is_file():
            return None
        try:
            record = read_json(path)
        except (json.JSONDecodeError, UnicodeDecodeError, OSError):
            return None
        return record if isinstance(record, dict) and "metrics" in record else None

    def put(self, key: str, record: dict[str, Any]) -> None:
        """Store one finished run (a kill leaves the old state, never half a file)."""
        atomic_write_json(self._path(key), record)


@dataclass
class PlannedCell:
    """A cell with its full settings and the key of the run that answers it."""

    cell: Cell
    config: TrainConfig
    key: str


@dataclass
class SweepPlan:
    """The grid's cells resolved to runs: how many are distinct, how many already done."""

    grid: Grid
    planned: list[PlannedCell]
    datasets: dict[str, Dataset]

    def run_keys(self) -> list[str]:
        """Distinct runs in grid order (cells with the same effective settings share one)."""
        return list(dict.fromkeys(p.key for p in self.planned))

    def pending(self, store: SweepStore) -> list[PlannedCell]:
        """The first cell of each distinct run not stored yet."""
        first: dict[str, PlannedCell] = {}
        for p in self.planned:
            first.setdefault(p.key, p)
        return [p for key, p in first.items() if store.get(key) is None]


def plan_sweep(grid: Grid) -> SweepPlan:
    """Load every dataset once and give every cell its settings and run key."""
    datasets = {path: load_dataset(path) for path in grid.datasets}
    prints = {path: fingerprint(ds) for path, ds in datasets.items()}
    planned = []
    for cell in cells(grid):
        config = grid.config(cell.settings, cell.repeat)
        planned.append(PlannedCell(cell, config, run_key(prints[cell.dataset], config)))
    return SweepPlan(grid, planned, datasets)


@dataclass
class SweepResult:
    """One row per cell (settings, repeat, metrics), and what the sweep cost."""

    rows: list[dict[str, Any]]
    n_runs: int
    n_trained: int
    wall_s: float


def run_sweep(grid: Grid, *, store: SweepStore | None = None,
              progress: Progress | None = None) -> SweepResult:
    """Train every distinct run of the grid that is not stored yet, storing each at once.

    Features for quick-mode runs are computed (or found in the cache) first, so the runs
    themselves only fit linear heads.  Stop (``progress.cancel()``) ends between runs;
    everything finished so far stays stored.
    """
    start = time.perf_counter()
    store = store or SweepStore()
    progress = progress or Progress()
    plan = plan_sweep(grid)
    pending = plan.pending(store)
    ignored = grid.quick_ignored()
    if ignored:
        progress.log(f"quick mode: {', '.join(ignored)} cannot change the result; "
                     f"{grid.n_cells()} cells need {len(plan.run_keys())} runs")
    progress.log(f"{len(plan.run_keys()) - len(pending)} run(s) already stored, "
                 f"{len(pending)} to train")
    _prefetch_features(plan, pending, progress)
    for i, planned in enumerate(pending):
        progress.check()
        progress.update(stage=f"run {i + 1}/{len(pending)}", step=i, total=len(pending))
        record = _train_cell(plan, planned, progress)
        store.put(planned.key, record)
        progress.add_record({"cell": planned.cell.index, **planned.cell.settings,
                             "repeat": planned.cell.repeat, **record["metrics"],
                             **_curve_columns(record), "train_s": record["train_s"]})
    progress.update(stage="done", step=len(pending), total=len(pending))
    return SweepResult(collect(plan, store), len(plan.run_keys()), len(pending),
                       round(time.perf_counter() - start, 2))


def _prefetch_features(plan: SweepPlan, pending: list[PlannedCell], progress: Progress) -> None:
    """Fill the feature cache for every backbone / size that the pending runs need."""
    from cvlib.training.features import FeatureSpec, extract_features

    needed: dict[tuple[str, FeatureSpec], TrainConfig] = {}
    for p in pending:
        spec = FeatureSpec.of(p.config, plan.datasets[p.cell.dataset].multi_label)
        needed.setdefault((p.cell.dataset, spec), p.config)
    for (dataset_path, spec), config in needed.items():
        progress.check()
        progress.log(f"features of {Path(dataset_path).name}: {config.describe()}")
        paths = [item.path for item in plan.datasets[dataset_path].items]
        extract_features(paths, spec, progress=child_progress(progress))


def _train_cell(plan: SweepPlan, planned: PlannedCell, progress: Progress) -> dict[str, Any]:
    """Train one run and return its stored record; a stopped run is not stored."""
    from cvlib.evaluation.metrics import summary
    from cvlib.training.train import train

    child = child_progress(progress)
    with torch_threads(1 if planned.config.mode == "quick" else None):
        result = train(plan.datasets[planned.cell.dataset], planned.config, progress=child)
    if progress.cancelled or result.stopped_early:
        raise Cancelled("stopped on request; finished runs are kept")
    record = {"key": planned.key, "dataset": planned.cell.dataset,
              "settings": effective_settings(planned.config),
              "metrics": {k: v for k, v in summary(result.metrics).items()
                          if k in ("accuracy", "loss", "n")},
              "train_s": result.timings["total_s"],
              "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    training = training_summary(result.history, result.kept_epoch)
    if training is not None:
        record["training"] = training
        record["curve"] = [{k: r[k] for k in CURVE_FIELDS if k in r} for r in result.history]
    return record


CURVE_FIELDS = ("epoch", "train_loss", "valid_loss", "train_accuracy", "accuracy")
"""What a stored run keeps of each epoch of its training curve."""


def training_summary(history: Sequence[dict[str, Any]], kept_epoch: int | None
                     ) -> dict[str, Any] | None:
    """What full training did at these settings, from its per-epoch record.

    The kept model holds the epoch with the lowest validation loss, the starting quick
    head (epoch 0) included; at a learning rate that is useless or harmful that *is* the
    starting head, and its accuracy says nothing of what the training did.  So a run also
    keeps the start, the last epoch, the worst validation loss on the way, and whether it
    kept the start.  None for quick mode (no epochs).
    """
    start = next((r for r in history if r.get("epoch") == 0), None)
    epochs = [r for r in history if r.get("epoch", 0) > 0]
    if start is None or not epochs:
        return None
    last = epochs[-1]
    return {"start_accuracy": start["accuracy"], "start_valid_loss": start["valid_loss"],
            "last_accuracy": last["accuracy"], "last_valid_loss": last["valid_loss"],
            "last_train_loss": last["train_loss"],
            "peak_valid_loss": max(r["valid_loss"] for r in epochs),
            "epochs": len(epochs), "kept_epoch": kept_epoch,
            "kept_start": kept_epoch == 0 if kept_epoch is not None else None}


@contextlib.contextmanager
def torch_threads(n: int | None) -> Iterator[None]:
    """Run a block with ``n`` torch threads (None: leave as is), then restore.

    A quick run's head fit multiplies a few hundred by 1280 numbers: on a busy CPU, handing
    such small pieces to several threads costs more than the arithmetic (measured here: 8 s
    with 2 threads, 1 s with one).  Torch's thread count is per process, so this is only
    used around short quick-mode fits.
    """
    if n is None:
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def collect(plan: SweepPlan, store: SweepStore) -> list[dict[str, Any]]:
    """One row per cell: dataset, swept settings, repeat, metrics (None while not run).

    ``shared`` names the first cell whose run answers this one, when that is another cell.
    The :data:`CURVE_METRICS` and ``kept_start`` are None for quick runs and for runs stored
    before sweeps kept them.
    """
    rows: list[dict[str, Any]] = []
    first: dict[str, int] = {}
    for p in plan.planned:
        first.setdefault(p.key, p.cell.index)
        record = store.get(p.key) or {}
        metrics = record.get("metrics", {})
        rows.append({"cell": p.cell.index, "dataset": Path(p.cell.dataset).name,
                     **p.cell.settings, "repeat": p.cell.repeat, "seed": p.config.seed,
                     "accuracy": metrics.get("accuracy"), "loss": metrics.get("loss"),
                     **_curve_columns(record), "train_s": record.get("train_s"),
                     "shared": first[p.key] if first[p.key] != p.cell.index else None})
    return rows


def _curve_columns(record: dict[str, Any]) -> dict[str, Any]:
    """A stored run's curve figures as result columns (all None when it has none)."""
    training = record.get("training") or {}
    return {**{name: training.get(name) for name in CURVE_METRICS},
            "kept_start": training.get("kept_start")}


def _done(rows: Sequence[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """Rows that have a value for ``metric``."""
    return [r for r in rows if r.get(metric) is not None]


def _stats(values: list[float]) -> dict[str, float]:
    """Mean, standard deviation (0 for one value), count, min and max."""
    return {"mean": statistics.fmean(values),
            "std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "n": len(values), "min": min(values), "max": max(values)}


def aggregate(rows: Sequence[dict[str, Any]], by: Sequence[str],
              metric: str = "accuracy") -> list[dict[str, Any]]:
    """Mean and spread of ``metric`` for each combination of the ``by`` settings.

    Everything else (repeats, other settings, datasets) is averaged over, so each group's
    spread shows how much the result moves when only those other things change.
    """
    groups: dict[tuple[Any, ...], list[float]] = {}
    for row in _done(rows, metric):
        groups.setdefault(tuple(row.get(name) for name in by), []).append(float(row[metric]))
    return [{**dict(zip(by, values, strict=True)), **_stats(found)}
            for values, found in groups.items()]


@dataclass
class HeatmapData:
    """Mean (and spread, count) of a metric on a grid of two settings; None where not run."""

    x: str
    y: str
    x_values: list[Any]
    y_values: list[Any]
    mean: list[list[float | None]]
    std: list[list[float | None]]
    count: list[list[int]]


def heatmap_data(rows: Sequence[dict[str, Any]], x: str, y: str | None = None,
                 metric: str = "accuracy") -> HeatmapData:
    """The metric averaged over everything but ``x`` and ``y``; rows are ``y``, columns ``x``.

    Without ``y`` (only one setting was swept) there is one row, ``"all runs"``: a setting
    against itself would only fill the diagonal.
    """
    x_values = _ordered({r.get(x) for r in rows})
    if y is None:
        found = {(g[x], ALL_RUNS): g for g in aggregate(rows, [x], metric)}
        y_values = [ALL_RUNS]
    else:
        found = {(g[x], g[y]): g for g in aggregate(rows, [x, y], metric)}
        y_values = _ordered({r.get(y) for r in rows})
    mean = [[found[(a, b)]["mean"] if (a, b) in found else None for a in x_values]
            for b in y_values]
    std = [[found[(a, b)]["std"] if (a, b) in found else None for a in x_values]
           for b in y_values]
    count = [[found[(a, b)]["n"] if (a, b) in found else 0 for a in x_values] for b in y_values]
    return HeatmapData(x, y or "", x_values, y_values, mean, std, count)


ALL_RUNS = "all runs"
"""The one row of a heatmap over a single setting."""


def _ordered(values: set[Any]) -> list[Any]:
    """Setting values in natural order (numbers by size, text alphabetically)."""
    return sorted(values, key=_natural)


def _natural(value: Any) -> tuple[bool, Any, str]:
    """Sort key that puts numbers by size before text, text alphabetically."""
    return isinstance(value, str), value if not isinstance(value, str) else 0, str(value)


def swept(rows: Sequence[dict[str, Any]]) -> list[str]:
    """Columns that vary across rows and can go on a plot axis (settings, dataset, repeat)."""
    fixed = {"cell", "seed", "shared", "kept_start", *METRICS}
    names = [k for k in (rows[0] if rows else {}) if k not in fixed]
    return [k for k in names if len({str(r.get(k)) for r in rows}) > 1]


def best_setting(rows: Sequence[dict[str, Any]], metric: str = "accuracy"
                 ) -> dict[str, Any] | None:
    """The settings with the best mean ``metric`` over repeats (and datasets).

    Ties go to the smaller spread, then the faster training.  Returns
    ``{"settings": {...}, "mean", "std", "n"}`` or None before any run finished.
    """
    by = [k for k in swept(rows) if k not in ("repeat", "dataset")]
    groups = aggregate(rows, by, metric)
    if not groups:
        return None
    times = {tuple(g[k] for k in by): g["mean"] for g in aggregate(rows, by, "train_s")}
    sign = -1.0 if metric in ACCURACIES else 1.0
    best = min(groups, key=lambda g: (sign * g["mean"], g["std"],
                                      times.get(tuple(g[k] for k in by), 0.0)))
    return {"settings": {k: best[k] for k in by}, "mean": best["mean"], "std": best["std"],
            "n": best["n"]}


BARELY_MOVED = 0.1
"""A run whose validation loss stayed within 10 % of where it started did next to nothing."""

HELPED = 0.05
"""A run helped when some epoch's validation loss got at least 5 % below the start."""

DIVERGED = 2.0
"""A run diverged when its validation loss at least doubled at some epoch."""


@dataclass
class TrainingEffect:
    """What full training did, on average, at one combination of settings (a heatmap cell).

    ``verdict`` is one of ``diverged``, ``helped``, ``barely moved``, ``no better``;
    the losses and accuracies are means over the group's runs; ``best_valid_loss`` is the
    kept model's; ``kept_start`` counts the runs whose kept model is the starting head.
    """

    settings: dict[str, Any]
    verdict: str
    start_valid_loss: float
    best_valid_loss: float
    last_valid_loss: float
    peak_valid_loss: float
    last_train_loss: float
    start_accuracy: float
    last_accuracy: float
    kept_accuracy: float
    kept_start: int
    n: int


def training_effects(rows: Sequence[dict[str, Any]], by: Sequence[str]) -> list[TrainingEffect]:
    """Per combination of the ``by`` settings, what the training did (runs with a curve).

    Runs that share a combination (repeats, datasets, other settings) are averaged first,
    as the heatmap averages them.  Empty for quick grids: nothing trained epoch by epoch.
    """
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for row in _done(rows, "last_valid_loss"):
        groups.setdefault(tuple(row.get(name) for name in by), []).append(row)
    return [_effect(dict(zip(by, values, strict=True)), found)
            for values, found in sorted(groups.items(),
                                        key=lambda g: tuple(map(_natural, g[0])))]


def _effect(settings: dict[str, Any], runs: list[dict[str, Any]]) -> TrainingEffect:
    """The mean curve figures of some runs, and the verdict they add up to."""
    def mean(name: str) -> float:
        return statistics.fmean(float(r[name]) for r in runs)

    start, best = mean("start_valid_loss"), mean("loss")
    last, peak = mean("last_valid_loss"), mean("peak_valid_loss")
    return TrainingEffect(settings, verdict(start, best, last, peak), start, best, last, peak,
                          mean("last_train_loss"), mean("start_accuracy"),
                          mean("last_accuracy"), mean("accuracy"),
                          sum(1 for r in runs if r.get("kept_start")), len(runs))


def verdict(start: float, best: float, last: float, peak: float) -> str:
    """Read a validation-loss curve as the rule of thumb does.

    Too large a learning rate makes the loss jump (``diverged``: it at least doubled);
    a good one brings it down (``helped``: some epoch 5 % or more below the start); too
    small a one leaves it where it was (``barely moved``: every epoch within 10 %).
    Anything else moved without getting better (``no better``).
    """
    if peak >= DIVERGED * start:
        return "diverged"
    if best <= (1 - HELPED) * start:
        return "helped"
    if max(abs(last - start), abs(peak - start)) <= BARELY_MOVED * start:
        return "barely moved"
    return "no better"


def to_csv(rows: Sequence[dict[str, Any]]) -> str:
    """The results table as CSV text, one line per cell."""
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()
