"""A trained model as a folder: ``model.safetensors`` + ``model.json`` (and ``model.onnx``).

The JSON is the model's ``pretrained_cfg``: classes, architecture, head, test-time views,
preprocessing, thresholds, metrics, data fingerprint and library versions.  Everything that
consumes a model (prediction, the stream, export, the scoring server) rebuilds it from this
folder alone.  Loading reads tensors with safetensors and JSON with ``json``: nothing is ever
unpickled, so a model from a stranger cannot run code.
"""

from __future__ import annotations

import dataclasses
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from cvlib.errors import ModelFormatError
from cvlib.models import region_pool
from cvlib.models.card import ModelCard
from cvlib.models.preprocess import Preprocessing
from cvlib.storage.persist import (
    META_FILE,
    MODEL_FORMAT,
    WEIGHTS_FILE,
    atomic_write_json,
    read_model_meta,
    staged_folder,
)


class ViewAverage(nn.Module):
    """Averages a network's logits over test-time views (the image and its mirror).

    Quick training fits its head on view-averaged features; with a linear head, averaging
    logits over the same views gives exactly the logits of the averaged features, so the
    saved network predicts what was validated.
    """

    def __init__(self, net: nn.Module, views: tuple[str, ...]) -> None:
        super().__init__()
        self.net = net
        self.views = tuple(views)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [self.net(torch.flip(x, dims=[3]) if view == "hflip" else x)
                for view in self.views]
        return sum(outs[1:], outs[0]) / len(outs)


def build_network(meta: dict[str, Any], *, pretrained: bool = False) -> nn.Module:
    """The network a model folder describes, with random (or ImageNet) weights."""
    from cvlib.models import backbones

    net = backbones.create(meta["architecture"], num_classes=len(meta["classes"]),
                        pretrained=pretrained)
    dropout = float(meta.get("head", {}).get("dropout", 0.0))
    if hasattr(net, "drop_rate"):
        net.drop_rate = dropout
    net = region_pool.from_meta(net, meta.get("regions"))
    views = tuple(meta.get("views", ["identity"]))
    return ViewAverage(net, views) if views != ("identity",) else net


def library_versions() -> dict[str, str]:
    """Versions recorded with every model and run, so results can be reproduced."""
    import numpy

    return {"python": platform.python_version(), "torch": torch.__version__,
            "timm": metadata.version("timm"), "numpy": numpy.__version__}


def make_meta(
    *,
    architecture: str,
    classes: list[str],
    multi_label: bool,
    preprocessing: Preprocessing,
    views: tuple[str, ...],
    **more: Any,
) -> dict[str, Any]:
    """The ``model.json`` content, built as a :class:`~cvlib.models.card.ModelCard` (the one
    place it is built); ``more`` adds metrics, training settings, fingerprint..."""
    known = {f.name for f in dataclasses.fields(ModelCard)}
    card = ModelCard(architecture=architecture, classes=list(classes),
                     multi_label=bool(multi_label), preprocessing=preprocessing,
                     views=tuple(views), versions=library_versions(),
                     **{k: v for k, v in more.items() if k in known},
                     extra={k: v for k, v in more.items() if k not in known})
    return card.to_dict()


def save_model(folder: str | Path, network: nn.Module, meta: dict[str, Any]) -> Path:
    """Write weights and JSON into ``folder`` atomically (the old version survives a crash)."""
    return save_state(folder, network.state_dict(), meta)


def save_state(folder: str | Path, state: dict[str, torch.Tensor], meta: dict[str, Any]
               ) -> Path:
    """:func:`save_model` from a state dict: what :func:`build_network` (meta) will load."""
    folder = Path(folder)
    state = {k: v.detach().cpu().contiguous() for k, v in state.items()}
    with staged_folder(folder) as staging:
        save_file(state, str(staging / WEIGHTS_FILE), metadata={"format": MODEL_FORMAT})
        atomic_write_json(staging / META_FILE, meta)
    return folder


def load_network(folder: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild a saved model in eval mode, reading tensors only (no pickle)."""
    folder = Path(folder)
    meta = read_model_meta(folder)
    network = build_network(meta)
    try:
        state = load_file(str(folder / WEIGHTS_FILE))
    except Exception as exc:  # safetensors raises several types for damaged files
        raise ModelFormatError(f"{folder / WEIGHTS_FILE}: unreadable weights ({exc})") from exc
    try:
        network.load_state_dict(state)
    except RuntimeError as exc:
        raise ModelFormatError(
            f"{folder}: weights do not fit a {meta['architecture']} with "
            f"{len(meta['classes'])} classes"
        ) from exc
    return network.eval(), meta
