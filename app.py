"""Home page: what the studio is, the tutorial map, the machine, and where models live."""

from __future__ import annotations

import streamlit as st

from cvlib.data import studio_home
from cvlib.hardware import detect
from ui.common import available_pages, session_owner

st.set_page_config(page_title="Image classification studio", page_icon="🖼️", layout="wide")
session_owner()

st.title("🖼️ Image classification studio")
st.markdown(
    "From **a folder of photos** to **a trained, explained, exported and deployed "
    "classifier**, one page at a time. Every page does real work on your machine "
    "(PyTorch and fastai, on the GPU when there is one) and explains what it does and why. "
    "It runs offline on the sample data that ships with it; bring your own folder or zip "
    "whenever you like."
)

STAGES = [
    ("👀 See", "what a trained network already recognises, live", ("00",)),
    ("🎓 Train", "your own classes: single-label, multi-label, and the model that fits "
                "your machine", ("01", "02", "03")),
    ("🛠️ Improve", "the data and the settings: labelling, sweeps, negatives, and fixing the "
                   "mistakes", ("10", "11", "12", "13")),
    ("🚀 Deploy", "the model as a service, tested like one, trained in the cloud",
     ("20", "21", "22", "23", "24")),
    ("❓ Help", "answers to the questions learners ask most", ("90",)),
]


def stage_pages(prefixes: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """The tutorial pages of one stage that exist in this checkout, in order."""
    return [entry for entry in available_pages()
            if entry[0].removeprefix("pages/")[:2] in prefixes]


left, right = st.columns([3, 2])
with left:
    st.subheader("The tutorial map")
    st.markdown(
        "Four stages, one page each step: **see** what a network knows, **train** your own, "
        "**improve** it where it fails, **deploy** it. The first time, follow the pages in "
        "order: each one says what it teaches, ends with what to try next and links to the "
        "next page, and has a *workshop preset* that finishes in under two minutes on a "
        "laptop CPU."
    )
    for stage, summary, prefixes in STAGES:
        pages = stage_pages(prefixes)
        if not pages:
            continue
        st.markdown(f"#### {stage}\n{summary}")
        for file, title, teaches in pages:
            st.page_link(file, label=f"**{title}** — {teaches}")
    staged = {entry for _, _, prefixes in STAGES for entry in stage_pages(prefixes)}
    for file, title, teaches in [p for p in available_pages() if p not in staged]:
        st.page_link(file, label=f"**{title}** — {teaches}")

with right:
    st.subheader("This machine")
    hw = detect()
    st.info(hw.summary)
    st.caption(f"CPU: {hw.cpu} · {hw.cores} cores · {hw.memory_gb:.0f} GB RAM")
    st.subheader("Where things are saved")
    home = studio_home()
    st.markdown(
        f"- Models: `{home / 'models'}`\n"
        f"- Runs (history): `{home / 'runs'}`\n"
        f"- Feature cache: `{home / 'features'}`\n\n"
        "Set the `CVLIB_HOME` environment variable to move them."
    )
    st.subheader("How it learns so fast on a CPU")
    st.markdown(
        "A network trained on ImageNet already knows edges, textures and shapes. *Quick* "
        "training runs your photos through it once, caches the features, and fits only "
        "the last layer: seconds, and very accurate on small data. *Full* training then "
        "adjusts the whole network, starting from that layer."
    )
