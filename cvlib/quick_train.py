"""Quick training: a linear head fitted on frozen, cached backbone features.

This is how Teachable Machine trains in seconds, and with ImageNet features it is also
strong on small data sets: the backbone already separates most everyday objects, and a
linear model with weight decay cannot overfit 100 photos the way a whole network can.
The head is fitted full-batch with L-BFGS on standardised features (a multinomial logistic
regression, or one logistic regression per label for multi-label), then the
standardisation is folded into the weights so the head works on raw backbone features.

Multi-label presence is better served by :func:`fit_spatial_head`: the same linear scores at
every position of the feature map, pooled with log-sum-exp (see :mod:`cvlib.heads`).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from cvlib.heads import SpatialLSEHead
from cvlib.progress import Progress


def _loss(logits: torch.Tensor, y: torch.Tensor, multi_label: bool,
          label_smoothing: float) -> torch.Tensor:
    """Cross-entropy for single-label, binary cross-entropy per label for multi-label."""
    if multi_label:
        target = y * (1 - label_smoothing) + 0.5 * label_smoothing
        return F.binary_cross_entropy_with_logits(logits, target)
    return F.cross_entropy(logits, y.long(), label_smoothing=label_smoothing)


def fit_linear_head(
    features: np.ndarray,
    targets: np.ndarray,
    num_classes: int,
    *,
    multi_label: bool = False,
    weight_decay: float = 1e-3,
    label_smoothing: float = 0.0,
    max_iter: int = 300,
    progress: Progress | None = None,
) -> nn.Linear:
    """Fit ``Linear(D, num_classes)`` on ``features`` (N, D) and return it.

    ``targets`` holds class indices (N,) for single-label, or a 0/1 matrix (N, C) for
    multi-label.  The fit is deterministic: full batch, zero initialisation, L-BFGS.
    """
    x = torch.from_numpy(np.asarray(features, np.float32))
    mean, std = x.mean(0), x.std(0).clamp_min(1e-6)
    xs = (x - mean) / std
    y = torch.from_numpy(np.asarray(targets, np.float32))
    head = nn.Linear(x.shape[1], num_classes)
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    optimizer = torch.optim.LBFGS(head.parameters(), lr=1.0, max_iter=max_iter,
                                  history_size=20, line_search_fn="strong_wolfe")
    calls = {"n": 0}

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = _loss(head(xs), y, multi_label, label_smoothing)
        loss = loss + 0.5 * weight_decay * head.weight.pow(2).sum()
        loss.backward()
        calls["n"] += 1
        if progress is not None:
            progress.update(step=min(calls["n"], max_iter))
        return loss

    if progress is not None:
        progress.update(stage="fitting head", step=0, total=max_iter)
    optimizer.step(closure)
    return fold_standardisation(head, mean, std)


def fold_standardisation(head: nn.Linear, mean: torch.Tensor, std: torch.Tensor) -> nn.Linear:
    """Rewrite ``head((x - mean) / std)`` as ``head'(x)`` so the network needs no extra layer."""
    folded = nn.Linear(head.in_features, head.out_features)
    with torch.no_grad():
        folded.weight.copy_(head.weight / std)
        folded.bias.copy_(head.bias - (head.weight * mean / std).sum(1))
    return folded


@torch.inference_mode()
def head_logits(head: nn.Linear, features: np.ndarray) -> np.ndarray:
    """Logits of a fitted head on cached features (what the saved network computes)."""
    return head(torch.from_numpy(np.asarray(features, np.float32))).numpy()


def pooled_features(maps: np.ndarray) -> np.ndarray:
    """Spatial features ``(N, views, D, h, w)`` averaged over views and positions, ``(N, D)``.

    These are exactly the features global average pooling caches, so a linear probe can be
    fitted (and a spatial head started) without a second pass through the backbone.
    """
    return np.asarray(maps, np.float32).mean(axis=(1, 3, 4))


def fit_spatial_head(
    maps: np.ndarray,
    targets: np.ndarray,
    num_classes: int,
    *,
    r: float = 6.0,
    weight_decay: float = 1e-3,
    label_smoothing: float = 0.0,
    init: nn.Linear | None = None,
    max_iter: int = 300,
    progress: Progress | None = None,
) -> SpatialLSEHead:
    """Fit a :class:`SpatialLSEHead` (multi-label, BCE) on feature maps of every view.

    ``maps`` is ``(N, views, D, h, w)``; the logits of an image are the head's pooled logits
    averaged over its views, as the saved network (inside ``ViewAverage``) computes them.
    ``init`` is a linear head on average-pooled features (raw, not standardised): with
    ``r -> 0`` the spatial head equals it, so it is a good start for L-BFGS.  The fit runs
    on features standardised with the statistics of the average-pooled features (so weight
    decay means what it means for the linear head) and the standardisation is folded into
    the weights after.
    """
    n, views, dim = maps.shape[:3]
    pooled = torch.from_numpy(pooled_features(maps))
    mean, std = pooled.mean(0), pooled.std(0).clamp_min(1e-6)
    xs = (_positions(maps) - mean) / std
    y = torch.from_numpy(np.asarray(targets, np.float32))
    head = SpatialLSEHead(dim, num_classes, r)
    if init is not None:
        with torch.no_grad():
            head.weight.copy_(init.weight * std)
            head.bias.copy_(init.bias + init.weight @ mean)
    optimizer = torch.optim.LBFGS(head.parameters(), lr=1.0, max_iter=max_iter,
                                  history_size=20, line_search_fn="strong_wolfe")
    calls = {"n": 0}

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        logits = head.pool(head.scores_of_positions(xs)).view(n, views, num_classes).mean(1)
        loss = _loss(logits, y, True, label_smoothing)
        loss = loss + 0.5 * weight_decay * head.weight.pow(2).sum()
        loss.backward()
        calls["n"] += 1
        if progress is not None:
            progress.update(step=min(calls["n"], max_iter))
        return loss

    if progress is not None:
        progress.update(stage="fitting spatial head", step=0, total=max_iter)
    optimizer.step(closure)
    with torch.no_grad():
        folded = SpatialLSEHead(dim, num_classes, r)
        folded.weight.copy_(head.weight / std)
        folded.bias.copy_(head.bias - (head.weight * mean / std).sum(1))
    return folded


@torch.inference_mode()
def spatial_head_logits(head: SpatialLSEHead, maps: np.ndarray) -> np.ndarray:
    """Logits of a spatial head on cached maps ``(N, views, D, h, w)``, averaged over views."""
    n, views = maps.shape[:2]
    pooled = head.pool(head.scores_of_positions(_positions(maps)))
    return pooled.view(n, views, -1).mean(1).numpy()


def _positions(maps: np.ndarray) -> torch.Tensor:
    """Maps ``(N, views, D, h, w)`` as position-major rows ``(N * views, h * w, D)``."""
    x = torch.from_numpy(np.asarray(maps, np.float32))
    return x.flatten(0, 1).flatten(2).transpose(1, 2).contiguous()
