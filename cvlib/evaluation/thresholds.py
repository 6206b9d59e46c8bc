"""Decision thresholds for multi-label models: the metrics at every threshold, and the best.

A multi-label model gives one independent probability per class (a sigmoid each, not a
softmax shared by all), and a label is predicted when its probability reaches a threshold.
0.5 is only a convention: a model that is shy about a class (small probabilities even when
it is there) is better served by a lower threshold, one that sees a class everywhere by a
higher one.  This module measures every metric as a function of the threshold (0 to 1 in
steps of 0.05), and picks the best global threshold and the best threshold per class, on
validation data.

Everything here takes probabilities, never logits: a threshold on logits would mean
something else entirely (logit 0.5 is probability 0.62).

A threshold tuned on the validation images flatters the score measured on those same
images: with few images, per-class thresholds especially can fit their noise.  The pages
say so next to the numbers.

Examples
--------
>>> probs = np.array([[0.9, 0.4], [0.2, 0.7]])
>>> y = np.array([[1, 1], [0, 1]])
>>> scores(probs, y, 0.5)["exact_match"], scores(probs, y, 0.3)["exact_match"]
(0.5, 1.0)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

THRESHOLDS = np.round(np.linspace(0.0, 1.0, 21), 2)
"""The grid the curves and the search use: 0, 0.05, ..., 1."""

METRICS = ("exact_match", "hamming_accuracy", "f1", "precision", "recall")
"""What :func:`scores` returns, and what a threshold can be tuned for."""

NEUTRAL = 0.5
"""Among thresholds that score the same, the one nearest this is chosen (the usual default)."""


def decide(probs: np.ndarray, threshold: float | np.ndarray) -> np.ndarray:
    """0/1 predictions (N, C): a label is predicted when its probability reaches its threshold.

    ``threshold`` is one number for every class, or one per class.
    """
    return (np.asarray(probs) >= np.asarray(threshold, dtype=np.float64)).astype(np.int64)


def scores(probs: np.ndarray, y: np.ndarray, threshold: float | np.ndarray) -> dict[str, float]:
    """Every headline multi-label metric at one threshold (global or per class).

    * ``hamming_accuracy``: the share of (image, class) decisions that are right;
    * ``exact_match``: the share of images whose whole label set is right (zero-one accuracy);
    * ``precision``, ``recall``, ``f1``: micro-averaged over every (image, class) pair, so a
      frequent class weighs more than a rare one.

    Precision with nothing predicted, and recall with nothing to find, count as 1 (nothing
    was wrong); F1 is 0 when either precision or recall is.
    """
    y = np.asarray(y, dtype=np.int64)
    pred = decide(probs, threshold)
    if not len(y):
        return {name: 0.0 for name in METRICS}
    true_pos = int((pred & y).sum())
    predicted, actual = int(pred.sum()), int(y.sum())
    precision = true_pos / predicted if predicted else 1.0
    recall = true_pos / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if true_pos else 0.0
    return {"exact_match": float((pred == y).all(axis=1).mean()),
            "hamming_accuracy": float((pred == y).mean()),
            "f1": float(f1), "precision": float(precision), "recall": float(recall)}


def threshold_curve(probs: np.ndarray, y: np.ndarray,
                    thresholds: np.ndarray = THRESHOLDS) -> dict[str, list[float]]:
    """Each metric of :func:`scores` at each threshold of the grid (one global threshold).

    Returns ``{"threshold": [...], "exact_match": [...], ...}``, ready for a plot or pandas.
    """
    rows = [scores(probs, y, float(t)) for t in thresholds]
    return {"threshold": [float(t) for t in thresholds],
            **{name: [row[name] for row in rows] for name in METRICS}}


def best_threshold(probs: np.ndarray, y: np.ndarray, metric: str = "exact_match",
                   thresholds: np.ndarray = THRESHOLDS) -> tuple[float, float]:
    """The global threshold with the best ``metric``, and that score.

    Ties (common on small validation sets, where the curve has flat steps) go to the
    threshold nearest 0.5, so the choice moves away from the convention only when the data
    says it pays.
    """
    _check_metric(metric)
    values = threshold_curve(probs, y, thresholds)[metric]
    return _pick(list(thresholds), values)


def per_class_thresholds(probs: np.ndarray, y: np.ndarray, metric: str = "hamming_accuracy",
                         thresholds: np.ndarray = THRESHOLDS) -> np.ndarray:
    """One threshold per class, each chosen on that class's column alone.

    ``metric`` is judged per class: ``hamming_accuracy`` is that class's share of right
    yes/no decisions (what makes whole label sets right), ``f1`` its F1 score.  Ties go to
    the threshold nearest 0.5.
    """
    _check_metric(metric)
    probs, y = np.asarray(probs), np.asarray(y, dtype=np.int64)
    chosen = []
    for column in range(probs.shape[1]):
        p, t = probs[:, [column]], y[:, [column]]
        values = [scores(p, t, float(th))[metric] for th in thresholds]
        chosen.append(_pick(list(thresholds), values)[0])
    return np.asarray(chosen, dtype=np.float64)


@dataclass
class ThresholdChoice:
    """The outcome of :func:`tune`: the best global and per-class thresholds and their scores.

    ``scores_at_default``, ``scores_global`` and ``scores_per_class`` hold every metric of
    :func:`scores` at 0.5, at ``threshold`` and at ``per_class`` respectively.
    """

    metric: str
    threshold: float
    per_class: list[float]
    classes: list[str]
    scores_at_default: dict[str, float]
    scores_global: dict[str, float]
    scores_per_class: dict[str, float]
    curve: dict[str, list[float]]

    def to_dict(self) -> dict[str, Any]:
        """The figures for JSON (the CLI, run records); the curve is left out."""
        return {"metric": self.metric, "threshold": self.threshold,
                "per_class": dict(zip(self.classes, self.per_class, strict=True)),
                "at_0.5": self.scores_at_default, "at_threshold": self.scores_global,
                "at_per_class": self.scores_per_class}


def tune(probs: np.ndarray, y: np.ndarray, classes: list[str],
         metric: str = "exact_match") -> ThresholdChoice:
    """Choose thresholds on validation probabilities ``probs`` with true labels ``y``.

    The global threshold maximises ``metric``; the per-class thresholds maximise each
    class's own yes/no accuracy (which is what gets whole label sets right).
    """
    threshold, _ = best_threshold(probs, y, metric)
    per_class = per_class_thresholds(probs, y, "hamming_accuracy")
    return ThresholdChoice(metric=metric, threshold=threshold,
                           per_class=[float(t) for t in per_class], classes=list(classes),
                           scores_at_default=scores(probs, y, NEUTRAL),
                           scores_global=scores(probs, y, threshold),
                           scores_per_class=scores(probs, y, per_class),
                           curve=threshold_curve(probs, y))


def saved_form(threshold: float | list[float] | np.ndarray) -> float | list[float]:
    """What ``model.json`` stores under ``"thresholds"``: one float, or a list per class."""
    values = np.atleast_1d(np.asarray(threshold, dtype=np.float64))
    if values.size == 1:
        return round(float(values[0]), 4)
    return [round(float(v), 4) for v in values]


def _pick(thresholds: list[float], values: list[float]) -> tuple[float, float]:
    """The best value's threshold, ties broken towards :data:`NEUTRAL`."""
    best = max(values)
    candidates = [t for t, v in zip(thresholds, values, strict=True) if v >= best - 1e-12]
    return float(min(candidates, key=lambda t: (abs(t - NEUTRAL), t))), float(best)


def _check_metric(metric: str) -> None:
    """Refuse a metric name :func:`scores` does not compute."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, not {metric!r}")
