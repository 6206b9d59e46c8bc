"""Page 01: a first classifier, from a folder of photos to honest validation numbers."""

from __future__ import annotations

import streamlit as st

from ui.common import guarded, next_step, page_header, results_context
from ui.datasets import dataset_picker, dataset_summary, sample_grid
from ui.health import health_gate
from ui.training import (
    lr_finder_panel,
    results_panel,
    start_training,
    training_monitor,
    training_settings,
)

PAGE = "p01"
JOB = "train-p01"

page_header("01 · Training introduction",
            "Teach a network your own classes, and measure honestly how well it learned.",
            "🎓")

st.markdown(
    "**Transfer learning.** Training a network from scratch needs millions of images. "
    "Instead we start from one trained on ImageNet (1.2 million photos of 1,000 things): "
    "its layers already detect edges, textures, parts and objects. We replace only its "
    "last layer, the one that names the 1,000 classes, by one that names *your* classes, "
    "and train that. A few dozen photos per class are then enough."
)

st.header("1 · The data")
st.markdown(
    "Each class is a folder of photos (or a `labels.csv`). Before training, the studio "
    "sets aside a fifth of the photos of every class as the **validation set**: the model "
    "never learns from them, so its accuracy on them says how it will do on new photos."
)
dataset = dataset_picker(kind="single")
if dataset is not None:
    guarded(dataset_summary)(dataset)
    guarded(health_gate)(PAGE, dataset)
    with st.expander("A few images of each class", expanded=True):
        guarded(sample_grid)(dataset)

    st.header("2 · Settings")
    st.markdown(
        "The defaults work on a laptop CPU. The **architecture** is the pretrained network "
        "(EfficientNet-Lite weights ship with the studio, so they work offline). A larger "
        "**image size** shows more detail and costs time. The **learning rate** matters only "
        "for full training: too small learns nothing, too large forgets ImageNet; the "
        "learning-rate finder plots the loss while the rate rises, and suggests one."
    )
    config = training_settings(PAGE, workshop={"architecture": "efficientnet_lite0",
                                               "image_size": 224, "mode": "quick"})
    if config.mode == "full":
        guarded(lr_finder_panel)(PAGE, dataset, config)

    st.header("3 · Train")
    if st.button("▶ Train", type="primary", key="p01-train"):
        start_training(JOB, dataset, config)
    result = training_monitor(JOB, context=results_context(dataset, config))

    if result is not None:
        st.header("4 · Results")
        st.markdown(
            "Accuracy alone hides *which* classes get confused. The **confusion matrix** "
            "shows it; the **curves** show how the model's confidence separates each class; "
            "the **top losses** are where to look for wrong labels or hard photos."
        )
        results_panel(PAGE, result)
        st.page_link("pages/13_Errors_and_history.py", icon="🔬",
                     label="Click into these mistakes, fix the labels and retrain: page 13")

next_step("pages/01_Training_introduction.py", [
    "Switch to **full** training and compare the accuracy and the time.",
    "Try a larger image size or EfficientNet-Lite2: does accuracy change on your data?",
    "Upload a photo of something that is none of your classes: what does the model say? "
    "(Page 12 teaches it to say 'none of these'.)",
])
