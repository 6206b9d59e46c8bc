"""Frozen-backbone features, computed once and cached on disk by content.

Quick training, sweeps and hard-negative rounds all fit small heads on the same backbone
features.  Computing them is the expensive part (a forward pass per image and view), so each
image's vector is stored under the hash of its bytes and of the extraction settings: a
renamed copy, a re-uploaded zip or a new sweep cell costs nothing.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import numpy as np
import torch
from PIL import Image, ImageOps

from cvlib.data.images import load_image
from cvlib.models.inference import ONNX_EXPORT_LOCK, onnx_session
from cvlib.models.preprocess import Preprocessing, preprocess_batch
from cvlib.models.region_pool import crop_regions
from cvlib.models.regions import INPUT_SCALE, boxes_for, images_per_batch
from cvlib.runtime.progress import Progress
from cvlib.storage.home import studio_home
from cvlib.storage.persist import atomic_write_bytes
from cvlib.training.config import TRAIN_VIEWS, TrainConfig

VIEWS = ("identity", "hflip")
"""Test-time views: the saved network averages over them
(:class:`cvlib.models.checkpoint.ViewAverage`)."""
ZOOM = 0.8
"""Share of each side the ``zoom`` training view keeps (:data:`TRAIN_VIEWS`)."""


@dataclass(frozen=True)
class FeatureSpec:
    """What determines a feature vector: the backbone, the input, the views averaged and
    the regions looked at (one vector per region, :mod:`cvlib.models.regions`)."""

    architecture: str
    preprocessing: Preprocessing
    views: tuple[str, ...] = ("identity", "hflip")
    regions: str = "whole"

    @classmethod
    def of(cls, config: TrainConfig, multi_label: bool) -> FeatureSpec:
        """The features a training run with ``config`` fits its head on."""
        config = config.for_data(multi_label)
        return cls(config.architecture, config.preprocessing(), config.views, config.layout)

    @property
    def backbone_size(self) -> int:
        """Side of the backbone's input (smaller than the model input for strips)."""
        return self.preprocessing.image_size // INPUT_SCALE[self.regions]

    @property
    def key(self) -> str:
        """Folder name of this spec's cache: readable, and unique per setting."""
        p = self.preprocessing
        key = f"{self.architecture}-{p.image_size}-{p.resize}-{'+'.join(self.views)}"
        return key if self.regions == "whole" else f"{key}-{self.regions}"


def default_cache_dir() -> Path:
    """Where feature vectors live: ``<studio home>/features``."""
    return studio_home() / "features"


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes: the cache key that survives renames and copies."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def apply_view(img: Image.Image, view: str) -> Image.Image:
    """One view of an image: averaging test-time views makes features pose-robust, and
    training views are extra rows for the head to learn from."""
    if view not in TRAIN_VIEWS:
        raise ValueError(f"unknown view {view!r}; known: {TRAIN_VIEWS}")
    if view.startswith("zoom"):
        w, h = img.size
        dx, dy = round(w * (1 - ZOOM) / 2), round(h * (1 - ZOOM) / 2)
        img = img.crop((dx, dy, w - dx, h - dy))
    return ImageOps.mirror(img) if view.endswith("hflip") else img


def backbone_onnx(architecture: str, image_size: int) -> Path:
    """The frozen backbone exported to ONNX once per (architecture, size), cached on disk.

    On a CPU, ONNX Runtime runs EfficientNet's depthwise convolutions about four times
    faster than eager PyTorch (bench/inference.py), which is most of quick training's time.
    """
    path = studio_home() / "backbones" / f"{architecture}-{image_size}.onnx"
    with ONNX_EXPORT_LOCK:  # two sessions training at once export one after the other
        if path.is_file():
            return path
        from cvlib.models import backbones

        buffer = io.BytesIO()
        backbone = backbones.create_backbone(architecture).eval()
        torch.onnx.export(backbone, (torch.zeros(1, 3, image_size, image_size),), buffer,
                          input_names=["input"], output_names=["features"], opset_version=17,
                          dynamo=False, dynamic_axes={"input": {0: "batch"},
                                                      "features": {0: "batch"}})
        return atomic_write_bytes(path, buffer.getvalue())


