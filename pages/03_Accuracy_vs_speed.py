"""Page 03: accuracy against speed, measured on this machine with the user's own photos."""

from __future__ import annotations

import streamlit as st

from cvlib.training.presets import PRESETS, WORKSHOP_PRESETS
from ui.common import (
    guarded,
    job_monitor,
    key,
    next_step,
    page_header,
    results_context,
    start_job,
)
from ui.datasets import dataset_picker, dataset_summary
from ui.health import health_gate
from ui.models import default_model_name, save_form
from ui.plots import accuracy_vs_latency
from ui.training import ESTIMATE_MEANING

PAGE = "p03"
JOB = "compare-p03"
MODES = {"own": "as each preset says", "quick": "quick for all", "full": "full for all"}

# Figures printed by bench/rules_of_thumb.py on the development machine (see section 5).
RULES = [
    ("learning rate",
     "the most important one: 1e-4 to 1e-3 for fine-tuning a pretrained network; too low "
     "changes nothing, too high forgets what ImageNet taught it",
     "1e-5 · 2e-4 · 1e-3 · 1e-2: 87.5% each, and each kept the quick head (no epoch lowered "
     "the validation loss below where it started)"),
    ("epochs", "a few with a pretrained network; more only while the validation loss falls",
     "1: 87.5% · 3: 87.5% (the quick head kept) · **6: 90.6%** (best at the last epoch: the "
     "only run that beat the quick head; more might help)"),
    ("batch size", "16-32, as memory allows; few batches per epoch mean few steps",
     "8: 87.5% (best at epoch 3: 16 steps per epoch move the network) · 16: 87.5% · 32: "
     "87.5% (4 steps per epoch: too few to move)"),
    ("image size", "the network's own size, or larger for small objects; time grows with "
     "the square of the side", "128 px: 81.2% (the quick head too) · 160 px: 87.5% · 224 px: "
     "87.5% (best at epoch 3), 42 s against 34 s at 160 px"),
]
RULES_OF_THUMB = "\n".join([
    "| setting | rule of thumb | measured here: validation accuracy (quick head at 160 px: "
    "87.5%) |", "| --- | --- | --- |", *[f"| {a} | {b} | {c} |" for a, b, c in RULES]]) + """

Every difference in this table is one or two validation photos (3.1 points each), within
the noise of 32 photos. Read it as a lesson about small data, not as a ranking: on 128
training photos the quick head (the last layer fitted on the network's features) is already
hard to beat, fine-tuning the whole network for 3 epochs mostly ends where it started
(training keeps its epoch with the lowest validation loss, the quick head included), and
only a longer run (6 epochs) gained a photo. Too small an input loses detail at any setting.
"""
DECODING = """
| decoding one photo and resizing it to 224 px | ms | file size |
| --- | --- | --- |
| a 224 px JPEG (a sample-data photo) | 0.8 | 8 KB |
| the same photo as a 12-megapixel JPEG (4000x3000, a phone photo) | 251 | 2.4 MB |
| the 12 MP JPEG decoded at 1/8 scale (Pillow's draft mode) | 59 | 2.4 MB |
| the same photo at 2000x1500 (3 MP) | 71 | 0.6 MB |
| the same photo at 1024x768 | 16 | 0.2 MB |

A 12 MP photo costs about 300 times the decoding of a 224 px one (16 times a 1024x768
copy), and 36 MB of memory once decoded. Above a few megapixels, **resize your photos
once** (to about 1024 px) before training: the network sees 224 px anyway. Keep the data
on a local disk: reading thousands of small files over a network share is slower still.
"""

page_header("03 · Accuracy vs speed",
            "Choose the model that fits your machine: train a few, time them here, compare.",
            "⚖️")

st.markdown(
    "Bigger networks that look at more pixels are usually more accurate, and always "
    "slower: compute grows with the network's depth and width and with the *square* of the "
    "image side. Which trade-off is right depends on where the model will run, so we "
    "measure it **on this machine**: each preset is trained on your photos, validated on "
    "the same held-out split, then timed one image at a time (batch 1, what a camera or a "
    "web request sees), in PyTorch and in ONNX Runtime. A model is on the **Pareto front** "
    "when no other one is both faster and more accurate; the others give something up "
    "for nothing."
)

st.header("1 · The data")
dataset = dataset_picker(kind="single")

