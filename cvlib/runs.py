"""Run history: every training, sweep and export leaves a record that can be re-run.

A record is one JSON file under ``<studio home>/runs`` holding what is needed to explain and
repeat the run: the data's fingerprint and root, the validation split, the seed, every
setting, library versions, metrics and timings.  Records are written atomically.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path
from typing import Any

from cvlib.data import Dataset, studio_home
from cvlib.persist import atomic_write_json, read_json, remove_orphan_temp_files


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


def record_training(dataset: Dataset, config, result, *, model_dir: Path | None = None,
                    page: str | None = None) -> dict[str, Any]:
    """Record a finished training run (the model folder, when saved, is added later)."""
    from cvlib.evaluate import summary

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
