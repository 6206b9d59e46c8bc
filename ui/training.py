"""The training panel: settings, background run with live curves and Stop, and results.

Training runs as a :mod:`cvlib.runtime.jobs` job, so a click elsewhere, a page switch or a reload
never restarts or freezes it; a fragment polls its progress once a second.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
import streamlit as st

from cvlib.data.dataset import Dataset
from cvlib.models.registry import get_spec, list_models
from ui import plots
from ui.common import (
    guarded,
    job_monitor,
    key,
    results_context,
    start_job,
)
from ui.models import save_model_form

IMAGE_SIZES = [96, 128, 160, 192, 224, 240, 260, 288, 320, 384]
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
    from cvlib.models.registry import get_spec

    for name, value in values.items():
        if name in _WIDGETS:
            st.session_state[key(page, _WIDGETS[name])] = value
    if values.get("image_size") is None and "architecture" in values:
        st.session_state[key(page, "size")] = get_spec(values["architecture"]).input_size


def training_settings(page: str, *, workshop: dict[str, Any] | None = None,
                      multi_label: bool = False):
    """Widgets for every training setting, with CPU-friendly defaults; returns a TrainConfig.

    ``workshop`` is a preset that finishes in under two minutes on a laptop CPU: while its
    toggle is on, the preset is used as it is and the widgets are hidden, so a quick click
    on Train can never mix preset and widget values.  ``multi_label`` says what data it
    will train on, so the notice names the input size it really trains at (strips are cut
    from an input twice the backbone's size).
    """
    from cvlib.training.config import TrainConfig

    if workshop and st.toggle("Workshop preset (under 2 minutes on a laptop CPU)",
                              key=key(page, "workshop", keep=True)):
        config = TrainConfig(**workshop)
        st.info(workshop_notice(config, multi_label))
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


def workshop_notice(config, multi_label: bool = False) -> str:
    """The workshop preset in words: mode, epochs, and what the network is shown."""
    if config.mode == "full":
        what = (f"**full** training ({config.epochs} epochs, learning rate {config.lr:.0e}, "
                f"batch {config.batch_size})")
    else:
        what = "**quick** training (the last layer only)"
    return (f"Workshop preset: {what} of {config.for_data(multi_label).describe()}. "
            "Switch it off to choose.")


def _config_dict(config) -> dict[str, Any]:
    return {f.name: getattr(config, f.name) for f in fields(config)}


def start_training(name: str, dataset: Dataset, config) -> None:
    """Start a training job in the background for this browser session."""

    def work(progress):
        from cvlib.training.workflow import train_and_record

        return train_and_record(dataset, config, surface=name, progress=progress)

    start_job(name, work, what=f"{config.mode} training of {config.architecture}",
              context=results_context(dataset, config))


def training_monitor(name: str, context: Any = None) -> Any | None:
    """Live progress and loss/accuracy curves of this session's training ``name``.

    Returns the result once done, or once stopped (the best weights seen are kept); with
    ``context`` (:func:`ui.common.results_context`), only a result of that data and those
    settings.
    """
    def curves(snap: dict[str, Any]) -> None:
        history = snap["history"]
        multi = any("hamming_accuracy" in r for r in history)
        st.plotly_chart(plots.training_curves(history, snap["total_epochs"], multi),
                        key=f"curves-{name}")

    return job_monitor(name, live=curves, result_when_stopped=True, context=context,
                       stop_help="Stops after the current batch and keeps the best weights.",
                       stopped="Stopped on request: the best weights seen so far are kept.")


@guarded
def results_panel(page: str, result) -> None:
    """Validation accuracy, confusion matrix, ROC/PR, top losses, try an image, save."""
    metrics = result.metrics
    card = result.card
    cols = st.columns(4)
    cols[0].metric("Validation accuracy", f"{metrics['accuracy']:.1%}")
    cols[1].metric("Validation images", metrics["n"])
    cols[2].metric("Mode", card.mode)
    cols[3].metric("Time", f"{result.timings['total_s']:.1f} s")
    for sentence in reading_the_curves(result.history):
        st.markdown(sentence)
    quick_vs_full(result)
    st.caption(
        f"Measured on {metrics['n']} images the model never trained on (a seeded, "
        "stratified split). Feature cache: "
        f"{result.timings['cache_hits']} hits, {result.timings['cache_misses']} computed.")
    estimate_panel(result.estimate, result.test_metrics)
    if "confusion" in metrics:
        left, right = st.columns([2, 3])
        with left:
            st.markdown("**Confusion matrix**: rows are the truth, columns the prediction.")
            st.plotly_chart(plots.confusion_matrix(metrics["confusion"], card.classes),
                            key=key(page, "cm"))
        with right:
            st.markdown("**Per class**: precision = how often a prediction of this class is "
                        "right; recall = how many of this class were found.")
            st.dataframe(per_class_table(metrics), width="stretch")
    st.markdown("**ROC and precision-recall curves**: how well each class's probability "
                "separates it from the others, at every threshold.")
    st.plotly_chart(plots.roc_pr_curves(metrics), key=key(page, "curves"))
    top_losses_grid(result, page=page)
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


def reading_the_curves(history: list[dict[str, Any]]) -> list[str]:
    """Plain sentences about the learner's own curves: underfitting, overfitting, or neither.

    Underfitting: the network does not even fit the photos it learns from (training
    accuracy low).  Overfitting: it fits them better and better while getting worse on
    photos it has not seen (validation loss rises after its best epoch, or a wide gap).
    """
    if not history or "train_accuracy" not in history[-1]:
        return []
    last = history[-1]
    train_acc, valid_acc = last["train_accuracy"], last["accuracy"]
    said = [f"At the last point the network is right on **{train_acc:.0%}** of its training "
            f"photos and **{valid_acc:.0%}** of the validation photos."]
    epochs = [r for r in history if r["epoch"] > 0]
    if not epochs:
        said.append("Quick mode has no epochs to watch: it fits the last layer once. "
                    "Switch on full training to see the network learn epoch by epoch.")
    best = min(history, key=lambda r: r["valid_loss"])
    if train_acc < 0.9:
        said.append("**Underfitting**: the training accuracy is still low, so the network has "
                    "not yet learned even the photos it trains on. More epochs, a higher "
                    "learning rate or a larger image size give it more to work with.")
    if epochs and best["epoch"] < last["epoch"] and last["valid_loss"] > best["valid_loss"]:
        said.append(f"**Overfitting**: the validation loss was lowest at epoch "
                    f"{best['epoch']} ({best['valid_loss']:.3f}) and rose to "
                    f"{last['valid_loss']:.3f} by epoch {last['epoch']}, while the network "
                    "kept fitting its training photos: it starts to memorise them. The "
                    f"studio kept the weights of epoch {best['epoch']}.")
    elif train_acc - valid_acc > 0.1:
        said.append(f"**A gap of {train_acc - valid_acc:.0%}** between training and validation: "
                    "the network does better on photos it has seen than on new ones, the "
                    "first sign of overfitting. More photos or more augmentation narrow it.")
    elif train_acc >= 0.9 and epochs:
        said.append("Neither: both curves moved together and validation loss was lowest at "
                    f"epoch {best['epoch']}. With a lowest point at the last epoch, one or "
                    "two more epochs might still help.")
    return said


def quick_vs_full(result) -> None:
    """Quick mode (the head that full training starts from) beside the full result.

    Both come from the same run, on the same split: epoch 0 *is* quick mode's model, so
    the comparison costs nothing and is fair.  When full training did not beat it, say so.
    """
    start = next((r for r in result.history if r["epoch"] == 0), None)
    if result.card.mode != "full" or start is None:
        return
    full_acc, quick_acc = result.metrics["accuracy"], start["accuracy"]
    st.markdown("**Quick or full?** Quick mode is how Teachable Machine trains: only the "
                "last layer, on features of the frozen network. Full training started from "
                "that same layer and then trained the whole network:")
    st.dataframe([
        {"mode": "quick (last layer only)", "validation accuracy": f"{quick_acc:.1%}",
         "validation loss": round(start["valid_loss"], 3),
         "time (s)": start.get("elapsed_s")},
        {"mode": f"full ({result.card.training['epochs']} epochs)",
         "validation accuracy": f"{full_acc:.1%}",
         "validation loss": round(result.metrics["loss"], 3),
         "time (s)": result.timings["total_s"]},
    ], hide_index=True)
    st.caption("Read this with care: full training keeps its best epoch *by these same "
               "validation photos*, so its number here flatters it. On photos the training "
               "never saw (bench/recipes.py, three small real data sets, about 30 photos a "
               "class) full training (3 epochs) scored 0.766 against quick mode's 0.792, "
               "and took minutes instead of seconds: with few photos, quick mode is the "
               "better buy; full training earns its time with more photos, or a GPU.")
    if full_acc <= quick_acc:
        st.warning(f"**Full training did not beat quick mode here** ({full_acc:.1%} against "
                   f"{quick_acc:.1%} on the same validation photos). On a few dozen photos "
                   "this is common: the last layer alone already uses what ImageNet taught "
                   "the network. More epochs, another learning rate (use the finder) or more "
                   "photos can change it; otherwise quick mode is the better buy.")


def top_losses_grid(result, k: int = 8, page: str = "") -> None:
    """The validation images the model got most wrong, with where it looked and every score.

    Each tile shows the photo with the Grad-CAM heatmap of the class the model predicted
    (red: the evidence it used), says which label is the truth, and lists the model's
    probability for every class.
    """
    from cvlib.evaluation.metrics import top_losses

    st.markdown("**Top losses**: the validation images the model was most wrong (or least "
                "sure) about. Look for wrong labels, odd photos, or classes that look alike. "
                "The colours show **where the model looked** for the class it predicted "
                "(Grad-CAM: red is strong evidence).")
    classes, multi = result.card.classes, result.card.multi_label
    order = top_losses(result.valid_probs, result.valid_targets, multi, k)
    pictures = _top_loss_pictures(page, result, [int(i) for i in order])
    cols = st.columns(4)
    for n, i in enumerate(order):
        probs, truth = result.valid_probs[i], result.valid_targets[i]
        if multi:
            true_set = {c for c, y in zip(classes, truth, strict=True) if y}
            pred = [c for c, p in zip(classes, probs, strict=True) if p >= 0.5]
            caption = (f"truth: {' + '.join(sorted(true_set)) or 'none'} · predicted: "
                       f"{' + '.join(pred) or 'none'}")
        else:
            true_set = {classes[int(truth)]}
            caption = (f"truth: {classes[int(truth)]} · predicted: "
                       f"{classes[int(np.argmax(probs))]}")
        with cols[n % 4]:
            picture = pictures.get(int(i))
            if isinstance(picture, str):
                st.caption(picture)
            else:
                st.image(picture, caption=caption, width="stretch")
            st.markdown("  \n".join(
                (f"**{c} {p:.0%}** (truth)" if c in true_set else f"{c} {p:.0%}")
                for c, p in sorted(zip(classes, probs, strict=True), key=lambda cp: -cp[1])))


def _top_loss_pictures(page: str, result, indices: list[int]) -> dict[int, Any]:
    """Each photo with its Grad-CAM overlay (or a message), computed once per result.

    Kept in the session, so moving a slider elsewhere on the page does not recompute them.
    """
    token = (id(result), tuple(indices))
    store = key(page, "top-loss-cams")
    if st.session_state.get(store, (None,))[0] == token:
        return st.session_state[store][1]
    from cvlib.data.images import load_image, thumbnail
    from cvlib.models.explain import GradCam, overlay_heatmap

    cfg = result.config.for_data(result.card.multi_label).preprocessing()
    cam = GradCam(result.network, cfg)
    pictures: dict[int, Any] = {}
    with st.spinner("Grad-CAM: where the model looked…"):
        for i in indices:
            try:
                image = thumbnail(load_image(result.valid_paths[i]), 320)
                heat = cam.heatmap(image, int(np.argmax(result.valid_probs[i])))
                pictures[i] = overlay_heatmap(image, heat, cfg)
            except Exception as exc:  # noqa: BLE001 - one bad tile must not break the grid
                pictures[i] = f"{result.valid_paths[i].name}: {exc}"
    st.session_state[store] = (token, pictures)
    return pictures


def try_an_image(page: str, result) -> None:
    """Predict an uploaded image with the model just trained."""
    from cvlib.data.images import load_image
    from cvlib.models.inference import Predictor

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


def lr_finder_context(dataset: Dataset, config) -> tuple[str, int, str]:
    """What a finder's plot is about: the data and every setting but the learning rate,
    the epochs and the schedule, which the plot is there to choose (so using its
    suggestion keeps the plot on screen, while another image size or network hides it)."""
    return results_context(dataset, {k: v for k, v in _config_dict(config).items()
                                     if k not in ("lr", "epochs", "schedule")})


def lr_finder_panel(page: str, dataset: Dataset, config) -> None:
    """fastai's learning-rate finder as a background job: progress, Stop, plot, one-click use."""
    name = f"lrfind-{page}"
    context = lr_finder_context(dataset, config)
    if st.button("Find a learning rate", key=key(page, "lrfind"),
                 help="Trains briefly with a rising learning rate and plots the loss "
                      "(about a minute on a laptop CPU; the page stays usable)."):
        def work(progress):
            from cvlib.training.train import find_learning_rate

            return find_learning_rate(dataset, config, progress=progress)

        start_job(name, work, what="the learning-rate finder", context=context)
    found = job_monitor(name, context=context, stop_help="Stops the sweep; nothing is changed.",
                        stopped="Stopped: no learning rate was suggested.")
    if found is None:
        return
    st.plotly_chart(plots.lr_finder(found.lrs, found.losses, found.suggestion),
                    key=key(page, "lrplot"))
    st.info(f"Suggested learning rate: **{found.suggestion:.1e}** (the 'valley': where the "
            "loss falls fastest, before it shoots up).")
    st.button(f"Use {found.suggestion:.1e} for full training", key=key(page, "lruse"),
              on_click=use_learning_rate, args=(page, config, found.suggestion),
              help="Fills the learning rate box (and switches the workshop preset off, "
                   "keeping its other settings).")


def use_learning_rate(page: str, config, lr: float) -> None:
    """Button callback: put ``lr`` in the settings, the other settings as they are.

    It runs before the page's next run, so it may fill widgets the page already drew.
    """
    st.session_state[key(page, "workshop")] = False
    _fill_widgets(page, {**_config_dict(config), "lr": float(f"{lr:.1e}")})
