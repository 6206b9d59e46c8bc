"""Accuracy against speed, measured: train presets, time them here, find the Pareto front.

Published latency tables come from someone else's hardware; what matters is how fast a
model runs on the machine it will run on, and how accurate it is on the user's own photos.
:func:`compare_presets` trains each chosen :mod:`preset <cvlib.training.presets>`, saves it, and
measures validation accuracy, milliseconds per image at batch 1 (PyTorch, and ONNX Runtime
when asked), size on disk, parameters and training time.  :func:`pareto_front` keeps the
models no other model beats on both accuracy and speed, and :func:`recommend` picks one in
plain words.  Only the functions that train or time import torch, lazily.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cvlib.data.dataset import Dataset
from cvlib.runtime.progress import Progress, child_progress
from cvlib.storage.home import studio_home
from cvlib.storage.persist import ONNX_FILE, WEIGHTS_FILE, safe_name, staged_folder
from cvlib.training.presets import get_preset


@dataclass
class PresetReport:
    """What one preset measured on this machine and this data."""

    preset: str
    architecture: str
    image_size: int
    accuracy: float
    n_valid: int
    estimated_accuracy: float
    estimated_accuracy_low: float
    estimated_accuracy_high: float
    ms_torch: float
    ms_onnx: float | None
    size_mb: float
    onnx_mb: float | None
    params: int
    train_s: float
    model_dir: str

    @property
    def ms_per_image(self) -> float:
        """Latency with the faster engine: what a deployment would get."""
        return min(self.ms_torch, self.ms_onnx) if self.ms_onnx is not None else self.ms_torch

    def to_dict(self) -> dict[str, Any]:
        """A table row (JSON-ready)."""
        return {**asdict(self), "ms_per_image": self.ms_per_image}


@dataclass
class Recommendation:
    """The preset to pick, and why, in one sentence."""

    preset: str
    reason: str


def compare_dir(dataset: Dataset) -> Path:
    """Where the compared models are kept: ``<studio home>/compare/<dataset name>``."""
    return studio_home() / "compare" / safe_name(dataset.root.name, "data")


def measure_latency(folder: str | Path, engine: str = "torch", repeats: int = 10) -> float:
    """Milliseconds per image at batch 1 for a saved model with one engine (after a warm-up).

    Batch 1 is what a camera or a web request sees; larger batches are faster per image
    but arrive later.
    """
    from cvlib.models.inference import Predictor, time_batches

    predictor = Predictor.load(folder, engine)
    return 1000.0 * time_batches(predictor, batch_size=1, repeats=repeats)


def compare_presets(dataset: Dataset, names: Sequence[str], *, mode: str | None = None,
                    onnx: bool = True, repeats: int = 10, out_root: Path | None = None,
                    progress: Progress | None = None) -> list[PresetReport]:
    """Train, save and time each preset in ``names`` on ``dataset``, cheapest first.

    Each preset trains in its own mode unless ``mode`` (``quick`` or ``full``) is given.
    Every preset is validated on the same seeded split, so accuracies compare fairly.
    Each model is saved under ``out_root`` (default :func:`compare_dir`) and recorded in the
    run history.  Raises :class:`cvlib.errors.Cancelled` when stopped between presets.
    """
    progress = progress or Progress()
    out_root = out_root or compare_dir(dataset)
    reports = []
    for i, name in enumerate(names):
        progress.check()
        progress.update(stage=f"preset {i + 1}/{len(names)}: {name}", step=i, total=len(names))
        reports.append(_measure_preset(dataset, name, mode, onnx, repeats,
                                       out_root / name, progress))
        progress.add_record(reports[-1].to_dict())
    progress.update(stage="done", step=len(names))
    return reports


def _measure_preset(dataset: Dataset, name: str, mode: str | None, onnx: bool, repeats: int,
                    folder: Path, progress: Progress) -> PresetReport:
    """Train one preset, save it, and measure it."""
    from cvlib.training.workflow import save_trained, train_and_record

    preset = get_preset(name)
    config = preset.config(mode)
    result = train_and_record(dataset, config, surface="03", progress=child_progress(progress))
    progress.check()
    save_trained(result, folder, export=onnx)
    progress.log(f"{name}: accuracy {result.metrics['accuracy']:.3f}, timing…")
    ms_onnx = onnx_mb = None
    if onnx:
        onnx_mb = (folder / ONNX_FILE).stat().st_size / 1e6
        ms_onnx = measure_latency(folder, "onnx", repeats)
    return PresetReport(
        preset=name, architecture=preset.architecture, image_size=preset.image_size,
        accuracy=float(result.metrics["accuracy"]), n_valid=int(result.metrics["n"]),
        **result.estimate.as_fields(),
        ms_torch=measure_latency(folder, "torch", repeats), ms_onnx=ms_onnx,
        size_mb=(folder / WEIGHTS_FILE).stat().st_size / 1e6, onnx_mb=onnx_mb,
        params=sum(p.numel() for p in result.network.parameters()),
        train_s=float(result.timings["total_s"]), model_dir=str(folder))


def pareto_front(reports: Sequence[PresetReport]) -> list[PresetReport]:
    """The reports no other report beats on both speed and accuracy, fastest first.

    A model is *dominated* when another is at least as fast and at least as accurate, and
    strictly better at one of them: picking it would give something up for nothing.
    """
    def dominated(r: PresetReport) -> bool:
        return any(o.ms_per_image <= r.ms_per_image and o.accuracy >= r.accuracy
                   and (o.ms_per_image < r.ms_per_image or o.accuracy > r.accuracy)
                   for o in reports)

    return sorted((r for r in reports if not dominated(r)), key=lambda r: r.ms_per_image)


def recommend(reports: Sequence[PresetReport]) -> Recommendation:
    """The fastest model whose accuracy is within one validation image of the best.

    With a few dozen validation photos, one photo is several points of accuracy: smaller
    differences are noise, so paying for them in latency buys nothing measurable.
    """
    if not reports:
        raise ValueError("nothing to recommend: no preset was measured")
    best = max(reports, key=lambda r: (r.accuracy, -r.ms_per_image))
    tolerance = max(0.01, 1.0 / max(1, best.n_valid))
    close = [r for r in reports if r.accuracy >= best.accuracy - tolerance]
    pick = min(close, key=lambda r: (r.ms_per_image, -r.accuracy))
    if pick is best:
        reason = (f"**{pick.preset}** is the most accurate ({pick.accuracy:.1%}) and no faster "
                  f"preset comes within one validation image of it "
                  f"({pick.ms_per_image:.1f} ms per image).")
    else:
        reason = (f"**{pick.preset}** reaches {pick.accuracy:.1%}, within one validation "
                  f"image ({tolerance:.1%}) of the best, **{best.preset}** "
                  f"({best.accuracy:.1%}), and runs {best.ms_per_image / pick.ms_per_image:.1f}× "
                  f"faster ({pick.ms_per_image:.1f} vs {best.ms_per_image:.1f} ms per image).")
    return Recommendation(pick.preset, reason)


def save_pick(report: PresetReport, folder: str | Path) -> Path:
    """Copy a compared model to ``folder``, with its ONNX export (made now if the comparison
    did not time ONNX): what page 03 recommends is what a server would run."""
    from cvlib.models.inference import export_onnx

    if report.ms_onnx is None:
        export_onnx(report.model_dir)
    target = Path(folder)
    with staged_folder(target) as staging:
        for file in Path(report.model_dir).iterdir():
            if file.is_file() and not file.name.startswith("."):
                shutil.copy2(file, staging / file.name)
    return target

