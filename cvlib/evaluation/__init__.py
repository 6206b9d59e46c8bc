"""Evaluation: how good a model is, and how sure we can be of that number.

Metrics from probabilities and targets (:mod:`~cvlib.evaluation.metrics`), decision
thresholds for multi-label models (:mod:`~cvlib.evaluation.thresholds`) and confidence
intervals for small validation sets (:mod:`~cvlib.evaluation.estimate`).  Torch-free:
numpy only.
"""

from typing import TYPE_CHECKING

from cvlib._lazy import attach

if TYPE_CHECKING:
    from cvlib.evaluation.estimate import (
        Estimate,
        accuracy_interval,
        cross_validated_accuracy,
        from_counts,
        validation_estimate,
    )
    from cvlib.evaluation.metrics import (
        average_precision,
        confusion_matrix,
        curves,
        evaluate,
        evaluate_multi_label,
        evaluate_single_label,
        one_hot,
        per_sample_loss,
        precision_recall_f1,
        summary,
        top_losses,
    )
    from cvlib.evaluation.thresholds import (
        ThresholdChoice,
        best_threshold,
        decide,
        per_class_thresholds,
        saved_form,
        scores,
        threshold_curve,
        tune,
    )

__getattr__, __dir__, __all__ = attach(__name__, __file__)
