"""Honest validation numbers, computed with scikit-learn on held-out probabilities.

All metrics take probabilities (softmax for single-label, sigmoid for multi-label), never
raw logits, so thresholds and curves mean what they say.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import metrics as skm

from cvlib.thresholds import scores


def one_hot(targets: np.ndarray, num_classes: int) -> np.ndarray:
    """Class indices (N,) -> 0/1 matrix (N, C)."""
    out = np.zeros((len(targets), num_classes), dtype=np.int64)
    out[np.arange(len(targets)), np.asarray(targets, dtype=np.int64)] = 1
    return out


def per_sample_loss(probs: np.ndarray, targets: np.ndarray, multi_label: bool) -> np.ndarray:
    """Cross-entropy of each sample: what 'top losses' sorts by."""
    eps = 1e-7
    p = np.clip(probs, eps, 1 - eps)
    if multi_label:
        y = np.asarray(targets, dtype=np.float64)
        return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(axis=1)
    return -np.log(p[np.arange(len(targets)), np.asarray(targets, dtype=np.int64)])


def top_losses(probs: np.ndarray, targets: np.ndarray, multi_label: bool,
               k: int | None = None) -> np.ndarray:
    """Indices of the samples the model got most wrong, worst first."""
    order = np.argsort(-per_sample_loss(probs, targets, multi_label), kind="stable")
    return order if k is None else order[:k]


def curves(probs: np.ndarray, y_onehot: np.ndarray, classes: list[str]) -> dict[str, Any]:
    """Per-class and micro-averaged ROC and precision-recall curves with AUC / AP.

    A class with no positive (or no negative) sample in the data has no curve; it is left
    out rather than reported as a misleading 0 or 1.
    """
    out: dict[str, Any] = {"roc": {}, "pr": {}}
    columns = [(name, y_onehot[:, i], probs[:, i]) for i, name in enumerate(classes)]
    columns.append(("micro", y_onehot.ravel(), probs.ravel()))
    for name, y, p in columns:
        if y.min() == y.max():
            continue
        fpr, tpr, _ = skm.roc_curve(y, p)
        precision, recall, _ = skm.precision_recall_curve(y, p)
        out["roc"][name] = {"fpr": fpr.tolist(), "tpr": tpr.tolist(),
                            "auc": float(skm.auc(fpr, tpr))}
        out["pr"][name] = {"precision": precision.tolist(), "recall": recall.tolist(),
                           "ap": float(skm.average_precision_score(y, p))}
    return out


def evaluate_single_label(probs: np.ndarray, targets: np.ndarray,
                          classes: list[str]) -> dict[str, Any]:
    """Accuracy, per-class precision/recall/F1, confusion matrix and curves."""
    targets = np.asarray(targets, dtype=np.int64)
    preds = probs.argmax(axis=1)
    labels = list(range(len(classes)))
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        targets, preds, labels=labels, zero_division=0)
    return {
        "n": len(targets),
        "accuracy": float(skm.accuracy_score(targets, preds)) if len(targets) else 0.0,
        "per_class": {c: {"precision": float(precision[i]), "recall": float(recall[i]),
                          "f1": float(f1[i]), "support": int(support[i])}
                      for i, c in enumerate(classes)},
        "confusion": skm.confusion_matrix(targets, preds, labels=labels).tolist(),
        "loss": float(per_sample_loss(probs, targets, False).mean()) if len(targets) else 0.0,
        **curves(probs, one_hot(targets, len(classes)), classes),
    }


def summary(metrics: dict[str, Any]) -> dict[str, float]:
    """The headline numbers of a metrics dict (for tables, the CLI and run records)."""
    keys = ("accuracy", "loss", "hamming_accuracy", "exact_match", "threshold", "n")
    return {k: metrics[k] for k in keys if k in metrics}


def evaluate_multi_label(probs: np.ndarray, y: np.ndarray, classes: list[str],
                         threshold: float | np.ndarray = 0.5) -> dict[str, Any]:
    """Hamming (per-label) and exact-match accuracy at ``threshold``, per-class P/R/F1/AP.

    ``threshold`` is one number for all classes or one per class.  ``precision``, ``recall``
    and ``f1`` are micro-averaged over every (image, class) decision; ``mean_ap`` averages
    the per-class AP (which needs no threshold) over the classes that have positives.
    """
    y = np.asarray(y, dtype=np.int64)
    preds = (probs >= np.asarray(threshold)).astype(np.int64)
    precision, recall, f1, support = skm.precision_recall_fscore_support(
        y, preds, zero_division=0)
    ap = [float(skm.average_precision_score(y[:, i], probs[:, i])) if y[:, i].any() else None
          for i in range(len(classes))]
    return {
        "n": len(y),
        "threshold": float(np.mean(threshold)),
        "hamming_accuracy": float((preds == y).mean()) if len(y) else 0.0,
        "exact_match": float((preds == y).all(axis=1).mean()) if len(y) else 0.0,
        "accuracy": float((preds == y).all(axis=1).mean()) if len(y) else 0.0,
        **{k: v for k, v in scores(probs, y, threshold).items()
           if k in ("precision", "recall", "f1")},
        "mean_ap": float(np.mean([a for a in ap if a is not None])) if any(
            a is not None for a in ap) else None,
        "per_class": {c: {"precision": float(precision[i]), "recall": float(recall[i]),
                          "f1": float(f1[i]), "support": int(support[i]), "ap": ap[i]}
                      for i, c in enumerate(classes)},
        "loss": float(per_sample_loss(probs, y, True).mean()) if len(y) else 0.0,
        **curves(probs, y, classes),
    }


def evaluate(probs: np.ndarray, targets: np.ndarray, classes: list[str], *,
             multi_label: bool = False,
             threshold: float | np.ndarray = 0.5) -> dict[str, Any]:
    """One entry point for both kinds of model, so callers never branch on the mode.

    For multi-label models, ``accuracy`` is the exact-match (zero-one) accuracy.
    """
    if multi_label:
        return evaluate_multi_label(probs, targets, classes, threshold)
    return evaluate_single_label(probs, targets, classes)
