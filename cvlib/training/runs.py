"""Run history: every training, sweep and export leaves a record that can be re-run.

A record is one JSON file under ``<studio home>/runs`` holding what is needed to explain and
repeat the run: the data's fingerprint and root, the validation split, the seed, every
setting, library versions, metrics and timings.  Records are written atomically.

:func:`list_runs` and :func:`load_run` read them back, :func:`compare_runs` lines two up
side by side, and :func:`rerun` repeats a training exactly (the same files, checked by
fingerprint; the same validation files; the same seed and settings), which for quick
training gives the same metrics to the last digit.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cvlib.data.dataset import Dataset
from cvlib.storage.home import studio_home
from cvlib.storage.persist import atomic_write_json, read_json, remove_orphan_temp_files


def runs_dir() -> Path:
    """Where run records live."""
    return studio_home() / "runs"


def new_run_id(kind: str) -> str:
    """Sortable, unique id: time first, then kind and a random suffix."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{kind}-{uuid.uuid4().hex[:6]}"


def save_record(record: dict[str, Any]) -> Path:
    """Write a run record (it must have ``id``); returns its path."""
    return atomic_write_json(runs_dir() / f"{record['id']}.json", record)


def record_training(dataset: Dataset, result, *, model_dir: Path | None = None,
                    page: str | None = None) -> dict[str, Any]:
    """Record a finished training run (the model folder, when saved, is added later).

    The settings are the ones the run used (``result.config``, with ``regions`` decided),
    so a re-run repeats it even if a default changes.
    """
    config = result.config
    from cvlib.evaluation.metrics import summary

    record = {
        "id": new_run_id("train"),
        "kind": "train",
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "page": page,
        "dataset": {"root": str(dataset.root), "fingerprint": result.meta["data_fingerprint"],
                    "n_images": len(dataset), "classes": dataset.classes,
                    "multi_label": dataset.multi_label},
        "split": result.meta["split"],
        "seed": config.seed,
        "settings": config.to_dict(),
        "versions": result.meta["versions"],
        "metrics": summary(result.metrics),
        "estimate": result.meta.get("estimate"),
        "timings": result.timings,
        "stopped_early": result.stopped_early,
        "model_dir": str(model_dir) if model_dir else None,
    }
    save_record(record)
    result.meta["run_id"] = record["id"]
    return record


def attach_model(run_id: str, model_dir: Path) -> None:
    """Note in a run's record where its model was saved."""
    path = runs_dir() / f"{run_id}.json"
    if path.is_file():
        record = read_json(path)
        record["model_dir"] = str(model_dir)
        save_record(record)


def list_runs(kind: str | None = None) -> list[dict[str, Any]]:
    """All readable records, newest first (damaged files are skipped, not fatal)."""
    remove_orphan_temp_files(runs_dir())
    records = []
    for path in sorted(runs_dir().glob("*.json"), reverse=True) if runs_dir().is_dir() else []:
        try:
            record = read_json(path)
        except (json.JSONDecodeError, UnicodeDecodeError, OSError):
            continue
        if isinstance(record, dict) and (kind is None or record.get("kind") == kind):
            records.append(record)
    return records


