"""Honest validation numbers on held-out probabilities.

All metrics take probabilities (softmax for single-label, sigmoid for multi-label), never
raw logits, so thresholds and curves mean what they say.  Counting metrics (accuracy,
confusion matrix, precision, recall, F1) are a few lines of numpy over the confusion
counts; ranking metrics (ROC and PR curves, AUC, average precision) are scikit-learn's,
imported when first needed: it takes over a second to import, which a quick command-line
run would otherwise spend on curves it never prints.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cvlib.evaluation.thresholds import scores


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


def confusion_matrix(targets: np.ndarray, preds: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts (C, C): row = true class, column = predicted class."""
    flat = np.asarray(targets, np.int64) * num_classes + np.asarray(preds, np.int64)
    return np.bincount(flat, minlength=num_classes * num_classes).reshape(num_classes,
                                                                         num_classes)


def precision_recall_f1(tp: np.ndarray, predicted: np.ndarray, actual: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-class precision, recall and F1 from counts; 0 where a ratio has nothing to count
    (scikit-learn's ``zero_division=0``)."""
    tp, predicted, actual = (np.asarray(a, np.float64) for a in (tp, predicted, actual))
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    total = precision + recall
    f1 = np.divide(2 * precision * recall, total, out=np.zeros_like(tp), where=total > 0)
    return precision, recall, f1


def average_precision(y: np.ndarray, p: np.ndarray) -> float | None:
    """Area under one class's precision-recall curve (``None`` without positives)."""
    if not np.asarray(y).any():
        return None
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, p))


def curves(probs: np.ndarray, y_onehot: np.ndarray, classes: list[str]) -> dict[str, Any]:
    """Per-class and micro-averaged ROC and precision-recall curves with AUC / AP.

    A class with no positive (or no negative) sample in the data has no curve; it is left
    out rather than reported as a misleading 0 or 1.
    """
    from sklearn import metrics as skm

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


def evaluate_single_label(probs: np.ndarray, targets: np.ndarray, classes: list[str],
                          with_curves: bool = True) -> dict[str, Any]:
    """Accuracy, per-class precision/recall/F1, confusion matrix and (optionally) curves."""
    targets = np.asarray(targets, dtype=np.int64)
    preds = probs.argmax(axis=1)
    confusion = confusion_matrix(targets, preds, len(classes))
    support = confusion.sum(axis=1)
    precision, recall, f1 = precision_recall_f1(np.diag(confusion), confusion.sum(axis=0),
                                                support)
    return {
        "n": len(targets),
        "accuracy": float((preds == targets).mean()) if len(targets) else 0.0,
        "per_class": {c: {"precision": float(precision[i]), "recall": float(recall[i]),
                          "f1": float(f1[i]), "support": int(support[i])}
                      for i, c in enumerate(classes)},
        "confusion": confusion.tolist(),
        "loss": float(per_sample_loss(probs, targets, False).mean()) if len(targets) else 0.0,
        **(curves(probs, one_hot(targets, len(classes)), classes) if with_curves else {}),
    }


def summary(metrics: dict[str, Any]) -> dict[str, float]:
    """The headline numbers of a metrics dict (for tables, the CLI and run records)."""
    keys = ("accuracy", "loss", "hamming_accuracy", "exact_match", "threshold", "n")
    return {k: metrics[k] for k in keys if k in metrics}


def evaluate_multi_label(probs: np.ndarray, y: np.ndarray, classes: list[str],
                         threshold: float | np.ndarray = 0.5,
                         with_curves: bool = True) -> dict[str, Any]:
    """Hamming (per-label) and exact-match accuracy at ``threshold``, per-class P/R/F1/AP.

    ``threshold`` is one number for all classes or one per class.  ``precision``, ``recall``
    and ``f1`` are micro-averaged over every (image, class) decision; ``mean_ap`` averages
    the per-class AP (which needs no threshold) over the classes that have positives.
    """
    y = np.asarray(y, dtype=np.int64)
    preds = (probs >= np.asarray(threshold)).astype(np.int64)
    support = y.sum(axis=0)
    precision, recall, f1 = precision_recall_f1((preds & y).sum(axis=0), preds.sum(axis=0),
                                                support)
    ap = [average_precision(y[:, i], probs[:, i]) for i in range(len(classes))]
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
        **(curves(probs, y, classes) if with_curves else {}),
    }


def evaluate(probs: np.ndarray, targets: np.ndarray, classes: list[str], *,
             multi_label: bool = False, threshold: float | np.ndarray = 0.5,
             curves: bool = True) -> dict[str, Any]:
    """One entry point for both kinds of model, so callers never branch on the mode.

    For multi-label models, ``accuracy`` is the exact-match (zero-one) accuracy.
    ``curves=False`` leaves out the ROC and PR curves (``model.json`` keeps only numbers).
    """
    if multi_label:
        return evaluate_multi_label(probs, targets, classes, threshold, curves)
    return evaluate_single_label(probs, targets, classes, curves)
