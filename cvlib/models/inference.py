"""Prediction with a saved model, in PyTorch or ONNX Runtime, and the export between them.

Both engines take the same preprocessed batch (:func:`cvlib.models.preprocess.preprocess_batch`
with the model's recorded :class:`~cvlib.models.preprocess.Preprocessing`) and turn logits into
probabilities the same way, so the app, the command line, the stream and the scoring server
agree.  :func:`parity` measures that agreement instead of assuming it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from cvlib.errors import ModelFormatError
from cvlib.models.preprocess import Preprocessing, preprocess_batch, probabilities, top_k
from cvlib.models.regions import images_per_batch
from cvlib.storage.persist import ONNX_FILE, atomic_write_bytes, read_model_meta

if TYPE_CHECKING:
    from cvlib.data.dataset import Dataset

ENGINES = ("torch", "onnx")
ONNX_EXPORT_LOCK = threading.Lock()
"""``torch.onnx.export`` keeps global state: two exports at once in one process (two browser
sessions training or exporting together) fail with an AssertionError.  Every export takes
this lock."""


def _imagenet_meta(architecture: str) -> dict[str, Any]:
    """A model.json-like description of a registry model with its ImageNet head."""
    from cvlib.models import backbones

    spec = backbones.get_spec(architecture)
    return {"architecture": architecture, "classes": backbones.imagenet_classes(),
            "multi_label": False, "thresholds": None, "views": ["identity"],
            "preprocessing": spec.preprocessing.to_dict()}


class Predictor:
    """A loaded model: ``predict_proba(images) -> (N, C)`` probabilities.

    Build one with :meth:`load` (a saved model folder) or :meth:`pretrained` (an ImageNet
    backbone from the registry, for the live-scoring page).
    """

    def __init__(self, meta: dict[str, Any], run_batch, engine: str) -> None:
        self.meta = meta
        self.engine = engine
        self.classes: list[str] = list(meta["classes"])
        self.multi_label: bool = bool(meta.get("multi_label"))
        self.preprocessing = Preprocessing.from_dict(meta["preprocessing"])
        self._run_batch = run_batch

    @classmethod
    def load(cls, folder: str | Path, engine: str = "torch", *, threads: int | None = None
             ) -> Predictor:
        """Load a model folder with the chosen engine (ONNX exports on first use)."""
        folder = Path(folder)
        if engine == "onnx":
            meta, onnx_path = read_model_meta(folder), export_onnx(folder)
            try:
                return cls._onnx(meta, onnx_path, threads)
            except Exception as exc:  # onnxruntime raises its own types for damaged files
                raise ModelFormatError(f"{onnx_path}: unreadable ONNX model ({exc})") from exc
        if engine != "torch":
            raise ValueError(f"engine must be one of {ENGINES}")
        from cvlib.models.checkpoint import load_network

        network, meta = load_network(folder)
        return cls._torch(meta, network, threads)

    @classmethod
    def pretrained(cls, architecture: str = "efficientnet_lite0", engine: str = "torch",
                   *, threads: int | None = None) -> Predictor:
        """An ImageNet-1k classifier straight from the registry (offline weights)."""
        from cvlib.models import backbones

        meta = _imagenet_meta(architecture)
        network = backbones.create(architecture)
        if engine == "onnx":
            return cls._onnx(meta, _export_network(network, meta), threads)
        return cls._torch(meta, network, threads)

    @classmethod
    def from_network(cls, network, meta: dict[str, Any]) -> Predictor:
        """Wrap a network still in memory (just trained, not yet saved)."""
        return cls._torch(meta, network, None)

    @classmethod
    def _torch(cls, meta: dict[str, Any], network, threads: int | None) -> Predictor:
        import torch

        if threads:
            torch.set_num_threads(threads)
        # channels-last runs EfficientNet's convolutions about twice as fast on a CPU
        network = network.eval().to(memory_format=torch.channels_last)

        def run(batch: np.ndarray) -> np.ndarray:
            x = torch.from_numpy(batch).contiguous(memory_format=torch.channels_last)
            with torch.inference_mode():
                return network(x).numpy()

        return cls(meta, run, "torch")

    @classmethod
    def _onnx(cls, meta: dict[str, Any], model: Path | bytes, threads: int | None) -> Predictor:
        session = onnx_session(model, threads)
        name = session.get_inputs()[0].name

        def run(batch: np.ndarray) -> np.ndarray:
            return session.run(None, {name: batch})[0]

        return cls(meta, run, "onnx")

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Raw outputs for an already preprocessed NCHW batch."""
        return self._run_batch(np.ascontiguousarray(batch, dtype=np.float32))

    def predict_proba(self, images: Sequence[Image.Image], batch_size: int = 32) -> np.ndarray:
        """Probabilities (N, C), softmax or sigmoid as the model was trained.

        ``batch_size`` counts backbone inputs, so region-pooled models take fewer images
        at a time and memory stays flat.
        """
        layout = (self.meta.get("regions") or {}).get("layout", "whole")
        batch_size = images_per_batch(batch_size, layout)
        chunks = [probabilities(self.logits(preprocess_batch(images[s:s + batch_size],
                                                             self.preprocessing)),
                                self.multi_label)
                  for s in range(0, len(images), batch_size)]
        return np.concatenate(chunks) if chunks else np.zeros((0, len(self.classes)))

    def thresholds(self) -> np.ndarray:
        """Decision thresholds for multi-label models (0.5 unless tuned and saved)."""
        saved = self.meta.get("thresholds")
        value = 0.5 if saved is None else saved
        return np.broadcast_to(np.asarray(value, dtype=np.float64), (len(self.classes),))

    def decide(self, probs: np.ndarray) -> list[list[str]]:
        """Predicted label set(s): the argmax, or every label over its threshold."""
        if not self.multi_label:
            return [[self.classes[int(i)]] for i in probs.argmax(axis=1)]
        keep = probs >= self.thresholds()
        return [[c for c, k in zip(self.classes, row, strict=True) if k] for row in keep]

    def top_k(self, image: Image.Image, k: int = 5) -> list[tuple[str, float]]:
        """The k most probable classes for one image."""
        return top_k(self.predict_proba([image])[0], self.classes, k)

    def predict(self, images: Sequence[Image.Image]) -> list[list[str]]:
        """The label set the model decides for each image (one label unless multi-label)."""
        return self.decide(self.predict_proba(images))

    def evaluate(self, dataset: Dataset) -> dict[str, Any]:
        """Metrics on every photo of ``dataset``: photos the training never saw, ideally."""
        metrics, _ = evaluate_model(self, [item.path for item in dataset.items],
                                    [item.labels for item in dataset.items])
        return metrics