def record_run(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    """Record a sweep, an export or any other run that is not a single training.

    ``fields`` holds what explains the run (settings, metrics, model folder, dataset...);
    ``id``, ``kind`` and ``created`` are added here.
    """
    record = {"id": new_run_id(kind), "kind": kind,
              "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), **fields}
    save_record(record)
    return record


def load_run(run_id: str) -> dict[str, Any]:
    """One run record by id.

    Raises :class:`~cvlib.errors.StudioError` when there is no such record.
    """
    from cvlib.errors import StudioError

    path = runs_dir() / f"{Path(run_id).name}.json"
    if not path.is_file():
        raise StudioError(f"no run {run_id!r} in {runs_dir()}")
    return read_json(path)


def compare_runs(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """Two records side by side: one row per setting, metric and data fact, with ``same``.

    Rows come in the order a person reads them: the data first, then settings, then the
    results (timings last, as they always differ).
    """
    rows = [_row("data", "dataset", a.get("dataset", {}).get("root"),
                 b.get("dataset", {}).get("root")),
            _row("data", "fingerprint", a.get("dataset", {}).get("fingerprint"),
                 b.get("dataset", {}).get("fingerprint")),
            _row("data", "validation images", len(a.get("split", {}).get("valid", [])),
                 len(b.get("split", {}).get("valid", [])))]
    for section in ("settings", "metrics", "timings"):
        left, right = a.get(section) or {}, b.get(section) or {}
        rows.extend(_row(section, name, left.get(name), right.get(name))
                    for name in [*left, *(k for k in right if k not in left)])
    return rows


def _row(section: str, name: str, left: Any, right: Any) -> dict[str, Any]:
    """One comparison row (floats compared to 6 decimals, so a re-run counts as equal)."""
    same = (round(left, 6) == round(right, 6)
            if isinstance(left, float) and isinstance(right, float) else left == right)
    return {"section": section, "name": name, "a": left, "b": right, "same": same}


def dataset_of(record: dict[str, Any]) -> Dataset:
    """The run's data, refusing data that changed since (fingerprints differ).

    Raises :class:`~cvlib.errors.DatasetError` naming what to do about it.
    """
    from cvlib.data.dataset import fingerprint, load_dataset
    from cvlib.errors import DatasetError

    info = record.get("dataset") or {}
    dataset = load_dataset(info.get("root", ""))
    if fingerprint(dataset) != info.get("fingerprint"):
        raise DatasetError(
            f"the data in {info.get('root')} changed since run {record['id']} (images added, "
            "removed, relabelled or edited), so that run cannot be repeated exactly; "
            "train again to start a new history")
    return dataset


def valid_indices(dataset: Dataset, names: list[str]) -> list[int]:
    """Indices of the recorded validation files (names relative to the dataset root)."""
    from cvlib.errors import DatasetError

    index = {dataset.name_of(item.path): i for i, item in enumerate(dataset.items)}
    missing = [name for name in names if name not in index]
    if missing:
        raise DatasetError(f"{len(missing)} validation image(s) of the run are gone "
                           f"(e.g. {missing[0]})")
    return sorted(index[name] for name in names)


def rerun(record: dict[str, Any], *, progress=None, page: str | None = "rerun"):
    """Repeat a training run exactly: same data (fingerprint checked), same validation
    files, same seed and settings; returns ``(result, new_record)``.

    Quick training is deterministic, so the metrics come out identical; compare them with
    :func:`same_metrics`.
    """
    from cvlib.training.config import TrainConfig
    from cvlib.training.train import train

    dataset = dataset_of(record)
    config = TrainConfig.from_record(record["settings"])
    result = train(dataset, config, progress=progress,
                   valid_idx=valid_indices(dataset, record["split"]["valid"]))
    new = record_training(dataset, result, page=page)
    new["rerun_of"] = record["id"]
    save_record(new)
    return result, new


def same_metrics(a: dict[str, Any], b: dict[str, Any], places: int = 6) -> bool:
    """Whether two records' headline metrics agree (to ``places`` decimals)."""
    left, right = a.get("metrics") or {}, b.get("metrics") or {}
    return left.keys() == right.keys() and all(
        round(float(left[k]), places) == round(float(right[k]), places) for k in left)


@dataclass
class Predictions:
    """A run's model on its validation images: what the errors page draws and sorts."""

    probs: Any
    targets: Any
    paths: list[Path]
    classes: list[str]
    multi_label: bool


def validation_predictions(record: dict[str, Any]) -> Predictions:
    """The run's validation probabilities: from its saved model when there is one, else by
    re-running it exactly (seconds for quick training, thanks to the feature cache).

    A model whose final head was fitted on all photos has seen its validation photos, so
    its validation predictions come from the re-run, whose head has not."""
    import numpy as np

    dataset = dataset_of(record)
    idx = valid_indices(dataset, record["split"]["valid"])
    paths = [dataset.items[i].path for i in idx]
    model_dir = record.get("model_dir")
    saw_valid = record["split"].get("final_fit") == "all photos"
    if model_dir and Path(model_dir).is_dir() and not saw_valid:
        from cvlib.models.inference import Predictor, evaluate_model

        predictor = Predictor.load(model_dir)
        _, probs = evaluate_model(predictor, paths, [dataset.items[i].labels for i in idx])
    else:
        from cvlib.training.config import TrainConfig
        from cvlib.training.train import train

        config = TrainConfig.from_record(record["settings"])
        probs = train(dataset, config, valid_idx=idx).valid_probs

    return Predictions(np.asarray(probs), dataset.targets(idx), paths,
                       list(dataset.classes), dataset.multi_label)
