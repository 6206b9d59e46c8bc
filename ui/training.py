"""The training panel: settings, background run with live curves and Stop, and results.

Training runs as a :mod:`cvlib.jobs` job, so a click elsewhere, a page switch or a reload
never restarts or freezes it; a fragment polls its progress once a second.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import streamlit as st

from cvlib.data import Dataset
from cvlib.registry import get_spec, list_models
from ui import plots
from ui.common import (
    guarded,
    heavy_import_notice,
    job_monitor,
    key,
    results_context,
    start_job,
)
from ui.models import save_model_form

IMAGE_SIZES = [160, 192, 224, 240, 260, 288, 320, 384]
MODE_HELP = (
    "**Quick** fits only the last layer on cached features of the frozen network: seconds "
    "on a CPU. **Full** starts from that layer and fine-tunes the whole network with fastai "
    "(one-cycle schedule, augmentation), keeping the best epoch: minutes on a CPU."
)


# Setting name -> widget key suffix, so presets can fill the widgets.
_WIDGETS = {"mode": "mode", "architecture": "arch", "image_size": "size", "epochs": "ep",
            "lr": "lr", "batch_size": "bs", "augment": "aug"}


def _fill_widgets(page: str, values: dict[str, Any]) -> None:
    """Put preset values into the setting widgets (widgets keep their own state)."""
    from cvlib.registry import get_spec

    for name, value in values.items():
        if name in _WIDGETS:
            st.session_state[key(page, _WIDGETS[name])] = value
    if values.get("image_size") is None and "architecture" in values:
        st.session_state[key(page, "size")] = get_spec(values["architecture"]).input_size


def training_settings(page: str, *, workshop: dict[str, Any] | None = None):
    """Widgets for every training setting, with CPU-friendly defaults; returns a TrainConfig.

    ``workshop`` is a preset that finishes in under two minutes on a laptop CPU: while its
    toggle is on, the preset is used as it is and the widgets are hidden, so a quick click
    on Train can never mix preset and widget values.
    """
    from cvlib.train_config import TrainConfig

    if workshop and st.toggle("Workshop preset (under 2 minutes on a laptop CPU)",
                              key=key(page, "workshop", keep=True)):
        config = TrainConfig(**workshop)
        st.info(f"Workshop preset: **{config.mode}** training of **{config.architecture}** at "
                f"{config.preprocessing().image_size} px. Switch it off to choose.")
        return config
    if key(page, "mode") not in st.session_state:
        _fill_widgets(page, _config_dict(TrainConfig()))
    models = list_models()
    c1, c2, c3 = st.columns(3)
    mode = c1.radio("Training mode", ["quick", "full"], key=key(page, "mode", keep=True),
                    help=MODE_HELP, horizontal=True)
    arch = c2.selectbox("Architecture", models, key=key(page, "arch", keep=True),
                        format_func=lambda n: f"{n} ({get_spec(n).params / 1e6:.1f} M params)")
    size = c3.select_slider("Image size (px)", IMAGE_SIZES, key=key(page, "size", keep=True))
    c4, c5, c6, c7 = st.columns(4)
    epochs = c4.number_input("Epochs (full mode)", 0, 50, key=key(page, "ep", keep=True),
                             disabled=mode == "quick")
    lr = c5.number_input("Learning rate (full mode)", 1e-6, 1e-1, format="%.1e",
                         key=key(page, "lr", keep=True), disabled=mode == "quick")
    batch = c6.select_slider("Batch size", [4, 8, 16, 32, 64], key=key(page, "bs", keep=True),
                             disabled=mode == "quick")
    augment = c7.toggle("Augmentation", key=key(page, "aug", keep=True), disabled=mode == "quick",
                        help="Random crops, mirror, small tilts and colour changes while "
                             "fine-tuning, so the model sees more variety than the photos.")
    return TrainConfig(mode=mode, architecture=arch, image_size=size, epochs=int(epochs),
                       lr=float(lr), batch_size=int(batch), augment=augment)


def _config_dict(config) -> dict[str, Any]:
    return {f.name: getattr(config, f.name) for f in fields(config)}


def start_training(name: str, dataset: Dataset, config) -> None:
    """Start a training job in the background for this browser session."""

    def work(progress):
        from cvlib.runs import record_training
        from cvlib.train import train

        result = train(dataset, config, progress=progress)
        record_training(dataset, result, page=name)
        return result

    start_job(name, work, what=f"{config.mode} training of {config.architecture}",
              context=results_context(dataset, config))


def training_monitor(name: str, context: Any = None) -> Any | None:
    """Live progress and loss/accuracy curves of this session's training ``name``.

    Returns the result once done, or once stopped (the best weights seen are kept); with
    ``context`` (:func:`ui.common.results_context`), only a result of that data and those
    settings.
    """
    def curves(snap: dict[str, Any]) -> None:
        st.plotly_chart(plots.training_curves(snap["history"]), key=f"curves-{name}")

    return job_monitor(name, live=curves, result_when_stopped=True, context=context,
                       stop_help="Stops after the current batch and keeps the best weights.",
                       stopped="Stopped on request: the best weights seen so far are kept.")


@guarded
def results_panel(page: str, result) -> None:
    """Validation accuracy, confusion matrix, ROC/PR, top losses, try an image, save."""
    metrics = result.metrics
    meta = result.meta
    cols = st.columns(4)
    cols[0].metric("Validation accuracy", f"{metrics['accuracy']:.1%}")
    cols[1].metric("Validation images", metrics["n"])
    cols[2].metric("Mode", meta["training"]["mode"])
    cols[3].metric("Time", f"{result.timings['total_s']:.1f} s")
    st.caption(
        f"Measured on {metrics['n']} images the model never trained on (a seeded, "
        "stratified split). Feature cache: "
        f"{result.timings['cache_hits']} hits, {result.timings['cache_misses']} computed.")
    estimate_panel(result.estimate, result.test_metrics)
    if "confusion" in metrics:
        left, right = st.columns([2, 3])
        with left:
            st.markdown("**Confusion matrix**: rows are the truth, columns the prediction.")
            st.plotly_chart(plots.confusion_matrix(metrics["confusion"], meta["classes"]),
                            key=key(page, "cm"))
        with right:
            st.markdown("**Per class**: precision = how often a prediction of this class is "
                        "right; recall = how many of this class were found.")
            st.dataframe(per_class_table(metrics), width="stretch")
    st.markdown("**ROC and precision-recall curves**: how well each class's probability "
                "separates it from the others, at every threshold.")
    st.plotly_chart(plots.roc_pr_curves(metrics), key=key(page, "curves"))
    top_losses_grid(result)
    try_an_image(page, result)
    save_model_form(page, result)


ESTIMATE_MEANING = (
    "The interval is the range of true accuracies that could well have produced this score: "
    "in 95 of 100 such runs it holds the accuracy you will get on new photos like these. "
    "It is wide on few photos because each photo is a big step: with 30 validation photos, "
    "one photo is 3 points, and a model that is right 85% of the time still scores 28 or "
    "more out of 30 (0.93 or more) about one run in seven, so 30 photos cannot tell 0.85 "
    "from 0.95.")
"""What the estimate's interval means, in plain words (page 01 and page 03)."""