def load_model(folder: str | Path, engine: str = "torch", *, threads: int | None = None
               ) -> Predictor:
    """A saved model folder, ready to predict: ``cvlib.load_model(folder).predict(images)``."""
    return Predictor.load(folder, engine, threads=threads)


def onnx_session(model: Path | bytes, threads: int | None = None):
    """An ONNX Runtime CPU session tuned for a laptop: full graph optimisation, and idle
    worker threads that sleep instead of spinning (spinning would steal the cores the video
    stream and the app's other threads need)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    if threads:
        options.intra_op_num_threads = threads
    source = str(model) if isinstance(model, Path) else model
    return ort.InferenceSession(source, options, providers=["CPUExecutionProvider"])


def _export_network(network, meta: dict[str, Any]) -> bytes:
    """ONNX bytes of a network (dynamic batch, input ``input``, output ``logits``)."""
    import io
    import warnings

    import torch

    size = Preprocessing.from_dict(meta["preprocessing"]).image_size
    dummy = torch.zeros(1, 3, size, size)
    buffer = io.BytesIO()
    with ONNX_EXPORT_LOCK, warnings.catch_warnings():
        # region crops are fixed pixel boxes of the fixed input size: the tracer's warning
        # that they will not follow another size is the intended behaviour
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(network.eval(), (dummy,), buffer, input_names=["input"],
                          output_names=["logits"], opset_version=17, dynamo=False,
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
    return buffer.getvalue()


def export_onnx(folder: str | Path, *, force: bool = False) -> Path:
    """Write ``model.onnx`` next to the weights (once; again with ``force``).

    The preprocessing stays in ``model.json`` beside it, which every consumer reads.
    """
    folder = Path(folder)
    target = folder / ONNX_FILE
    weights = folder / "model.safetensors"
    if target.is_file() and not force and target.stat().st_mtime >= weights.stat().st_mtime:
        return target
    from cvlib.models.checkpoint import load_network

    network, meta = load_network(folder)
    return atomic_write_bytes(target, _export_network(network, meta))


@dataclass
class ParityReport:
    """How closely ONNX Runtime reproduces PyTorch on real images."""

    n: int
    label_agreement: float
    max_abs_prob_diff: float

    def to_dict(self) -> dict[str, float]:
        return {"n": self.n, "label_agreement": self.label_agreement,
                "max_abs_prob_diff": self.max_abs_prob_diff}


def parity(folder: str | Path, images: Sequence[Image.Image]) -> ParityReport:
    """Predict ``images`` with both engines and compare labels and probabilities."""
    torch_probs = Predictor.load(folder, "torch").predict_proba(images)
    onnx_probs = Predictor.load(folder, "onnx").predict_proba(images)
    agree = float((torch_probs.argmax(1) == onnx_probs.argmax(1)).mean()) if len(images) else 1.0
    diff = float(np.abs(torch_probs - onnx_probs).max()) if len(images) else 0.0
    return ParityReport(len(images), agree, diff)


def time_batches(predictor: Predictor, batch_size: int, repeats: int) -> float:
    """Mean seconds per call for a random preprocessed batch (for latency tables)."""
    size = predictor.preprocessing.image_size
    batch = np.random.default_rng(0).standard_normal((batch_size, 3, size, size),
                                                     dtype=np.float32)
    predictor.logits(batch)  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        predictor.logits(batch)
    return (time.perf_counter() - start) / repeats


def dataset_targets(classes: Sequence[str], labels: Sequence[Sequence[str]],
                    multi_label: bool) -> np.ndarray:
    """Targets of labelled items in a model's class order; unknown labels are an error."""
    from cvlib.errors import DatasetError

    index = {c: i for i, c in enumerate(classes)}
    unknown = sorted({lab for labs in labels for lab in labs} - set(index))
    if unknown:
        raise DatasetError(f"labels the model does not know: {', '.join(unknown)} "
                           f"(model classes: {', '.join(classes)})")
    if not multi_label:
        return np.array([index[labs[0]] for labs in labels], dtype=np.int64)
    matrix = np.zeros((len(labels), len(classes)), dtype=np.int64)
    for row, labs in enumerate(labels):
        matrix[row, [index[lab] for lab in labs]] = 1
    return matrix


def evaluate_model(predictor: Predictor, paths: Sequence[Path],
                   labels: Sequence[Sequence[str]]) -> tuple[dict[str, Any], np.ndarray]:
    """Metrics of a saved model on any labelled images (not only its training data)."""
    from cvlib.data.images import load_image
    from cvlib.evaluation.metrics import evaluate

    targets = dataset_targets(predictor.classes, labels, predictor.multi_label)
    probs = np.concatenate([predictor.predict_proba([load_image(p) for p in paths[s:s + 32]])
                            for s in range(0, len(paths), 32)])
    metrics = evaluate(probs, targets, predictor.classes, multi_label=predictor.multi_label,
                       threshold=predictor.thresholds())
    return metrics, probs