if dataset is not None:
    guarded(dataset_summary)(dataset)
    guarded(health_gate)(PAGE, dataset)
    st.header("2 · The presets")
    st.dataframe([{"preset": p.name, "backbone": p.architecture, "image size": p.image_size,
                   "training": "quick" if p.mode == "quick" else f"full, {p.epochs} epochs",
                   "parameters (M)": round(p.params / 1e6, 1), "when": p.purpose}
                  for p in PRESETS.values()], hide_index=True)
    workshop = st.toggle("Workshop presets (tiny and fast, quick mode: under 2 minutes)",
                         key=key(PAGE, "workshop"))
    chosen = st.multiselect("Presets to compare", list(PRESETS),
                            default=list(WORKSHOP_PRESETS) if workshop else
                            [p for p in PRESETS if PRESETS[p].mode == "quick"],
                            key=key(PAGE, f"presets:{workshop}"), disabled=workshop)
    c1, c2 = st.columns(2)
    mode = c1.radio("Training mode", list(MODES), horizontal=True, key=key(PAGE, "mode"),
                    disabled=workshop, format_func=MODES.get,
                    help="Quick fits the last layer on cached features; full fine-tunes "
                         "the whole network (minutes per preset on a CPU).")
    onnx = c2.toggle("Also time ONNX Runtime", True, key=key(PAGE, "onnx"),
                     help="Exports each model to ONNX (a few seconds) and times it there: "
                          "often faster than PyTorch on a CPU, and what a server would run.")
    mode = None if workshop or mode == "own" else mode

    st.header("3 · Train and time")
    context = results_context(dataset, (chosen, mode, onnx))
    if st.button("▶ Compare", type="primary", key=key(PAGE, "run"), disabled=not chosen):
        from cvlib.training.compare import compare_presets

        def work(progress):
            return compare_presets(dataset, chosen, mode=mode, onnx=onnx, progress=progress)

        start_job(JOB, work, what="training and timing the presets", context=context)
    reports = job_monitor(JOB, live=lambda snap: st.dataframe(snap["history"]),
                          context=context)

    if reports:
        from cvlib.models.card import read_card
        from cvlib.training.compare import pareto_front, recommend, save_pick

        st.header("4 · Results")
        rows = [r.to_dict() for r in reports]
        st.dataframe([{"preset": r["preset"], "accuracy": f"{r['accuracy']:.1%}",
                       "expected on new photos (95% interval)":
                       f"{r['estimated_accuracy']:.1%} ({r['estimated_accuracy_low']:.0%}"
                       f" to {r['estimated_accuracy_high']:.0%})",
                       "ms/image (PyTorch)": round(r["ms_torch"], 1),
                       "ms/image (ONNX)": None if r["ms_onnx"] is None
                       else round(r["ms_onnx"], 1),
                       "MB on disk": round(r["size_mb"], 1),
                       "parameters (M)": round(r["params"] / 1e6, 2),
                       "training (s)": round(r["train_s"], 1)} for r in rows],
                     hide_index=True)
        st.caption(f"Accuracy on {reports[0].n_valid} validation images; one image is "
                   f"{1 / max(1, reports[0].n_valid):.1%}. Times are per image at batch 1 "
                   "on this machine, one view of each image (what the saved models run).")
        st.caption(ESTIMATE_MEANING)
        front = [r.preset for r in pareto_front(reports)]
        st.plotly_chart(accuracy_vs_latency(rows, front), key=key(PAGE, "scatter"))
        st.caption("Green points are on the Pareto front (dotted line); red ones are beaten "
                   "on both accuracy and speed by another model. Bigger points are bigger "
                   "files.")
        pick = recommend(reports)
        st.success(f"Recommendation: {pick.reason}")

        st.subheader("Keep one")
        name = st.selectbox("Model to keep", [r.preset for r in reports],
                            index=[r.preset for r in reports].index(pick.preset),
                            key=key(PAGE, "keep"))
        kept = next(r for r in reports if r.preset == name)
        guarded(save_form)(PAGE, default_model_name(read_card(kept.model_dir), dataset.root.name),
                           lambda folder: save_pick(kept, folder), name_key=kept.model_dir,
                           label="💾 Save (with its ONNX export)")

st.header("5 · Rules of thumb, measured here")
st.markdown(
    "The tutorial's rules of thumb, each checked on this studio's development machine (a "
    "2-core CPU, with nothing else running while it was measured, 2026-12-03) by "
    "`bench/rules_of_thumb.py`: full training of "
    "EfficientNet-Lite0 on real photos (`groceries4`: 4 classes, 128 training and 32 "
    "validation photos), one setting changed at a time from 160 px, 3 epochs, batch 16, "
    "learning rate 2e-4. One validation photo is 3.1 points of accuracy, so a difference of "
    "one photo is noise. Run the script on your machine and your photos: "
    "`python bench/rules_of_thumb.py --data your_folder`."
)
st.markdown(RULES_OF_THUMB)
st.markdown("**Speeding up training.** Measured by `bench/image_decode.py` on the same "
            "machine: one photo decoded and resized to the model's 224 px.")
st.markdown(DECODING)

next_step("pages/03_Accuracy_vs_speed.py", [
    "Compare in **full** mode: fine-tuning often helps the small presets most.",
    "Time the same models on the machine that will serve them (a Raspberry Pi, a VM): "
    "the ranking can change.",
    "Found a good preset? Page 11 tunes its other settings with a grid.",
])
