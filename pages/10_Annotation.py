"""Page 10: labelling a folder of your own images, fast, safely, and with a model's help."""

from __future__ import annotations

import streamlit as st

from ui.annotate import (
    annotator,
    choose_folder,
    export_panel,
    model_choice,
    open_store,
    review_grid,
    setup_panel,
    show_message,
)
from ui.common import guarded, next_step, page_header

PAGE = "p10"

page_header("10 · Annotation",
            "Turn a folder of unlabelled photos into training data: one image at a time, "
            "from the keyboard, with a model's suggestions.", "✏️")

st.markdown(
    "A classifier learns only what its labels say, so labelling is most of a real "
    "project's work, and its mistakes cap the accuracy. This page keeps it fast and safe: "
    "every label is written to the folder's `labels.csv` the moment you give it (a crash "
    "loses nothing, and you resume where you stopped), Undo takes back any change, and a "
    "saved model can **pre-label** each image so you only confirm or correct it. Models "
    "help most once they are trained on a first batch of your labels: label 20 or so, "
    "train on page 01 or 02, then come back and accept suggestions."
)

st.header("1 · The images")
folder, practice_mode = choose_folder(PAGE)
store = open_store(PAGE, folder, practice_mode) if folder is not None else None
if store is None:
    st.info("Choose a folder of images to start, or go back to the **sample photos**: a "
            "fresh practice copy each studio home. In a workshop, label 20 of them from the "
            "keyboard alone (the number keys, then S, X and U): about two minutes.")
else:
    guarded(setup_panel)(PAGE, store)
    show_message(PAGE)
    st.header("2 · Label")
    st.markdown(
        "Press a class's **number key** (or click it). Single-label: the image gets that "
        "class and the next one to do appears. Multi-label: toggle each class present, "
        "then **→**. **S** skips an image for later; **X** excludes one for good (blurred, "
        "off-topic, or one you cannot decide: a wrong label hurts more than a missing "
        "image), **U** undoes."
    )
    predictor = guarded(model_choice)(PAGE, store)
    if store.classes or predictor is not None:
        guarded(annotator)(PAGE, store, predictor)
        st.header("3 · Review and fix")
        st.markdown("Look over what is labelled: a wrong label teaches the model a "
                    "mistake. **✎ Fix** opens an image above.")
        guarded(review_grid)(PAGE, store)
        st.header("4 · Export")
        guarded(export_panel)(PAGE, store)

next_step("pages/10_Annotation.py", [
    "Label 20 images, train on them (page 01 or 02), pick that model above: how often is "
    "its suggestion right?",
    "Switch to the sample shelves (multi-label practice) and label every product on them.",
    "Find mislabelled images with the grid's class filter, and fix them.",
])
