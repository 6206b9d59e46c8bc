"""Home page: what the studio is, where to start, the tutorial map, this machine, the files."""

from __future__ import annotations

import streamlit as st

from cvlib.runtime.hardware import detect
from cvlib.storage.home import studio_home
from ui.common import STAGES, TUTORIAL, available_pages, stage_pages

st.title("🖼️ Image classification studio")
st.markdown(
    "From **a folder of photos** to **a trained, explained, exported and deployed "
    "classifier**, one page at a time. Every page does real work on your machine "
    "(PyTorch and fastai, on the GPU when there is one) and explains what it does and why. "
    "It runs offline on the sample data that ships with it; bring your own folder or zip "
    "whenever you like."
)
start_file, start_title, start_teaches = TUTORIAL[0]
with st.container(border=True):
    st.markdown(
        "### 👉 Start here\n"
        f"Open **{start_title}**: {start_teaches}. Then follow the pages in order with the "
        "**Next** link at the bottom of each. The data you choose once (the sample data "
        "to begin with) follows you from page to page.")
    st.page_link(start_file, label=f"Start: {start_title}", icon="▶️")

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
