"""Multi-label widgets: the softmax/sigmoid example, label sets, thresholds, results, saving."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from cvlib.data.dataset import Dataset
from cvlib.data.images import load_image, thumbnail
from cvlib.evaluation.thresholds import saved_form, scores, tune
from cvlib.models.preprocess import sigmoid, softmax
from cvlib.models.regions import preview
from ui.common import key
from ui.models import save_model_form

EXAMPLE_CLASSES = ["milk", "juice", "soda"]
EXAMPLE_LOGITS = np.array([[2.0, 1.5, -3.0]])
"""One photo showing milk and juice: both scores are high, soda's is low."""

EXAMPLE_TRUTH = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 1]])
EXAMPLE_PROBS = np.array([[0.9, 0.8, 0.1], [0.3, 0.6, 0.7], [0.8, 0.2, 0.4]])
"""Three photos, their true labels and a model's probabilities, for the two accuracies."""


def label_text(labels: list[str] | tuple[str, ...]) -> str:
    """A label set as people write it; the empty set is shown as ∅ (nothing)."""
    return " + ".join(labels) if len(labels) else "∅"


def softmax_vs_sigmoid() -> None:
    """The same three scores through softmax and through sigmoids, side by side."""
    import pandas as pd

    table = pd.DataFrame({"score (logit)": EXAMPLE_LOGITS[0],
                          "softmax": softmax(EXAMPLE_LOGITS)[0],
                          "sigmoid": sigmoid(EXAMPLE_LOGITS)[0]},
                         index=EXAMPLE_CLASSES).round(3)
    left, right = st.columns([2, 3])
    left.dataframe(table, width="stretch")
    right.markdown(
        "A photo with **milk and juice** in it. **Softmax** shares one unit of probability "
        f"between the classes (they sum to {table['softmax'].sum():.0f}): milk gets "
        f"{table.loc['milk', 'softmax']:.0%} and juice only {table.loc['juice', 'softmax']:.0%}"
        ", as if they competed. **Sigmoid** asks one yes/no question per class: milk "
        f"{table.loc['milk', 'sigmoid']:.0%}, juice {table.loc['juice', 'sigmoid']:.0%}, "
        f"soda {table.loc['soda', 'sigmoid']:.0%}; each label whose probability reaches "
        "the **threshold** (0.5 by default) is predicted. Training matches it: binary "
        "cross-entropy per class instead of one cross-entropy over all classes.")


def two_accuracies() -> None:
    """Hamming and exact-match accuracy on three hand-made predictions."""
    import pandas as pd

    predicted = (EXAMPLE_PROBS >= 0.5).astype(int)
    rows = []
    for truth, probs, pred in zip(EXAMPLE_TRUTH, EXAMPLE_PROBS, predicted, strict=True):
        rows.append({"true labels": label_text(_names(truth)),
                     "probabilities": ", ".join(f"{c} {p:.1f}"
                                                for c, p in zip(EXAMPLE_CLASSES, probs,
                                                                strict=True)),
                     "predicted at 0.5": label_text(_names(pred)),
                     "right decisions": f"{int((pred == truth).sum())} of 3",
                     "whole set right": "yes" if (pred == truth).all() else "no"})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    got = scores(EXAMPLE_PROBS, EXAMPLE_TRUTH, 0.5)
    st.markdown(
        f"**Hamming accuracy** counts every yes/no decision: {got['hamming_accuracy']:.0%} "
        "here (7 of 9). **Exact-match** (zero-one) accuracy counts only photos whose whole "
        f"label set is right: {got['exact_match']:.0%} (1 of 3). Hamming is always the "
        "kinder number; exact match is what a user sees when every label must be right.")


def _names(row: np.ndarray) -> list[str]:
    """The example classes marked 1 in a row."""
    return [c for c, v in zip(EXAMPLE_CLASSES, row, strict=True) if v]


def label_sets(dataset: Dataset) -> None:
    """How often each combination of labels occurs, and labels per image."""
    import pandas as pd

    combos = Counter(label_text(labels) for _, labels in dataset.items)
    per_image = Counter(len(labels) for _, labels in dataset.items)
    left, right = st.columns([3, 2])
    left.dataframe(pd.DataFrame(combos.most_common(), columns=["label set", "images"]),
                   hide_index=True, width="stretch", height=260)
    right.markdown("**Labels per image**")
    right.bar_chart({f"{n} label{'s' if n > 1 else ''}": count
                     for n, count in sorted(per_image.items())})


