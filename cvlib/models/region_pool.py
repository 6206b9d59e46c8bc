"""The network that reads regions: crops inside the model, one shared head, a smooth maximum.

:mod:`cvlib.models.regions` says which regions there are and why.  Here they become tensors: the
crops are cut from the model's input tensor inside the network, so a saved model, its ONNX
export and the scoring server compute them the same way, and feature extraction calls the
same :func:`crop_regions` so cached features match the saved network exactly.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from cvlib.models.regions import SHARPNESS, boxes_for, pixel_box


def crop_regions(x: torch.Tensor, boxes: Sequence[Sequence[float]], size: int) -> torch.Tensor:
    """``(N, C, S, S)`` inputs -> ``(N * K, C, size, size)`` region crops, image by image.

    Each box is cut from the tensor and resized bilinearly to the backbone's input size;
    feature extraction and the saved network both call this, so they agree exactly.
    """
    height, width = int(x.shape[-2]), int(x.shape[-1])  # plain ints: ONNX export fixes S
    crops = []
    for box in boxes:
        left, top, right, bottom = pixel_box(box, width, height)
        part = x[..., top:bottom, left:right]
        if part.shape[-2:] != (size, size):
            part = F.interpolate(part, size=(size, size), mode="bilinear", align_corners=False)
        crops.append(part)
    return torch.stack(crops, dim=1).flatten(0, 1)


def pool_regions(logits: torch.Tensor, sharpness: float = SHARPNESS) -> torch.Tensor:
    """``(N, K, C)`` region logits -> ``(N, C)`` image logits by a smooth maximum over K."""
    regions = logits.shape[1]
    return (torch.logsumexp(sharpness * logits, dim=1) - math.log(regions)) / sharpness


def region_weights(logits: torch.Tensor, sharpness: float = SHARPNESS) -> torch.Tensor:
    """How much each region contributes to each class's pooled score, ``(N, K, C)``.

    The gradient of :func:`pool_regions`: a softmax over regions, used to assemble a
    Grad-CAM map from the regions that carried the decision.
    """
    return torch.softmax(sharpness * logits, dim=1)


class RegionPool(nn.Module):
    """A classifier applied to every region of its input, pooled to one score per class.

    ``net`` is a whole timm classifier at ``size`` px; this module takes the larger
    ``(N, 3, S, S)`` input the model's preprocessing produces.
    """

    def __init__(self, net: nn.Module, boxes: Sequence[Sequence[float]], size: int,
                 sharpness: float = SHARPNESS) -> None:
        super().__init__()
        self.net = net
        self.boxes = [tuple(float(v) for v in box) for box in boxes]
        self.size = int(size)
        self.sharpness = float(sharpness)

    def region_logits(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, K, C)``: the head's logits for every region of every image."""
        out = self.net(crop_regions(x, self.boxes, self.size))
        return out.unflatten(0, (x.shape[0], len(self.boxes)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return pool_regions(self.region_logits(x), self.sharpness)

    def get_classifier(self) -> nn.Module:
        """The shared head (fastai's splitter and the quick head use it)."""
        return self.net.get_classifier()


def wrap(net: nn.Module, layout: str, size: int) -> nn.Module:
    """``net`` as it is for the whole-image layout, inside a :class:`RegionPool` otherwise."""
    if layout == "whole":
        return net
    return RegionPool(net, boxes_for(layout), size)


def from_meta(net: nn.Module, regions: dict | None) -> nn.Module:
    """Rebuild the pooling a saved model describes (``None``: a whole-image model)."""
    if not regions:
        return net
    return RegionPool(net, regions["boxes"], regions["size"], regions["sharpness"])
