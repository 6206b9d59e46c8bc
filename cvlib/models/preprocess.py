"""The one definition of how an image becomes a model input.

Training, feature caching, batch prediction, the webcam stream, ONNX export and the scoring
server all call :func:`preprocess` with the :class:`Preprocessing` recorded in the model's
JSON, so an exported model predicts exactly like the app.  This module needs only numpy and
Pillow: it is copied next to ``score.py`` in the serving environment, which has no torch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from PIL import Image

RESIZE_MODES = ("squish", "crop")


@dataclass(frozen=True)
class Preprocessing:
    """How to feed a backbone, travelling with its weights (timm calls this pretrained_cfg).

    Parameters
    ----------
    image_size : side of the square input in pixels.
    mean, std : per-channel normalisation applied to pixel values scaled to [0, 1].
    resize : ``"squish"`` resizes the whole image to a square (nothing is cut off, which
        suits products photographed whole); ``"crop"`` resizes the short side and takes the
        centre square (no distortion, which suits wide webcam frames).
    """

    image_size: int = 224
    mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    resize: str = "squish"
    interpolation: str = field(default="bilinear")

    def __post_init__(self) -> None:
        if self.resize not in RESIZE_MODES:
            raise ValueError(f"resize must be one of {RESIZE_MODES}, not {self.resize!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, stored in every saved model's ``model.json``."""
        data = asdict(self)
        data["mean"], data["std"] = list(self.mean), list(self.std)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocessing:
        """Inverse of :meth:`to_dict`; ignores keys a newer version may add."""
        known = {k: data[k] for k in ("image_size", "resize", "interpolation") if k in data}
        return cls(mean=tuple(data.get("mean", cls.mean)), std=tuple(data.get("std", cls.std)),
                   **known)

    def with_size(self, image_size: int) -> Preprocessing:
        """The same normalisation at another input size."""
        return Preprocessing(image_size, self.mean, self.std, self.resize, self.interpolation)


_RESAMPLE = {"bilinear": Image.Resampling.BILINEAR, "bicubic": Image.Resampling.BICUBIC,
             "nearest": Image.Resampling.NEAREST}


def resize_image(img: Image.Image, cfg: Preprocessing) -> Image.Image:
    """Resize (and centre-crop when ``cfg.resize == "crop"``) to the square model input."""
    size = cfg.image_size
    resample = _RESAMPLE[cfg.interpolation]
    img = img.convert("RGB")
    if cfg.resize == "squish":
        return img.resize((size, size), resample)
    w, h = img.size
    scale = size / min(w, h)
    new_w, new_h = max(size, round(w * scale)), max(size, round(h * scale))
    img = img.resize((new_w, new_h), resample)
    left, top = (new_w - size) // 2, (new_h - size) // 2
    return img.crop((left, top, left + size, top + size))


def normalize(pixels: np.ndarray, cfg: Preprocessing) -> np.ndarray:
    """HWC uint8 pixels -> CHW float32, scaled to [0, 1] then normalised by mean/std."""
    scaled = pixels.astype(np.float32) / np.float32(255.0)
    arr = (scaled - np.asarray(cfg.mean, np.float32)) / np.asarray(cfg.std, np.float32)
    return np.ascontiguousarray(arr.transpose(2, 0, 1))


def preprocess(img: Image.Image, cfg: Preprocessing) -> np.ndarray:
    """One image (any PIL mode) -> a float32 CHW array ready for the model."""
    return normalize(np.asarray(resize_image(img, cfg)), cfg)


def preprocess_batch(images: Iterable[Image.Image], cfg: Preprocessing) -> np.ndarray:
    """Several images -> a float32 NCHW batch."""
    arrays = [preprocess(img, cfg) for img in images]
    if not arrays:
        return np.zeros((0, 3, cfg.image_size, cfg.image_size), np.float32)
    return np.stack(arrays)


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large logits; shared by every engine."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def sigmoid(logits: np.ndarray) -> np.ndarray:
    """Element-wise logistic function for multi-label heads."""
    return 1.0 / (1.0 + np.exp(-logits))


def probabilities(logits: np.ndarray, multi_label: bool) -> np.ndarray:
    """Turn raw model outputs into probabilities the way the model was trained."""
    return sigmoid(logits) if multi_label else softmax(logits)


def top_k(probs: Sequence[float] | np.ndarray, classes: Sequence[str], k: int = 5
          ) -> list[tuple[str, float]]:
    """The k most probable (class, probability) pairs, most probable first."""
    order = np.argsort(np.asarray(probs))[::-1][:k]
    return [(classes[i], float(probs[i])) for i in order]
