"""Turn one scoring request into one answer, independently of the HTTP server around it.

``score.py`` is a thin adapter between the Azure ML inference server and this module, so the
request rules (format, limits, per-image errors) are tested in-process and behave the same on
a laptop, in a managed online endpoint and in a Kubernetes endpoint.

Request (the seed's format)::

    {"data": ["<base64 image>", ...], "top_k": 3}      # top_k optional

Answer, one entry per image, in order::

    {"predictions": [{"label": "milk", "probability": 0.97, "top_k": [...]},
                     {"error": "image 2: not an image (cannot identify image file)"}]}

A request is refused with a 4xx status and ``{"message": ...}`` when it cannot be read at all
(malformed JSON, wrong shape, too large, too many images) or when none of its images can be
read; a request where some images are readable is answered with 200 and an error entry for
each unreadable one, so one bad photo never hides the others' answers.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cvlib.data.images import MAX_PIXELS, load_image
from cvlib.errors import BadImageError, StudioError
from cvlib.models.preprocess import Preprocessing, preprocess_batch, probabilities, top_k

MODEL_JSON = "model.json"
MODEL_ONNX = "model.onnx"


class RequestError(StudioError):
    """A request refused as a whole; carries the HTTP status that says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Limits:
    """What one request may carry, so a single caller cannot exhaust the service's memory.

    Each limit can be changed through an environment variable of the deployment
    (``CVLIB_MAX_REQUEST_BYTES``, ``CVLIB_MAX_IMAGES``, ``CVLIB_MAX_IMAGE_BYTES``,
    ``CVLIB_MAX_TOP_K``, ``CVLIB_MAX_PIXELS``); pixels are checked from the image header by
    :func:`cvlib.data.images.load_image`, before decoding.
    """

    max_request_bytes: int = 20 * 1024 * 1024
    max_images: int = 32
    max_image_bytes: int = 8 * 1024 * 1024
    max_top_k: int = 20
    max_pixels: int = MAX_PIXELS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Limits:
        """Defaults overridden by the ``CVLIB_MAX_*`` variables that are set."""
        values = {name: int(env[f"CVLIB_{name.upper()}"]) for name in cls.__dataclass_fields__
                  if f"CVLIB_{name.upper()}" in env}
        return cls(**values)


@dataclass(frozen=True)
class ScoringModel:
    """The exported ONNX network with the classes and preprocessing it was trained with."""

    session: Any  # onnxruntime.InferenceSession, imported lazily
    classes: tuple[str, ...]
    multi_label: bool
    thresholds: tuple[float, ...]
    preprocessing: Preprocessing

    @classmethod
    def load(cls, model_dir: str | Path) -> ScoringModel:
        """Read ``model.json`` and ``model.onnx`` (never a pickle) from a saved model folder."""
        import onnxruntime as ort

        folder = find_model_dir(model_dir)
        meta = json.loads((folder / MODEL_JSON).read_text(encoding="utf-8"))
        classes = tuple(meta["classes"])
        options = ort.SessionOptions()
        options.log_severity_level = 3
        session = ort.InferenceSession(str(folder / MODEL_ONNX), options,
                                       providers=["CPUExecutionProvider"])
        return cls(session, classes, bool(meta.get("multi_label", False)),
                   _thresholds(meta.get("thresholds"), len(classes)),
                   Preprocessing.from_dict(meta["preprocessing"]))

    def predict(self, images: list) -> np.ndarray:
        """Probabilities, one row per PIL image, exactly as the studio computes them."""
        batch = preprocess_batch(images, self.preprocessing)
        (logits,) = self.session.run(["logits"], {"input": batch})
        return probabilities(logits, self.multi_label)


def find_model_dir(root: str | Path) -> Path:
    """The folder holding ``model.json``: ``root`` itself or the one folder below it.

    Azure ML mounts a registered model folder *inside* ``AZUREML_MODEL_DIR`` (as
    ``<dir>/<folder name>``), while the local server points straight at the folder.
    """
    root = Path(root)
    if (root / MODEL_JSON).is_file():
        return root
    found = sorted(p.parent for p in root.glob(f"*/{MODEL_JSON}"))
    if len(found) != 1:
        raise FileNotFoundError(f"expected one {MODEL_JSON} in {root} or one folder below it")
    return found[0]


