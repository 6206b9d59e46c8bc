"""Multi-label thresholds: the metrics at a threshold, the curve, and the choice of the best.

Every expected number here is worked out by hand in the comments.
"""

from __future__ import annotations

import numpy as np
import pytest

from cvlib.evaluation.metrics import evaluate_multi_label
from cvlib.evaluation.thresholds import (
    THRESHOLDS,
    best_threshold,
    decide,
    per_class_thresholds,
    saved_form,
    scores,
    threshold_curve,
    tune,
)

# Three images, two classes (a, b).
PROBS = np.array([[0.9, 0.4],    # truth: a b
                  [0.2, 0.7],    # truth: b
                  [0.6, 0.1]])   # truth: (nothing)
TRUTH = np.array([[1, 1],
                  [0, 1],
                  [0, 0]])


def test_a_label_is_predicted_when_its_probability_reaches_the_threshold():
    assert decide(PROBS, 0.6).tolist() == [[1, 0], [0, 1], [1, 0]]
    assert decide(PROBS, [0.95, 0.4]).tolist() == [[0, 1], [0, 1], [0, 0]]


def test_scores_at_one_half_match_the_hand_count():
    # predictions at 0.5: [1,0] [0,1] [1,0]; right decisions: 1+2+1 of 6.
    # exact: only image 2 is wholly right -> 1/3.
    # pairs: TP=2 (a on 1, b on 2), predicted 3, actual 3 -> P = R = F1 = 2/3.
    got = scores(PROBS, TRUTH, 0.5)
    assert got["hamming_accuracy"] == pytest.approx(4 / 6)
    assert got["exact_match"] == pytest.approx(1 / 3)
    assert got["precision"] == pytest.approx(2 / 3)
    assert got["recall"] == pytest.approx(2 / 3)
    assert got["f1"] == pytest.approx(2 / 3)


def test_scores_at_the_extremes():
    # threshold 0 predicts every label: 3 of 6 decisions right, and only image 1 (which
    # has every label) wholly right; precision 3/6, recall 1.
    at_zero = scores(PROBS, TRUTH, 0.0)
    assert at_zero["hamming_accuracy"] == pytest.approx(0.5)
    assert at_zero["exact_match"] == pytest.approx(1 / 3)
    assert at_zero["precision"] == pytest.approx(0.5) and at_zero["recall"] == 1.0
    # threshold 1 predicts nothing: image 3 (no labels) is right; nothing found.
    at_one = scores(PROBS, TRUTH, 1.0)
    assert at_one["exact_match"] == pytest.approx(1 / 3)
    assert at_one["recall"] == 0.0 and at_one["f1"] == 0.0


def test_the_curve_covers_zero_to_one_in_steps_of_five_hundredths():
    curve = threshold_curve(PROBS, TRUTH)
    assert curve["threshold"][0] == 0.0 and curve["threshold"][-1] == 1.0
    assert len(curve["threshold"]) == 21 == len(THRESHOLDS)
    assert np.allclose(np.diff(curve["threshold"]), 0.05)
    at_half = curve["threshold"].index(0.5)
    assert curve["exact_match"][at_half] == pytest.approx(1 / 3)


def test_the_best_global_threshold_and_ties_towards_one_half():
    # Image 1 is wholly right when t <= 0.4 (b at 0.4 must pass), image 2 when 0.2 < t <= 0.7,
    # image 3 when t > 0.6.  No t gets all three; two of three are right for t in
    # (0.2, 0.4] and in (0.6, 0.7].  On the grid the candidates are 0.25 ... 0.4 and
    # 0.65, 0.7; the tie goes to the one nearest 0.5: 0.4.
    threshold, score = best_threshold(PROBS, TRUTH, "exact_match")
    assert score == pytest.approx(2 / 3)
    assert threshold == pytest.approx(0.4)


def test_per_class_thresholds_fix_what_no_global_threshold_can():
    # Class a: positives {0.9}, negatives {0.2, 0.6} -> any t in (0.6, 0.9] separates;
    # nearest 0.5 on the grid is 0.65.  Class b: positives {0.4, 0.7}, negative {0.1} ->
    # t in (0.1, 0.4]; nearest 0.5 is 0.4.
    per_class = per_class_thresholds(PROBS, TRUTH)
    assert per_class.tolist() == pytest.approx([0.65, 0.4])
    assert scores(PROBS, TRUTH, per_class)["exact_match"] == 1.0


def test_tune_reports_the_figures_at_one_half_global_and_per_class():
    choice = tune(PROBS, TRUTH, ["a", "b"])
    assert choice.threshold == pytest.approx(0.4)
    assert choice.scores_at_default["exact_match"] == pytest.approx(1 / 3)
    assert choice.scores_global["exact_match"] == pytest.approx(2 / 3)
    assert choice.scores_per_class["exact_match"] == 1.0
    figures = choice.to_dict()
    assert figures["per_class"] == pytest.approx({"a": 0.65, "b": 0.4})
    assert "curve" not in figures


def test_thresholds_are_saved_as_one_float_or_a_list_per_class():
    assert saved_form(0.35) == 0.35
    assert saved_form(np.array([0.65, 0.4])) == [0.65, 0.4]


def test_an_unknown_metric_is_refused():
    with pytest.raises(ValueError, match="metric must be one of"):
        best_threshold(PROBS, TRUTH, "auc")


def test_evaluate_multi_label_agrees_and_adds_per_class_average_precision():
    metrics = evaluate_multi_label(PROBS, TRUTH, ["a", "b"], threshold=0.5)
    assert metrics["hamming_accuracy"] == pytest.approx(4 / 6)
    assert metrics["exact_match"] == metrics["accuracy"] == pytest.approx(1 / 3)
    assert metrics["f1"] == pytest.approx(2 / 3)
    # Class a: ranking 0.9 (pos), 0.6, 0.2 -> AP 1.  Class b: 0.7 (pos), 0.4 (pos), 0.1 -> 1.
    assert metrics["per_class"]["a"]["ap"] == pytest.approx(1.0)
    assert metrics["mean_ap"] == pytest.approx(1.0)