REGION_CHOICES = {"strips": "Strips: 13 regions, pooled (best for several objects)",
                  "whole": "Whole image: one look (13 times cheaper)"}


@st.cache_data(max_entries=8, show_spinner=False)
def _region_preview(path: str, modified: float) -> list[tuple[str, Any]]:
    """The 13 crops of one photo, cached: every slider move on page 02 reruns the page.

    ``modified`` is part of the cache key, so a changed file is cropped again.
    """
    return preview(load_image(path), "strips", size=120)


def regions_explainer(page: str, dataset: Dataset) -> str:
    """Show the 13 regions of the busiest photo, and let the learner choose what to train on.

    Returns the chosen layout for :class:`cvlib.training.config.TrainConfig`'s ``regions``.
    """
    path, labels = max(dataset.items, key=lambda item: len(item.labels))
    st.markdown(
        "**Looking at parts of the photo.** A network sees a photo through one feature "
        "vector, averaged over the whole image: three products side by side blur into one "
        "mixture, and small ones get drowned out. So for multi-label data the studio shows "
        "the network **13 regions** of each photo (the whole, and overlapping strips a "
        "third, a half and two thirds wide), scores every region with the same head, and "
        "takes for each class a *smooth maximum* over the regions: a label is predicted "
        "when **some** region shows it. Training still needs only the photo's label set. "
        f"Below: what the network is shown for one photo labelled *{label_text(labels)}*.")
    shown = _region_preview(str(path), path.stat().st_mtime)
    cols = st.columns(7)
    for i, (caption, crop) in enumerate(shown):
        cols[i % 7].image(crop, caption=caption, width="stretch")
    return st.radio("What the network looks at", list(REGION_CHOICES),
                    format_func=REGION_CHOICES.get, key=key(page, "regions"), horizontal=True)


def threshold_panel(page: str, result: Any) -> float | np.ndarray:
    """Slider, per-class toggle, every metric at once, the curve; returns the threshold
    (one float) or the per-class thresholds (an array).

    The slider starts at the best global threshold found on validation; every number on
    the panel is recomputed from the validation probabilities when it moves.
    """
    probs, truth = result.valid_probs, np.asarray(result.valid_targets, dtype=np.int64)
    classes = result.card.classes
    choice = tune(probs, truth, classes)
    per_class = st.toggle("One threshold per class (tuned on validation)",
                          key=key(page, "per-class"),
                          help="Each class gets the threshold that makes its own yes/no "
                               "decisions most often right.")
    value = st.slider("Decision threshold", 0.0, 1.0, choice.threshold, 0.05,
                      key=key(page, "threshold"), disabled=per_class,
                      help="A label is predicted when its probability reaches this.")
    thresholds = np.asarray(choice.per_class) if per_class else float(value)
    metric_cards(scores(probs, truth, thresholds))
    regions = result.card.regions
    looked_at = f"{len(regions['boxes'])} regions of" if regions else "the whole of"
    st.caption(
        f"The network looked at {looked_at} each image (step 3). "
        f"Best global threshold on validation: **{choice.threshold:.2f}** (exact match "
        f"{choice.scores_global['exact_match']:.1%}, against "
        f"{choice.scores_at_default['exact_match']:.1%} at 0.5); per-class thresholds "
        f"{', '.join(f'{c} {t:.2f}' for c, t in zip(classes, choice.per_class, strict=True))}"
        f" reach {choice.scores_per_class['exact_match']:.1%}. Chosen on the same "
        f"{len(truth)} validation images they are measured on, so these figures are a "
        "little optimistic; with few images, per-class thresholds more so.")
    st.plotly_chart(threshold_figure(choice.curve, choice.threshold,
                                     None if per_class else value),
                    key=key(page, "curve"))
    per_class_table(result, thresholds)
    return thresholds


def metric_cards(values: dict[str, float]) -> None:
    """The five headline metrics side by side."""
    cols = st.columns(5)
    cols[0].metric("Exact match", f"{values['exact_match']:.1%}",
                   help="Images whose whole label set is right (zero-one accuracy).")
    cols[1].metric("Hamming accuracy", f"{values['hamming_accuracy']:.1%}",
                   help="Yes/no decisions (image × class) that are right.")
    cols[2].metric("Precision", f"{values['precision']:.1%}",
                   help="Of the labels predicted, how many are there.")
    cols[3].metric("Recall", f"{values['recall']:.1%}",
                   help="Of the labels there, how many were predicted.")
    cols[4].metric("F1", f"{values['f1']:.1%}", help="Harmonic mean of precision and recall.")


