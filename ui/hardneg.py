"""Widgets for hard-negative mining: where the negatives come from, the review grid, the plot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from cvlib.data.captures import captures_dir, list_captures
from cvlib.data.images import is_image_name, load_image, thumbnail
from cvlib.storage.home import studio_home
from cvlib.storage.persist import save_by_content
from cvlib.training.hardneg import Candidate, negative_images
from ui import plots
from ui.common import REPO, key, show_error

SAMPLE_NEGATIVES = REPO / "sample_data" / "fridge-negatives"


def save_uploaded_image(name: str, data: bytes) -> Path:
    """Keep an uploaded negative under the studio home, named by its content."""
    suffix = Path(name).suffix.lower()
    return save_by_content(data, studio_home() / "negatives",
                           suffix if is_image_name(f"x{suffix}") else ".jpg")


def negatives_source(page: str) -> list[Path] | None:
    """Choose the negative images: the sample set, a folder, uploads, or webcam captures."""
    sources = ["Sample negatives", "A folder on this machine", "Upload images"]
    if list_captures():
        sources.append("Webcam captures (page 00)")
    source = st.radio("Where are the negatives?", sources, horizontal=True,
                      key=key(page, "neg-source"))
    try:
        if source == "Sample negatives":
            return negative_images(SAMPLE_NEGATIVES)
        if source.startswith("Webcam"):
            return negative_images(captures_dir())
        if source == "A folder on this machine":
            text = st.text_input("Folder of images that are none of your classes",
                                 key=key(page, "neg-folder"))
            return negative_images(text) if text.strip() else None
        uploads = st.file_uploader("Images that are none of your classes",
                                   type=["jpg", "jpeg", "png", "webp", "bmp"],
                                   accept_multiple_files=True, key=key(page, "neg-upload"))
        return [save_uploaded_image(u.name, u.getvalue()) for u in uploads] or None
    except Exception as exc:  # noqa: BLE001 - a bad folder becomes a message
        show_error(exc)
        return None


def review_grid(page: str, candidates: list[Candidate], round_no: int,
                columns: int = 5) -> tuple[list[Path], list[Path]]:
    """Thumbnails of the candidates with a tick each; returns ``(confirmed, rejected)``.

    Every candidate starts ticked (most are true negatives); untick an image that does
    show one of your classes, so it is never trained on as "none of these".
    """
    confirmed: list[Path] = []
    rejected: list[Path] = []
    cols = st.columns(columns)
    for i, cand in enumerate(candidates):
        with cols[i % columns]:
            try:
                st.image(thumbnail(load_image(cand.path), 160), width="stretch")
            except Exception as exc:  # noqa: BLE001 - one bad tile must not break the grid
                st.caption(f"{cand.path.name}: {exc}")
            keep = st.checkbox(f"{cand.label} {cand.probability:.0%}", True,
                               key=key(page, f"review:{round_no}:{cand.path}"),
                               help="Ticked: truly none of your classes.")
            (confirmed if keep else rejected).append(cand.path)
    return confirmed, rejected


def rounds_figure(rounds: list[dict[str, Any]]) -> go.Figure:
    """False-positive rate and positive accuracy, round by round."""
    x = [r["round"] for r in rounds]
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=x, y=[r["fp_rate"] for r in rounds], mode="lines+markers",
        name="false positives on held-out negatives",
        text=[f"{r['n_negatives']} negatives, threshold {r['threshold']:.2f}" for r in rounds],
        hovertemplate="round %{x}: %{y:.1%} (%{text})<extra></extra>"))
    fig.add_trace(go.Scatter(
        x=x, y=[r["positive_accuracy"] for r in rounds], mode="lines+markers",
        name="right answers on the positives' validation images",
        hovertemplate="round %{x}: %{y:.1%}<extra></extra>"))
    fig.update_layout(height=320, margin={"t": 30, "b": 30}, legend={"orientation": "h"},
                      xaxis={"title": "round (0 = the first training)", "dtick": 1},
                      yaxis={"title": "share", "range": [0, 1.02], "tickformat": ".0%"})
    return fig


ROUND_DETAILS = ("false_positives", "confusion", "confusion_labels")
"""Round fields too long for the table (shown as pictures instead)."""


def rounds_table(rounds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One short row per round for ``st.dataframe``."""
    return [{k: v for k, v in r.items() if k not in ROUND_DETAILS} for r in rounds]


def round_confusions(page: str, rounds: list[dict[str, Any]]) -> None:
    """Each round's confusion matrix, in one tab per round (the newest open first).

    The last row is the held-out negatives: what is not on its diagonal is a false
    alarm; the last column is every "none of these" answer.
    """
    tabs = st.tabs([f"Round {r['round']}" for r in reversed(rounds)])
    for tab, r in zip(tabs, reversed(rounds), strict=True):
        with tab:
            st.plotly_chart(plots.confusion_matrix(r["confusion"], r["confusion_labels"]),
                            key=key(page, f"confusion:{r['round']}"))
