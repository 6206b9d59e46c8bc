"""Quick training: a linear head fitted on frozen, cached backbone features.

This is how Teachable Machine trains in seconds, and with ImageNet features it is also
strong on small data sets: the backbone already separates most everyday objects, and a
linear model with weight decay cannot overfit 100 photos the way a whole network can.
The head is fitted full-batch with L-BFGS (a multinomial logistic regression, or one
logistic regression per label for multi-label), optionally on standardised features whose
scaling is then folded into the weights, so the head always works on raw backbone features.
The optimiser is scipy's L-BFGS-B (what scikit-learn's LogisticRegression uses) with
gradients from torch's autograd: torch's own optimisers import ``torch._dynamo`` on first
use, two seconds on a laptop CPU, which would double a warm quick run.
With region features ``(N, K, D)`` the head scores every region and the image's logits
are the smooth maximum over its regions (:func:`cvlib.models.region_pool.pool_regions`), exactly
what the saved :class:`cvlib.models.region_pool.RegionPool` network computes.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch
from scipy.optimize import minimize
from torch import nn
from torch.nn import functional as F

from cvlib.models.region_pool import pool_regions
from cvlib.runtime.progress import Progress
from cvlib.training.config import TrainConfig

SMALL_WORK = 200_000_000
"""Multiply-adds per loss evaluation below which one thread is faster than several."""


def _loss(logits: torch.Tensor, y: torch.Tensor, multi_label: bool,
          label_smoothing: float) -> torch.Tensor:
    """Cross-entropy for single-label, binary cross-entropy per label for multi-label."""
    if multi_label:
        target = y * (1 - label_smoothing) + 0.5 * label_smoothing
        return F.binary_cross_entropy_with_logits(logits, target)
    return F.cross_entropy(logits, y.long(), label_smoothing=label_smoothing)


def lbfgs(loss_of: Callable[..., torch.Tensor], shapes: Sequence[tuple[int, ...]], *,
          max_iter: int = 300, on_iteration: Callable[[int], None] | None = None,
          work: int = 0, start: Sequence[torch.Tensor] | None = None) -> list[torch.Tensor]:
    """Minimise ``loss_of(*params)`` over float64 parameters of ``shapes``, from zeros or
    from ``start``.

    Deterministic: full batch, fixed start, exact gradients.  ``on_iteration(k)`` is called
    after each of at most ``max_iter`` iterations.  ``work`` is the multiply-adds of one
    loss evaluation: below :data:`SMALL_WORK` the fit runs on one thread.
    """
    sizes = [math.prod(shape) for shape in shapes]

    def unpack(theta: torch.Tensor) -> list[torch.Tensor]:
        return [part.view(shape) for part, shape in
                zip(torch.split(theta, sizes), shapes, strict=True)]

    def objective(flat: np.ndarray) -> tuple[float, np.ndarray]:
        theta = torch.from_numpy(flat).requires_grad_(True)
        loss = loss_of(*unpack(theta))
        loss.backward()
        return float(loss.detach()), theta.grad.numpy()

    count = itertools.count(1)
    callback = None if on_iteration is None else (lambda _: on_iteration(next(count)))
    with _threads_for(work):
        x0 = (np.zeros(sum(sizes)) if start is None else
              torch.cat([part.double().flatten() for part in start]).numpy())
        found = minimize(objective, x0, jac=True, method="L-BFGS-B",
                         callback=callback, options={"maxiter": max_iter})
    return [part.detach() for part in unpack(torch.from_numpy(found.x))]


@contextlib.contextmanager
def _threads_for(work: int) -> Iterator[None]:
    """One torch thread for a small problem: waking other threads for each small product
    costs more than it saves (on a busy 2-core CPU one thread fitted 128 photos seven
    times faster, and 1,800 rows of 15 classes twice as fast)."""
    threads = torch.get_num_threads()
    if work >= SMALL_WORK or threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def fit_linear_head(
    features: np.ndarray,
    targets: np.ndarray,
    num_classes: int,
    *,
    multi_label: bool = False,
    weight_decay: float = TrainConfig.weight_decay,
    label_smoothing: float = 0.0,
    standardize: bool = False,
    max_iter: int = 300,
    progress: Progress | None = None,
    start: nn.Linear | None = None,
) -> nn.Linear:
    """Fit ``Linear(D, num_classes)`` on ``features`` (N, D), or (N, K, D) regions, and return it.

    ``targets`` holds class indices (N,) for single-label, or a 0/1 matrix (N, C) for
    multi-label.  ``standardize`` scales every feature to unit variance first (then folds
    the scaling back into the weights); on EfficientNet-Lite2's features raw works as well
    or better.  The fit is deterministic: full batch, zero initialisation, L-BFGS.
    ``start`` (a head fitted on related data, e.g. all folds of a cross-validation) starts
    the search there instead: the loss has one minimum, so only the time to reach it changes.
    """
    x = torch.from_numpy(np.asarray(features, np.float64))
    flat = x.flatten(0, -2)
    if standardize:
        mean, std = flat.mean(0), flat.std(0).clamp_min(1e-6)
    else:
        mean, std = torch.zeros_like(flat[0]), torch.ones_like(flat[0])
    xs = (x - mean) / std
    y = torch.from_numpy(np.asarray(targets, np.float64))

    def loss_of(weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        logits = _image_logits(xs @ weight.T + bias)
        loss = _loss(logits, y, multi_label, label_smoothing)
        return loss + 0.5 * weight_decay * weight.pow(2).sum()

    if progress is not None:
        progress.update(stage="fitting head", step=0, total=max_iter)
    weight, bias = lbfgs(loss_of, [(num_classes, x.shape[-1]), (num_classes,)],
                         max_iter=max_iter, work=x.numel() * num_classes,
                         start=None if start is None else _scaled(start, mean, std),
                         on_iteration=None if progress is None else
                         (lambda k: progress.update(step=k)))
    # head((x - mean) / std) == head'(x): fold the scaling in, so the network needs no layer
    return linear_layer(weight / std, bias - (weight * mean / std).sum(1))


def _scaled(head: nn.Linear, mean: torch.Tensor, std: torch.Tensor) -> list[torch.Tensor]:
    """A head on raw features as weights on standardised ones (the inverse of folding)."""
    weight, bias = head.weight.detach().double(), head.bias.detach().double()
    return [weight * std, bias + (weight * mean).sum(1)]


def linear_layer(weight: torch.Tensor, bias: torch.Tensor) -> nn.Linear:
    """An ``nn.Linear`` holding these weights (float32, as the network runs)."""
    layer = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        layer.weight.copy_(weight)
        layer.bias.copy_(bias)
    return layer


def _image_logits(logits: torch.Tensor) -> torch.Tensor:
    """One row of logits per image: pooled over regions when there are regions."""
    return pool_regions(logits) if logits.ndim == 3 else logits


@torch.inference_mode()
def head_logits(head: nn.Linear, features: np.ndarray) -> np.ndarray:
    """Logits of a fitted head on cached features (what the saved network computes)."""
    return _image_logits(head(torch.from_numpy(np.asarray(features, np.float32)))).numpy()


def fit_head_for(config: TrainConfig, features: np.ndarray, targets: np.ndarray,
                 num_classes: int, *, multi_label: bool,
                 progress: Progress | None = None, start: nn.Linear | None = None,
                 ) -> nn.Linear:
    """:func:`fit_linear_head` with a run's settings (weight decay, scaling, smoothing).

    Training, the learning-rate finder and the label-error folds all fit their heads here,
    so they always fit the same head for the same settings.
    """
    return fit_linear_head(features, targets, num_classes, multi_label=multi_label,
                           weight_decay=config.weight_decay, standardize=config.standardize,
                           label_smoothing=config.label_smoothing, progress=progress,
                           start=start)