def threshold_figure(curve: dict[str, list[float]], best: float,
                     current: float | None) -> go.Figure:
    """Every metric against the threshold, the optimum and the slider's value marked."""
    fig = go.Figure()
    names = {"exact_match": "exact match", "hamming_accuracy": "hamming accuracy",
             "f1": "F1", "precision": "precision", "recall": "recall"}
    for name, label in names.items():
        fig.add_trace(go.Scatter(x=curve["threshold"], y=curve[name], name=label,
                                 mode="lines+markers",
                                 line={"width": 3 if name == "exact_match" else 1.5}))
    best_score = curve["exact_match"][curve["threshold"].index(best)]
    fig.add_trace(go.Scatter(x=[best], y=[best_score], mode="markers", name="optimum",
                             marker={"symbol": "star", "size": 16, "color": "gold",
                                     "line": {"width": 1, "color": "black"}}))
    if current is not None:
        fig.add_vline(x=current, line_dash="dash", annotation_text=f"slider {current:.2f}")
    # the legend sits above the plot: below it, it would cover the axis title
    fig.update_layout(height=360, margin={"t": 60, "b": 40},
                      legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
                      xaxis_title="decision threshold", yaxis_title="score",
                      yaxis={"range": [0, 1.02]})
    return fig


def per_class_table(result: Any, thresholds: float | np.ndarray) -> None:
    """Precision, recall, F1 at the thresholds, and AP (threshold-free), per class."""
    import pandas as pd

    from cvlib.evaluation.metrics import evaluate_multi_label

    metrics = evaluate_multi_label(result.valid_probs, result.valid_targets,
                                   result.card.classes, thresholds)
    table = pd.DataFrame(metrics["per_class"]).T
    table.insert(0, "threshold", thresholds)
    st.markdown("**Per class**: AP (average precision) sums up the precision-recall curve at "
                "every threshold, so it does not move with the slider.")
    st.dataframe(table.astype(float).round(3), width="stretch")


def results_grid(page: str, result: Any, thresholds: float | np.ndarray,
                 columns: int = 5) -> None:
    """Validation images with true and predicted label sets; mistakes first, in red."""
    classes = result.card.classes
    truth = np.asarray(result.valid_targets, dtype=np.int64)
    predicted = (result.valid_probs >= thresholds).astype(np.int64)
    wrong = (predicted != truth).any(axis=1)
    only_errors = st.toggle("Show only mistakes", key=key(page, "only-errors"))
    order = [i for i in np.argsort(~wrong, kind="stable") if wrong[i] or not only_errors]
    st.caption(f"{int(wrong.sum())} of {len(wrong)} validation images have at least one "
               "wrong label (red); missing labels are marked −, extra ones +.")
    cols = st.columns(columns)
    for slot, i in enumerate(order):
        with cols[slot % columns]:
            st.image(thumbnail(load_image(result.valid_paths[i]), 200), width="stretch")
            st.markdown(_verdict(classes, truth[i], predicted[i], result.valid_probs[i]))


def _verdict(classes: list[str], truth: np.ndarray, predicted: np.ndarray,
             probs: np.ndarray) -> str:
    """Caption markdown: true set, predicted set with probabilities, errors in red."""
    true_set = [c for c, t in zip(classes, truth, strict=True) if t]
    parts = []
    for c, t, p, prob in zip(classes, truth, predicted, probs, strict=True):
        if p and t:
            parts.append(f"{c} {prob:.2f}")
        elif p:
            parts.append(f":red[+{c} {prob:.2f}]")
        elif t:
            parts.append(f":red[−{c} {prob:.2f}]")
    colour = "green" if (truth == predicted).all() else "red"
    return (f":{colour}[**{'✓' if colour == 'green' else '✗'}**] true: "
            f"{label_text(true_set)}  \npredicted: {', '.join(parts) or '∅'}")


def save_with_thresholds(page: str, result: Any, thresholds: float | np.ndarray) -> None:
    """Save the model with the thresholds on screen: one float, or one per class."""
    st.caption(f"Thresholds saved with it: `{saved_form(thresholds)}`. Prediction, the "
               "stream, ONNX export and the scoring server all read them from model.json.")
    save_model_form(page, result, thresholds=thresholds)
