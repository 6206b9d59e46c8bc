"""Run history: every training the studio makes leaves a typed record that can be re-run.

A :class:`RunRecord` is one JSON file under ``<studio home>/runs`` holding what is needed to
explain and repeat the run: the data's fingerprint and root, the validation split, the seed,
every setting, library versions, metrics and timings, and the model folder once saved.
Records are written atomically and carry a schema version; records written before the
schema existed are read the same way.

:func:`list_runs` and :func:`load_run` read them back and :func:`compare_runs` lines two up
side by side.  Repeating a run is training, so it lives with the studio's one workflow
(:mod:`cvlib.training.workflow`), which is also what writes every record.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from cvlib.data.dataset import Dataset
from cvlib.storage.home import studio_home
from cvlib.storage.persist import atomic_write_json, read_json, remove_orphan_temp_files

RECORD_SCHEMA = 1
"""Version of the record's JSON layout; a record without one was written before version 1."""


@dataclass(frozen=True)
class DataRef:
    """Which data a run used: enough to find it again and to notice that it changed."""

    root: str = ""
    fingerprint: str = ""
    n_images: int = 0
    classes: list[str] = field(default_factory=list)
    multi_label: bool = False


@dataclass
class RunRecord:
    """One run of the history, as stored.

    ``page`` names the surface that made it (a page number, ``cli``, ``python``, ``03``,
    ``13-retrain``...); ``split`` holds the validation files by name (``valid``) and how the
    final head was fitted (``final_fit``); ``details`` keeps what other kinds of run record
    (an export's format, for instance) and any field this version does not know.
    """

    id: str
    kind: str
    created: str
    page: str | None = None
    dataset: DataRef = field(default_factory=DataRef)
    split: dict[str, Any] = field(default_factory=dict)
    seed: int | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    estimate: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    stopped_early: bool = False
    model_dir: str | None = None
    rerun_of: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    schema: int = RECORD_SCHEMA

    @property
    def valid_names(self) -> list[str]:
        """The validation files, by name relative to the dataset root."""
        return list(self.split.get("valid", []))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunRecord:
        """Read any version's JSON: unknown top-level fields go to ``details``."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        extra = {k: v for k, v in data.items() if k not in known}
        values["details"] = {**(values.get("details") or {}), **extra}
        data_fields = {f.name for f in fields(DataRef)}
        values["dataset"] = DataRef(**{k: v for k, v in (data.get("dataset") or {}).items()
                                       if k in data_fields})
        values.setdefault("schema", 0)
        for name in ("split", "settings", "versions", "metrics", "timings"):
            values[name] = values.get(name) or {}
        return cls(**values)


def runs_dir() -> Path:
    """Where run records live."""
    return studio_home() / "runs"


def new_run_id(kind: str) -> str:
    """Sortable, unique id: time first, then kind and a random suffix."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return f"{stamp}-{kind}-{uuid.uuid4().hex[:6]}"


def _now() -> str:
    """A record's time stamp: UTC, to the second."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def save_record(record: RunRecord) -> RunRecord:
    """Write a run record atomically and return it as it reads back (JSON-normalised)."""
    path = atomic_write_json(runs_dir() / f"{record.id}.json", record.to_dict())
    return RunRecord.from_dict(read_json(path))


def record_training(dataset: Dataset, result, *, page: str | None = None,
                    rerun_of: str | None = None) -> RunRecord:
    """Record a finished training run (the model folder, when saved, is added later).

    The settings are the ones the run used (``result.config``, with ``regions`` decided),
    so a re-run repeats it even if a default changes.  The record's id goes into the
    result's ``meta``, so the saved ``model.json`` names its run.
    """
    from cvlib.evaluation.metrics import summary

    config = result.config
    record = RunRecord(
        id=new_run_id("train"), kind="train", created=_now(), page=page,
        dataset=DataRef(root=str(dataset.root), fingerprint=result.meta["data_fingerprint"],
                        n_images=len(dataset), classes=list(dataset.classes),
                        multi_label=dataset.multi_label),
        split=result.meta["split"], seed=config.seed, settings=config.to_dict(),
        versions=result.meta["versions"], metrics=summary(result.metrics),
        estimate=result.meta.get("estimate"), timings=result.timings,
        stopped_early=result.stopped_early, rerun_of=rerun_of)
    result.meta["run_id"] = record.id
    return save_record(record)


def attach_model(run_id: str, model_dir: Path) -> None:
    """Note in a run's record where its model was saved (no record, nothing to note)."""
    path = runs_dir() / f"{Path(run_id).name}.json"
    if path.is_file():
        record = RunRecord.from_dict(read_json(path))
        record.model_dir = str(model_dir)
        save_record(record)


