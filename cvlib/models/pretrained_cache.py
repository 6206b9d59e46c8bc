"""The ImageNet weights of each backbone, kept once as safetensors under the studio home.

A quick model is these weights with a new head, so with this file a quick run saves its
model folder without importing timm or building the network (README, "Fast on a CPU").
:mod:`cvlib.models.backbones` writes the file when it first loads the weights;
:mod:`cvlib.models.checkpoint` and training read it.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from safetensors.torch import save as safetensors_bytes
from torch import nn

from cvlib.storage.home import studio_home
from cvlib.storage.persist import atomic_write_bytes


def pretrained_state_path(architecture: str) -> Path:
    """Where the ImageNet weights of ``architecture`` are kept under timm's names.

    The timm version is part of the name: another version may name parameters otherwise.
    """
    timm_version = metadata.version("timm")
    return studio_home() / "backbones" / f"{architecture}-timm{timm_version}.safetensors"


def remember_pretrained_state(architecture: str, state: dict[str, torch.Tensor]) -> None:
    """Keep the (remapped) ImageNet weights as safetensors, once per architecture.

    A quick model is these weights with a new head, so with this file a quick run saves
    its model without importing timm or building the network (README, "Fast on a CPU").
    """
    path = pretrained_state_path(architecture)
    if not path.is_file():
        atomic_write_bytes(path, safetensors_bytes({k: v.contiguous() for k, v in state.items()}))


def state_prefix(meta: dict[str, Any]) -> str:
    """How deep :func:`build_network` nests the timm network: ``net.`` per wrapper."""
    wrappers = bool(meta.get("regions")) + (tuple(meta.get("views", ["identity"]))
                                            != ("identity",))
    return "net." * wrappers


def head_on_pretrained(meta: dict[str, Any], head: nn.Linear) -> dict[str, torch.Tensor] | None:
    """The state dict of a model that is the ImageNet network with ``head`` as classifier.

    Built from :func:`pretrained_state_path` without the network; ``None`` when that file is
    not there yet or unreadable (the caller then builds the network).
    """
    from cvlib.models.registry import get_spec

    path = pretrained_state_path(meta["architecture"])
    if not path.is_file():
        return None
    try:
        pretrained = load_file(str(path))
    except Exception:  # noqa: BLE001 - a damaged cache file: build the network instead,
        path.unlink(missing_ok=True)  # which writes it again
        return None
    classifier = get_spec(meta["architecture"]).classifier + "."
    prefix = state_prefix(meta)
    state = {prefix + k: v for k, v in pretrained.items() if not k.startswith(classifier)}
    for name, value in head.state_dict().items():
        state[prefix + classifier + name] = value
    return state