def estimate_panel(estimate, test_metrics: dict[str, Any] | None = None) -> None:
    """The accuracy to expect on new photos, its 95% interval, and the test score if any."""
    cols = st.columns(2)
    cols[0].metric("Expected on new photos", f"{estimate.accuracy:.1%}",
                   f"95% interval {estimate.low:.0%} to {estimate.high:.0%}",
                   delta_color="off")
    if test_metrics is not None:
        cols[1].metric("Test accuracy (test/ folder)", f"{test_metrics['accuracy']:.1%}",
                       f"{test_metrics['n']} photos, scored once", delta_color="off")
    how = ("every photo was a validation photo once (cross-validation on the cached "
           f"features, {estimate.folds} folds over {estimate.n} photos)"
           if estimate.method == "cross-validation"
           else f"measured on the {estimate.n} validation photos")
    st.caption(f"Expected accuracy: {how}. {ESTIMATE_MEANING}")


def per_class_table(metrics: dict[str, Any]):
    """Precision/recall/F1/support per class as a DataFrame."""
    import pandas as pd

    return pd.DataFrame(metrics["per_class"]).T.round(3)


def top_losses_grid(result, k: int = 8) -> None:
    """The validation images the model got most wrong: prediction / actual / probability."""
    from cvlib.evaluate import top_losses
    from ui.datasets import image_grid

    st.markdown("**Top losses**: the validation images the model was most wrong (or least "
                "sure) about. Look for wrong labels, odd photos, or classes that look alike.")
    classes = result.meta["classes"]
    order = top_losses(result.valid_probs, result.valid_targets, result.meta["multi_label"], k)
    captions = []
    for i in order:
        probs = result.valid_probs[i]
        if result.meta["multi_label"]:
            pred = [c for c, p in zip(classes, probs, strict=True) if p >= 0.5]
            actual = [c for c, y in zip(classes, result.valid_targets[i], strict=True) if y]
            captions.append(f"pred {'+'.join(pred) or '∅'} / actual {'+'.join(actual)}")
        else:
            p = int(np.argmax(probs))
            t = int(result.valid_targets[i])
            captions.append(f"{classes[p]} / {classes[t]} / {probs[p]:.2f}")
    image_grid([result.valid_paths[i] for i in order], captions, columns=4)


def try_an_image(page: str, result) -> None:
    """Predict an uploaded image with the model just trained."""
    from cvlib.images import load_image
    from cvlib.inference import Predictor

    upload = st.file_uploader("Try the model on an image of your own",
                              type=["jpg", "jpeg", "png", "webp", "bmp", "gif"],
                              key=key(page, "try"))
    if upload is None:
        return
    image = load_image(upload.getvalue(), upload.name)
    predictor = Predictor.from_network(result.network, result.meta)
    left, right = st.columns([1, 2])
    left.image(image, width="stretch")
    right.plotly_chart(plots.top_k_bars(predictor.top_k(image, k=min(5, len(predictor.classes)))),
                       key=key(page, "try-bars"))


def lr_finder_panel(page: str, dataset: Dataset, config) -> None:
    """fastai's learning-rate finder on demand, with its plot and suggestion."""
    if not st.button("Find a learning rate", key=key(page, "lrfind"),
                     help="Trains briefly with a rising learning rate and plots the loss."):
        return
    with heavy_import_notice():
        from cvlib.train import find_learning_rate

        found = find_learning_rate(dataset, config)
    st.session_state[key(page, "lrfound")] = found
    st.plotly_chart(plots.lr_finder(found.lrs, found.losses, found.suggestion),
                    key=key(page, "lrplot"))
    st.info(f"Suggested learning rate: {found.suggestion:.1e} (the 'valley': where the "
            "loss falls fastest). Copy it into the learning rate box for full training.")