def list_runs(kind: str | None = None) -> list[RunRecord]:
    """All readable records, newest first (damaged files are skipped, not fatal)."""
    remove_orphan_temp_files(runs_dir())
    records = []
    for path in sorted(runs_dir().glob("*.json"), reverse=True) if runs_dir().is_dir() else []:
        try:
            data = read_json(path)
            record = RunRecord.from_dict(data) if isinstance(data, dict) else None
        except (json.JSONDecodeError, UnicodeDecodeError, OSError, TypeError, KeyError):
            continue
        if record is not None and (kind is None or record.kind == kind):
            records.append(record)
    return records


def record_run(kind: str, details: dict[str, Any], **known: Any) -> RunRecord:
    """Record a run that is not a single training (an export, for instance).

    ``details`` holds what explains this kind of run; ``known`` may set any
    :class:`RunRecord` field (``model_dir``, ``settings``...).
    """
    return save_record(RunRecord(id=new_run_id(kind), kind=kind, created=_now(),
                                 details=details, **known))


def load_run(run_id: str) -> RunRecord:
    """One run record by id.

    Raises :class:`~cvlib.errors.StudioError` when there is no such record.
    """
    from cvlib.errors import StudioError

    path = runs_dir() / f"{Path(run_id).name}.json"
    if not path.is_file():
        raise StudioError(f"no run {run_id!r} in {runs_dir()}")
    return RunRecord.from_dict(read_json(path))


def compare_runs(a: RunRecord, b: RunRecord) -> list[dict[str, Any]]:
    """Two records side by side: one row per setting, metric and data fact, with ``same``.

    Rows come in the order a person reads them: the data first, then settings, then the
    results (timings last, as they always differ).
    """
    rows = [_row("data", "dataset", a.dataset.root, b.dataset.root),
            _row("data", "fingerprint", a.dataset.fingerprint, b.dataset.fingerprint),
            _row("data", "validation images", len(a.valid_names), len(b.valid_names))]
    for section in ("settings", "metrics", "timings"):
        left, right = getattr(a, section), getattr(b, section)
        rows.extend(_row(section, name, left.get(name), right.get(name))
                    for name in [*left, *(k for k in right if k not in left)])
    return rows


def _row(section: str, name: str, left: Any, right: Any) -> dict[str, Any]:
    """One comparison row (floats compared to 6 decimals, so a re-run counts as equal)."""
    same = (round(left, 6) == round(right, 6)
            if isinstance(left, float) and isinstance(right, float) else left == right)
    return {"section": section, "name": name, "a": left, "b": right, "same": same}


def dataset_of(record: RunRecord) -> Dataset:
    """The run's data, refusing data that changed since (fingerprints differ).

    Raises :class:`~cvlib.errors.DatasetError` naming what to do about it.
    """
    from cvlib.data.dataset import fingerprint, load_dataset
    from cvlib.errors import DatasetError

    dataset = load_dataset(record.dataset.root)
    if fingerprint(dataset) != record.dataset.fingerprint:
        raise DatasetError(
            f"the data in {record.dataset.root} changed since run {record.id} (images added, "
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


def same_metrics(a: RunRecord, b: RunRecord, places: int = 6) -> bool:
    """Whether two records' headline metrics agree (to ``places`` decimals)."""
    return a.metrics.keys() == b.metrics.keys() and all(
        round(float(a.metrics[k]), places) == round(float(b.metrics[k]), places)
        for k in a.metrics)