class FeatureExtractor:
    """A frozen backbone that turns images into pooled, view-averaged feature vectors.

    On a GPU it runs in PyTorch (mixed precision, channels-last); on a CPU in ONNX Runtime.
    With region pooling every image gives one vector per region, ``(K, D)``.
    """

    def __init__(self, spec: FeatureSpec, *, device: str | None = None) -> None:
        self.spec = spec
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.boxes = boxes_for(spec.regions)
        if self.device == "cuda":
            from cvlib.models import backbones

            backbone = backbones.create_backbone(spec.architecture).to(self.device).eval()
            self._run = self._torch_runner(backbone.to(memory_format=torch.channels_last))
        else:
            self._run = self._onnx_runner(backbone_onnx(spec.architecture, spec.backbone_size))

    def _torch_runner(self, backbone: torch.nn.Module):
        def run(batch: np.ndarray) -> np.ndarray:
            x = torch.from_numpy(batch).to(self.device, memory_format=torch.channels_last)
            with torch.inference_mode(), torch.autocast(self.device, enabled=True):
                return backbone(x).float().cpu().numpy()
        return run

    @staticmethod
    def _onnx_runner(model_path: Path):
        session = onnx_session(model_path, torch.get_num_threads())

        def run(batch: np.ndarray) -> np.ndarray:
            return session.run(None, {"input": batch})[0]
        return run

    def _regions(self, batch: np.ndarray) -> np.ndarray:
        """Model inputs -> backbone inputs: the batch itself, or every region of every image."""
        if self.spec.regions == "whole":
            return batch
        return crop_regions(torch.from_numpy(batch), self.boxes, self.spec.backbone_size).numpy()

    def __call__(self, images: Sequence[Image.Image]) -> np.ndarray:
        """Features of a batch of images: ``(N, D)``, or ``(N, K, D)`` with K regions."""
        views = [self._run(self._regions(preprocess_batch([apply_view(im, view) for im in images],
                                                          self.spec.preprocessing)))
                 for view in self.spec.views]
        feats = (sum(views[1:], views[0]) / len(views)).astype(np.float32)
        if self.spec.regions == "whole":
            return feats
        return feats.reshape(len(images), len(self.boxes), -1)


class FeatureCache:
    """Per-image feature vectors on disk, one small ``.npy`` per (spec, image content)."""

    def __init__(self, spec: FeatureSpec, root: Path | None = None) -> None:
        self.spec = spec
        self.folder = (root or default_cache_dir()) / spec.key

    def _path(self, digest: str) -> Path:
        return self.folder / digest[:2] / f"{digest}.npy"

    def get(self, digest: str) -> np.ndarray | None:
        """The cached vector, or None (a damaged entry counts as missing)."""
        path = self._path(digest)
        if not path.is_file():
            return None
        try:
            return np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError):
            return None

    def put(self, digest: str, vector: np.ndarray) -> None:
        """Store one vector atomically, so a kill never leaves a half-written entry."""
        buffer = io.BytesIO()
        np.save(buffer, vector.astype(np.float32), allow_pickle=False)
        atomic_write_bytes(self._path(digest), buffer.getvalue())


def _view_average(paths: Sequence[Path], spec: FeatureSpec, progress: Progress,
                  batch_size: int, cache_root: Path | None,
                  ) -> tuple[np.ndarray, dict[str, int]]:
    """Averaged views from each view's own cached vectors (the average is taken after the
    backbone either way), so flip-averaging and flip-augmentation share one cache."""
    parts = [extract_features(paths, replace(spec, views=(view,)), progress=progress,
                              batch_size=batch_size, cache_root=cache_root)
             for view in spec.views]
    stats = {k: sum(part[1][k] for part in parts) for k in ("hits", "misses")}
    features = [part[0] for part in parts]
    return (sum(features[1:], features[0]) / len(features)).astype(np.float32), stats


def extract_features(
    paths: Sequence[Path],
    spec: FeatureSpec,
    *,
    progress: Progress | None = None,
    batch_size: int = 32,
    cache_root: Path | None = None,
    extractor: FeatureExtractor | None = None,
) -> tuple[np.ndarray, dict[str, int]]:
    """Feature matrix for ``paths`` (rows in order), using and filling the disk cache.

    Returns the ``(N, D)`` matrix (``(N, K, D)`` with K regions) and counts
    ``{"hits": ..., "misses": ...}``.  The backbone is only built when something is missing,
    so a warm cache never imports a model.  ``batch_size`` counts backbone inputs: with
    regions, fewer images go into each batch, which keeps memory flat.
    """
    progress = progress or Progress()
    if len(spec.views) > 1:
        return _view_average(paths, spec, progress, batch_size, cache_root)
    batch_size = images_per_batch(batch_size, spec.regions)
    cache = FeatureCache(spec, cache_root)
    digests = [file_digest(p) for p in paths]
    rows: list[np.ndarray | None] = [cache.get(d) for d in digests]
    missing = [i for i, row in enumerate(rows) if row is None]
    progress.update(stage="features", step=0, total=len(missing))
    if missing:
        progress.check()  # before the backbone is built (and exported): Stop answers at once
        extractor = extractor or FeatureExtractor(spec)
        for start in range(0, len(missing), batch_size):
            progress.check()
            chunk = missing[start:start + batch_size]
            feats = extractor([load_image(paths[i]) for i in chunk])
            for i, vector in zip(chunk, feats, strict=True):
                cache.put(digests[i], vector)
                rows[i] = vector
            progress.update(step=min(start + batch_size, len(missing)))
    stats = {"hits": len(paths) - len(missing), "misses": len(missing)}
    if not rows:
        return np.zeros((0, 0), np.float32), stats
    return np.stack(cast("list[np.ndarray]", rows)).astype(np.float32), stats  # all filled
