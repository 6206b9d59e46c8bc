"""Page 00: a pretrained network scoring what your camera sees, live, with explanations."""

from __future__ import annotations

import streamlit as st

from cvlib.data.images import load_image
from ui.common import guarded, key, next_step, page_header
from ui.live import (
    EXAMPLES,
    UPLOAD_TYPES,
    camera_doctor,
    example_photo,
    keep_capture,
    live_stream,
    load_explainer,
    load_predictor,
    model_picker,
    scored_image,
    session_scorer,
)

PAGE = "p00"

page_header("00 · Live scoring",
            "A network trained on ImageNet names what your camera sees, and shows where it "
            "looked.", "📷")

st.markdown(
    "**What a classifier outputs.** The network turns an image into 1,000 numbers, one per "
    "ImageNet class, and *softmax* turns them into probabilities that add up to 1. The "
    "**top-5** are the five most probable classes: a good model is often unsure between "
    "similar ones (three kinds of cat), which is why we show five and not one."
)
st.markdown(
    "**Preprocessing.** Before scoring, every image is resized to the network's input "
    "size and its colours normalised exactly as during the network's training. The studio "
    "keeps that recipe in one place and stores it with every model, so the stream, the "
    "command line and an exported ONNX model all see the same input and agree."
)

st.header("1 · The model")
st.markdown(
    "EfficientNet-Lite was designed for phones: small and fast on a CPU. **ONNX Runtime** "
    "runs the same network as PyTorch, exported to a graph that it optimises for the "
    "processor (fused layers, no Python in between): usually two to three times faster for "
    "one image at a time, which is what a live stream needs."
)
choice = model_picker(PAGE)
predictor = guarded(load_predictor)(choice.source, choice.engine)
explain_on = st.toggle("Explain with Grad-CAM", value=True, key=key(PAGE, "cam"),
                       help="A heatmap of the image regions that drove the top class.")
st.caption(
    "**Grad-CAM** asks the last convolutional layer which of its 7×7 regions raised the "
    "score of the chosen class (through the gradient), and colours them: red where the "
    "evidence is strongest. It shows whether the model looks at the object or at its "
    "surroundings.")

if predictor is not None:
    explainer = guarded(load_explainer)(choice.source) if explain_on else None
    st.header("2 · Score")
    stream_tab, snapshot_tab, upload_tab, example_tab = st.tabs(
        ["🎥 Live stream", "📸 Snapshot", "🖼️ Upload", "🐱 Example photos"])
    with stream_tab:
        st.markdown(
            "Press **START** and allow the camera. The video keeps the camera's pace while "
            "the model scores only the *newest* frame each time it is free: older frames "
            "are skipped, never queued, so the label is never more than one inference "
            "behind. The figures on the video are the frames scored per second and the "
            "delay of the label behind the picture. **Keep this frame** saves the picture "
            "on screen to the captures folder.")
        cam_on_stream = st.checkbox(
            "Grad-CAM on the stream too", value=False, key=key(PAGE, "stream-cam"),
            disabled=explainer is None,
            help="Refreshed at most twice a second, so the frame rate drops only a little.")
        scorer = session_scorer(PAGE, predictor,
                                explainer.heatmap if cam_on_stream and explainer else None)
        guarded(live_stream)(PAGE, scorer)
        with st.expander("🩺 Camera doctor: the stream does not start"):
            camera_doctor()
    with snapshot_tab:
        keep = st.toggle(
            "Keep my snapshots in the captures folder", value=True, key=key(PAGE, "keep"),
            help="Page 12 mines that folder for pictures that are none of your classes: "
                 "snapshots of your desk, your hand or a mug teach a model to say so.")
        shot = st.camera_input("Take a picture", key=key(PAGE, "snapshot"))
        if shot is not None:
            photo = guarded(load_image)(shot.getvalue(), shot.name)
            if photo is not None:
                guarded(scored_image)(PAGE, "snapshot", photo, predictor, explainer)
                if keep:
                    guarded(keep_capture)(photo)
    with upload_tab:
        upload = st.file_uploader("An image", type=UPLOAD_TYPES, key=key(PAGE, "upload"))
        if upload is not None:
            photo = guarded(load_image)(upload.getvalue(), upload.name)
            if photo is not None:
                guarded(scored_image)(PAGE, "upload", photo, predictor, explainer)
    with example_tab:
        st.markdown(
            "No camera? These photos come with scikit-image, installed with the studio. A "
            "cat and an espresso are ImageNet classes; an astronaut is not, so watch how "
            "the top-5 spread out when the model meets something it was never taught.")
        example = st.selectbox("Photo", list(EXAMPLES), index=None, key=key(PAGE, "example"),
                               placeholder="Choose a photo to score")
        if example is not None:
            guarded(scored_image)(PAGE, "example", example_photo(example), predictor,
                                  explainer)

next_step("pages/00_Live_scoring.py", [
    "Show the camera something that is *not* an ImageNet class (your hand, a pen): the "
    "top-5 spread out, the model is unsure.",
    "Switch the engine and compare the frames per second on the video.",
    "Turn on Grad-CAM on the stream and move the object: does the red follow it?",
    "Keep a few frames of things that are none of your classes (your desk, a mug): page "
    "12 mines them as hard negatives.",
    "Train a model on your own classes on page 01, save it, and pick it here.",
])
