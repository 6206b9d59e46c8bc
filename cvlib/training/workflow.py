"""The studio's one workflow: train, record the run, save the model folder.

Every surface goes through here: the pages (01, 02, 03's preset comparison, 12's rounds,
13's re-run and retraining after label fixes), the command line and the Python API
(``cvlib.train``).  So every model the studio makes appears in the run history
(:mod:`cvlib.training.runs`) with the settings it used, every saved ``model.json`` names its
run, and the record names its model folder.

- :func:`train_and_record` trains and writes the record;
- :func:`save_trained` writes the model folder, with multi-label thresholds and, on request,
  the ONNX export, and notes the folder in the record;
- :func:`rerun` and :func:`retrain_with_fixes` repeat a recorded run, exactly or on the
  data as fixed since;
- :func:`validation_predictions` gives a recorded run's validation probabilities back.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from cvlib.data.dataset import Dataset, load_dataset
from cvlib.runtime.progress import Progress
from cvlib.training.config import TrainConfig
from cvlib.training.runs import (
    RunRecord,
    attach_model,
    dataset_of,
    load_run,
    record_training,
    valid_indices,
)
from cvlib.training.train import TrainResult, train


def train_and_record(dataset: Dataset, config: TrainConfig | None = None, *,
                     surface: str = "python", progress: Progress | None = None,
                     valid_idx: list[int] | None = None,
                     rerun_of: str | None = None) -> TrainResult:
    """Train on ``dataset`` (:func:`cvlib.training.train.train`) and record the run.

    ``surface`` says where the run came from (``"01"``, ``"cli"``, ``"python"``...), shown
    in the history.  The record's id is in ``result.meta["run_id"]``.
    """
    result = train(dataset, config, progress=progress, valid_idx=valid_idx)
    record_training(dataset, result, page=surface, rerun_of=rerun_of)
    return result


def save_trained(result: TrainResult, folder: str | Path, *,
                 thresholds: float | np.ndarray | None = None, export: bool = False) -> Path:
    """Write the model folder (atomically) and note it in the run's record.

    ``thresholds`` (multi-label) are stored in ``model.json``, where prediction, the
    stream, the ONNX export and the scoring server read them; ``export`` also writes the
    ONNX file next to the weights.
    """
    if thresholds is not None:
        from cvlib.evaluation.thresholds import saved_form

        result = replace(result, meta={**result.meta, "thresholds": saved_form(thresholds)})
    folder = result.save(folder)
    if "run_id" in result.meta:
        attach_model(result.meta["run_id"], folder)
    if export:
        from cvlib.models.inference import export_onnx

        export_onnx(folder)
    return folder


def rerun(record: RunRecord, *, progress: Progress | None = None,
          surface: str = "rerun") -> tuple[TrainResult, RunRecord]:
    """Repeat a training run exactly: same data (fingerprint checked), same validation
    files, same seed and settings; returns ``(result, new_record)``.

    Quick training is deterministic, so the metrics come out identical; compare them with
    :func:`cvlib.training.runs.same_metrics`.
    """
    dataset = dataset_of(record)
    result = train_and_record(dataset, TrainConfig.from_record(record.settings),
                              surface=surface, progress=progress, rerun_of=record.id,
                              valid_idx=valid_indices(dataset, record.valid_names))
    return result, load_run(result.meta["run_id"])


def retrain_with_fixes(record: RunRecord, *, progress: Progress | None = None,
                       surface: str = "13-retrain") -> TrainResult:
    """Train again with a run's settings on its data as fixed since (relabelled, removed,
    moved to negatives), validating on the same photos where they are still there.

    Unlike :func:`rerun` the data is expected to have changed, so its fingerprint is not
    checked; validation files renamed by a fix are followed to their new name.
    """
    from cvlib.data.fixes import fixes_for

    dataset = load_dataset(record.dataset.root)
    renamed = fixes_for(dataset).renamed()
    names = {dataset.name_of(item.path): i for i, item in enumerate(dataset.items)}
    valid = sorted({names[n] for n in (renamed.get(v, v) for v in record.valid_names)
                    if n in names})
    return train_and_record(dataset, TrainConfig.from_record(record.settings),
                            surface=surface, progress=progress, valid_idx=valid or None,
                            rerun_of=record.id)


@dataclass
class Predictions:
    """A run's model on its validation images: what the errors page draws and sorts."""

    probs: np.ndarray
    targets: np.ndarray
    paths: list[Path]
    classes: list[str]
    multi_label: bool


def validation_predictions(record: RunRecord) -> Predictions:
    """The run's validation probabilities: from its saved model when there is one, else by
    training it again exactly (seconds for quick training, thanks to the feature cache).

    A model whose final head was fitted on all photos has seen its validation photos, so
    its validation predictions come from the re-training, whose head has not.  That
    re-training is not recorded: it only reproduces a recorded run.
    """
    dataset = dataset_of(record)
    idx = valid_indices(dataset, record.valid_names)
    paths = [dataset.items[i].path for i in idx]
    saw_valid = record.split.get("final_fit") == "all photos"
    probs: Any
    if record.model_dir and Path(record.model_dir).is_dir() and not saw_valid:
        from cvlib.models.inference import Predictor, evaluate_model

        predictor = Predictor.load(record.model_dir)
        _, probs = evaluate_model(predictor, paths, [dataset.items[i].labels for i in idx])
    else:
        config = TrainConfig.from_record(record.settings)
        probs = train(dataset, config, valid_idx=idx).valid_probs
    return Predictions(np.asarray(probs), dataset.targets(idx), paths,
                       list(dataset.classes), dataset.multi_label)
