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

left, right = st.columns([3, 2])
with left:
    st.subheader("The tutorial, in order")
    st.markdown(
        "Follow the pages top to bottom the first time: each one ends with what to try next "
        "and a link onwards. Each has a *workshop preset* that finishes in under two minutes "
        "on a laptop CPU."
    )
    for file, title, teaches in available_pages():
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
