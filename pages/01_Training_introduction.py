"""Page 01: a first classifier, from a folder of photos to honest validation numbers."""

from __future__ import annotations

import streamlit as st

from cvlib.training.presets import WORKSHOP_TRAINING
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
        "**image size** shows more detail and costs time. **Quick** mode trains only the "
        "last layer, once, on what the frozen network sees: this is how Teachable Machine "
        "trains, in seconds. **Full** training then trains the whole network for a few "
        "**epochs** (passes over the training photos), so you can watch it learn. Its "
        "**learning rate** is how big each step is: too small learns nothing, too large "
        "forgets ImageNet; the learning-rate finder plots the loss while the rate rises, "
        "and suggests one. The workshop preset is a small full training run, to watch. "
        "To keep a model, measure first: with about 30 photos a class, quick mode scored "
        "*higher* than full training on photos neither had seen, in the studio's own "
        "benchmark on three real data sets (README, \"Full mode, measured\")."
    )
    config = training_settings(PAGE, workshop=WORKSHOP_TRAINING)
    if config.mode == "full":
        guarded(lr_finder_panel)(PAGE, dataset, config)

    st.header("3 · Train")
    st.markdown(
        "The chart draws one point per epoch as it arrives: the **loss** (how wrong the "
        "model's probabilities are; lower is better) and the **accuracy**, on the "
        "**training** photos (what it learns from) and the **validation** photos (what "
        "it never sees). Epoch 0 is the quick-mode model that full training starts from. "
        "Read the two curves together: if both stay poor, the network is **underfitting** "
        "(it has not learned enough yet); if training keeps improving while validation "
        "gets worse, it is **overfitting** (memorising its training photos). The studio "
        "keeps the epoch with the lowest validation loss."
    )
    if st.button("▶ Train", type="primary", key="p01-train"):
        start_training(JOB, dataset, config)
    result = training_monitor(JOB, context=results_context(dataset, config))

    if result is not None:
        st.header("4 · Results")
        st.markdown(
            "First, what your curves say. Then: accuracy alone hides *which* classes get "
            "confused. The **confusion matrix** shows it; the **curves** show how the "
            "model's confidence separates each class; the **top losses** are where to look "
            "for wrong labels or hard photos."
        )
        results_panel(PAGE, result)
        st.page_link("pages/13_Errors_and_history.py", icon="🔬",
                     label="Click into these mistakes, fix the labels and retrain: page 13")

next_step("pages/01_Training_introduction.py", [
    "Switch the workshop preset off, choose **quick** mode and compare its accuracy and "
    "time with the full run's epoch 0.",
    "Train for more epochs (8 or 10): does the validation loss turn up again?",
    "Try a larger image size or EfficientNet-Lite2: does accuracy change on your data?",
    "Upload a photo of something that is none of your classes: what does the model say? "
    "(Page 12 teaches it to say 'none of these'.)",
])
