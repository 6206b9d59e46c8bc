"""Page 02: several labels per image, sigmoid outputs, and choosing the decision threshold."""

from __future__ import annotations

import streamlit as st

from cvlib.data.dataset import load_dataset
from cvlib.training.config import with_overrides
from ui.common import guarded, key, next_step, page_header, results_context, show_error
from ui.datasets import dataset_picker, dataset_summary, sample_grid
from ui.health import health_gate
from ui.multilabel import (
    label_sets,
    regions_explainer,
    results_grid,
    save_with_thresholds,
    softmax_vs_sigmoid,
    threshold_panel,
    two_accuracies,
)
from ui.training import start_training, training_monitor, training_settings

PAGE = "p02"
JOB = "train-p02"

page_header("02 · Multi-label classification",
            "Photos with several things in them: one yes/no question per class, and a "
            "threshold that decides.", "🏷️")

st.markdown(
    "Page 01 taught a **single-label** classifier: every photo is exactly one class, and "
    "the model picks the most probable. Real photos often hold several objects: a fridge "
    "shelf with milk *and* juice. A **multi-label** classifier answers one yes/no question "
    "per class, so it can say *milk + juice*, or *none of these*. Two things change: the "
    "output layer (sigmoid instead of softmax) and how we judge the model."
)

st.header("1 · Softmax or sigmoid: a worked example")
guarded(softmax_vs_sigmoid)()
st.markdown("**Two accuracies.** With several labels per photo, 'right' has two meanings:")
guarded(two_accuracies)()

st.header("2 · The data")
st.markdown(
    "Multi-label data comes as a `labels.csv` (`filename,labels`, labels separated by "
    "spaces) next to an `images/` folder. Page 10 writes exactly this file while you "
    "label your own photos. The validation split is stratified per label, so each "
    "label keeps about a fifth of its images aside."
)
dataset = dataset_picker(kind="multi")
if dataset is not None and not dataset.multi_label:
    st.info("Every image here has a single label. You can still train a multi-label "
            "model on it: it then learns to answer 'none of these' too.")
    if st.toggle("Train it as multi-label (sigmoid per class)", key=key(PAGE, "force")):
        try:
            dataset = load_dataset(dataset.root, force_multi_label=True)
        except Exception as exc:  # noqa: BLE001 - any bad input becomes a message
            show_error(exc)
            dataset = None
    else:
        dataset = None

if dataset is not None:
    guarded(dataset_summary)(dataset)
    guarded(health_gate)(PAGE, dataset)
    with st.expander("Label sets and a few images", expanded=True):
        guarded(label_sets)(dataset)
        guarded(sample_grid)(dataset, per_class=2)

    st.header("3 · Train")
    st.markdown(
        "The same two modes as page 01. For multi-label data the head ends in one sigmoid "
        "per class and trains with **binary cross-entropy**: one logistic regression per "
        "label on the network's features (quick), then the whole network (full)."
    )
    config = training_settings(PAGE, workshop={"architecture": "efficientnet_lite0",
                                               "image_size": 224, "mode": "quick"},
                               multi_label=True)
    regions = guarded(regions_explainer)(PAGE, dataset)
    if regions is not None:
        config = with_overrides(config, regions=regions)
    st.caption(f"What the network is shown: {config.for_data(True).describe()}.")
    if st.button("▶ Train", type="primary", key=key(PAGE, "train")):
        start_training(JOB, dataset, config)
    result = training_monitor(JOB, context=results_context(dataset, config))

    if result is not None and result.card.multi_label:
        st.header("4 · The threshold")
        st.markdown(
            "The model gives a probability per class; the **threshold** turns it into "
            "yes or no. Lower it and the model names more labels (recall rises, precision "
            "falls); raise it and it names fewer. Move the slider: every number below is "
            "recomputed on the validation images. The curve shows every metric at every "
            "threshold, with the best exact match starred."
        )
        thresholds = guarded(threshold_panel)(PAGE, result)
        if thresholds is not None:
            st.header("5 · Results")
            guarded(results_grid)(PAGE, result, thresholds)
            st.header("6 · Save")
            guarded(save_with_thresholds)(PAGE, result, thresholds)
    elif result is not None:
        st.warning("The last training was single-label; train again on multi-label data.")

next_step("pages/02_Multi_label.py", [
    "Drag the threshold to 0.2 and to 0.8: which metric falls, which rises, and why?",
    "Turn on per-class thresholds: which classes want a threshold far from 0.5?",
    "Label your own shelf photos on page 10, then train on them here.",
])