def _thresholds(value: float | list[float] | None, n_classes: int) -> tuple[float, ...]:
    """Per-class decision thresholds for multi-label models (0.5 when none were tuned)."""
    if value is None:
        return (0.5,) * n_classes
    if isinstance(value, int | float):
        return (float(value),) * n_classes
    return tuple(float(v) for v in value)


def parse_request(body: bytes, limits: Limits) -> tuple[list[Any], int]:
    """Validate the request's shape and size; return the image entries and top-k.

    Raises :class:`RequestError` (413 for size, 400 for everything else) with a message
    that tells the caller what to change.
    """
    if len(body) > limits.max_request_bytes:
        raise RequestError(413, f"request is {len(body):,} bytes; the limit is "
                                f"{limits.max_request_bytes:,}")
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RequestError(400, f"request body is not valid JSON ({error})") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("data"), list):
        raise RequestError(400, 'expected a JSON object {"data": [<base64 image>, ...]}')
    data = payload["data"]
    if not data:
        raise RequestError(400, '"data" is empty: send at least one base64 image')
    if len(data) > limits.max_images:
        raise RequestError(413, f"{len(data)} images in one request; the limit is "
                                f"{limits.max_images}")
    k = payload.get("top_k", 1)
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= limits.max_top_k:
        raise RequestError(400, f'"top_k" must be a whole number from 1 to {limits.max_top_k}')
    return data, k


def decode_image(entry: Any, index: int, limits: Limits):
    """One base64 entry -> an RGB PIL image, through the studio's one image loader."""
    name = f"image {index + 1}"
    if not isinstance(entry, str):
        raise BadImageError(name, "expected a base64 string")
    if len(entry) > limits.max_image_bytes * 4 // 3 + 4:
        raise BadImageError(name, f"larger than {limits.max_image_bytes:,} bytes")
    try:
        raw = base64.b64decode(entry, validate=True)
    except (binascii.Error, ValueError):
        raise BadImageError(name, "not valid base64") from None
    return load_image(raw, name, max_pixels=limits.max_pixels)


def answer(model: ScoringModel, probs: np.ndarray, k: int) -> dict[str, Any]:
    """One image's answer: best label and probability, the top k, and multi-label hits."""
    best = int(np.argmax(probs))
    result: dict[str, Any] = {"label": model.classes[best], "probability": float(probs[best])}
    if k > 1:
        result["top_k"] = [{"label": label, "probability": p}
                           for label, p in top_k(probs, model.classes, k)]
    if model.multi_label:
        result["labels"] = [c for c, p, t in zip(model.classes, probs, model.thresholds,
                                                  strict=True) if p >= t]
    return result


def handle_request(model: ScoringModel, body: bytes,
                   limits: Limits | None = None) -> tuple[int, dict[str, Any]]:
    """The whole service: request bytes in, ``(HTTP status, JSON-ready answer)`` out.

    Never raises for anything the caller sent, so the server never turns a bad request into
    a 500.
    """
    limits = limits or Limits.from_env(os.environ)
    try:
        entries, k = parse_request(body, limits)
    except RequestError as error:
        return error.status, {"message": str(error)}
    images, errors = {}, {}
    for index, entry in enumerate(entries):
        try:
            images[index] = decode_image(entry, index, limits)
        except BadImageError as error:
            errors[index] = str(error)
    if not images:
        return 400, {"message": "no image in the request could be read: "
                                + "; ".join(errors.values()),
                     "predictions": [{"error": errors[i]} for i in range(len(entries))]}
    probs = dict(zip(images, model.predict(list(images.values())), strict=True))
    predictions = [answer(model, probs[i], k) if i in probs else {"error": errors[i]}
                   for i in range(len(entries))]
    return 200, {"predictions": predictions}
