"""Quick training: a linear head fitted on frozen, cached backbone features.

This is how Teachable Machine trains in seconds, and with ImageNet features it is also
strong on small data sets: the backbone already separates most everyday objects, and a
linear model with weight decay cannot overfit 100 photos the way a whole network can.
The head is fitted full-batch with L-BFGS (a multinomial logistic regression, or one
logistic regression per label for multi-label), optionally on standardised features whose
scaling is then folded into the weights, so the head always works on raw backbone features.
With region features ``(N, K, D)`` the head scores every region and the image's logits
are the smooth maximum over its regions (:func:`cvlib.region_pool.pool_regions`), exactly
what the saved :class:`cvlib.region_pool.RegionPool` network computes.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from cvlib.progress import Progress
from cvlib.region_pool import pool_regions
from cvlib.train_config import TrainConfig


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
    weight_decay: float = 1e-2,
    label_smoothing: float = 0.0,
    standardize: bool = False,
    max_iter: int = 300,
    progress: Progress | None = None,
) -> nn.Linear:
    """Fit ``Linear(D, num_classes)`` on ``features`` (N, D), or (N, K, D) regions, and return it.

    ``targets`` holds class indices (N,) for single-label, or a 0/1 matrix (N, C) for
    multi-label.  ``standardize`` scales every feature to unit variance first (then folds
    the scaling back into the weights); on EfficientNet-Lite2's features raw works as well
    or better.  The fit is deterministic: full batch, zero initialisation, L-BFGS.
    """
    x = torch.from_numpy(np.asarray(features, np.float32))
    flat = x.flatten(0, -2)
    if standardize:
        mean, std = flat.mean(0), flat.std(0).clamp_min(1e-6)
    else:
        mean, std = torch.zeros(x.shape[-1]), torch.ones(x.shape[-1])
    xs = (x - mean) / std
    y = torch.from_numpy(np.asarray(targets, np.float32))
    head = nn.Linear(x.shape[-1], num_classes)
    nn.init.zeros_(head.weight)
    nn.init.zeros_(head.bias)
    optimizer = torch.optim.LBFGS(head.parameters(), lr=1.0, max_iter=max_iter,
                                  history_size=20, line_search_fn="strong_wolfe")
    calls = {"n": 0}

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = _loss(_image_logits(head, xs), y, multi_label, label_smoothing)
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


def _image_logits(head: nn.Linear, x: torch.Tensor) -> torch.Tensor:
    """One row of logits per image: pooled over regions when features have them."""
    return pool_regions(head(x)) if x.ndim == 3 else head(x)


@torch.inference_mode()
def head_logits(head: nn.Linear, features: np.ndarray) -> np.ndarray:
    """Logits of a fitted head on cached features (what the saved network computes)."""
    return _image_logits(head, torch.from_numpy(np.asarray(features, np.float32))).numpy()


def fit_head_for(config: TrainConfig, features: np.ndarray, targets: np.ndarray,
                 num_classes: int, *, multi_label: bool,
                 progress: Progress | None = None) -> nn.Linear:
    """:func:`fit_linear_head` with a run's settings (weight decay, scaling, smoothing).

    Training, the learning-rate finder and the label-error folds all fit their heads here,
    so they always fit the same head for the same settings.
    """
    return fit_linear_head(features, targets, num_classes, multi_label=multi_label,
                           weight_decay=config.weight_decay, standardize=config.standardize,
                           label_smoothing=config.label_smoothing, progress=progress)
