"""Classifier heads that score every position of a backbone's feature map.

Global average pooling, then a linear layer, dilutes a product that fills a third of the
photo: two thirds of the averaged vector describe its neighbours.  For multi-label presence
("is there milk anywhere?") the classic fix is to score each position with the same linear
layer and pool the per-position scores with a max-like operator.  Log-sum-exp pooling,
``(1/r) log(mean_p exp(r s_p))``, sits between the average (``r -> 0``) and the maximum
(``r -> inf``): smooth enough to train with L-BFGS, sharp enough to find one product.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class SpatialLSEHead(nn.Module):
    """Per-position linear scores ``W f_p + b`` pooled by log-sum-exp with sharpness ``r``.

    Takes a feature map ``(N, D, h, w)`` and returns logits ``(N, C)``.  Its tensors are named
    and shaped like ``nn.Linear``'s (``weight`` (C, D), ``bias`` (C,)), so a linear head's
    solution is a valid starting point; ``r`` is a setting (stored in ``model.json``).
    """

    def __init__(self, in_features: int, out_features: int, r: float) -> None:
        super().__init__()
        self.in_features, self.out_features, self.r = in_features, out_features, float(r)
        self.weight = nn.Parameter(torch.zeros(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))

    def position_scores(self, maps: torch.Tensor) -> torch.Tensor:
        """Each class's score at each position, ``(N, h*w, C)``.

        A matrix product on position-major features: on a CPU far faster than a 1x1
        convolution with a handful of output channels.
        """
        return self.scores_of_positions(maps.flatten(2).transpose(1, 2))

    def scores_of_positions(self, positions: torch.Tensor) -> torch.Tensor:
        """Scores ``(N, P, C)`` of position-major features ``(N, P, D)``."""
        return positions @ self.weight.t() + self.bias

    def pool(self, scores: torch.Tensor) -> torch.Tensor:
        """Log-sum-exp pooling of ``(N, P, C)`` scores over positions, ``(N, C)``."""
        count = scores.shape[1]
        return (torch.logsumexp(self.r * scores, dim=1) - math.log(count)) / self.r

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        return self.pool(self.position_scores(maps))

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, r={self.r}"


def attach_spatial_head(net: nn.Module, head: SpatialLSEHead) -> nn.Module:
    """Make a timm classifier score positions: no global pooling, ``head`` as classifier.

    timm's ``forward_head`` is ``classifier(dropout(global_pool(x)))``; with an identity pool
    the classifier receives the feature map itself.  The network stays a timm model (same
    layer names, ``get_classifier()``, Grad-CAM target layers), only its head differs.
    """
    net.global_pool = nn.Identity()
    net.classifier = head
    return net
