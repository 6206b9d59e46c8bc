"""Dataset picker, summary and image grid, shared by every page that takes data."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cvlib.data import Dataset, DatasetSummary, load_dataset, studio_home, summarize
from cvlib.images import load_image, thumbnail
from cvlib.persist import save_by_content
from ui.common import REPO, key

SAMPLE_ROOT = REPO / "sample_data"
SAMPLES = {
    "single": {"Fridge objects (4 classes, rendered)": SAMPLE_ROOT / "fridge4"},
    "multi": {"Fridge objects, several per image (rendered)": SAMPLE_ROOT / "fridge-multilabel"},
}


def save_upload(name: str, data: bytes) -> Path:
    """Keep an uploaded archive under the studio home, named by content (never by its name)."""
    return save_by_content(data, studio_home() / "uploads", ".zip")


def dataset_picker(page: str, kind: str = "single", label: str = "Dataset") -> Dataset | None:
    """Choose the sample data, a folder on this machine, or an uploaded zip.

    ``kind`` ("single" or "multi") picks which sample sets are offered.  Problems with the
    choice are shown as messages; the function then returns None.
    """
    st.subheader(label)
    source = st.radio("Where are the images?", ["Sample data", "A folder on this machine",
                                                 "Upload a zip"],
                      horizontal=True, key=key(page, "source"))
    path: Path | None = None
    if source == "Sample data":
        samples = SAMPLES[kind]
        choice = st.selectbox("Sample set", list(samples), key=key(page, "sample"))
        path = samples[choice]
    elif source == "A folder on this machine":
        text = st.text_input("Folder path (one sub-folder per class, or labels.csv + images/)",
                             key=key(page, "folder"), placeholder="/home/me/photos/fridge")
        path = Path(text).expanduser() if text.strip() else None
    else:
        upload = st.file_uploader("Zip archive", type=["zip"], key=key(page, "upload"))
        if upload is not None:
            path = save_upload(upload.name, upload.getvalue())
    if path is None:
        st.info("Choose where the images are to continue.")
        return None
    try:
        return load_dataset(path)
    except Exception as exc:  # noqa: BLE001 - any bad input becomes a message
        from ui.common import show_error

        show_error(exc)
        return None


@st.cache_data(show_spinner="Checking every image…", max_entries=16)
def _summary(root: str, files: tuple[str, ...]) -> DatasetSummary:
    """Summaries are cached per dataset content listing (cheap key, expensive value)."""
    return summarize(load_dataset(root))


def dataset_summary(dataset: Dataset) -> DatasetSummary:
    """Show classes, counts, sizes, unreadable files and warnings; return the summary."""
    summary = _summary(str(dataset.root), tuple(str(p) for p, _ in dataset.items))
    cols = st.columns(4)
    cols[0].metric("Images", summary.n_images)
    cols[1].metric("Classes", len(summary.classes))
    cols[2].metric("Unreadable", len(summary.unreadable))
    cols[3].metric("Kind", "multi-label" if dataset.multi_label else "single-label")
    st.bar_chart(summary.counts, horizontal=True, height=60 + 30 * len(summary.counts))
    for warning in summary.warnings:
        st.warning(warning)
    if summary.unreadable:
        with st.expander(f"{len(summary.unreadable)} file(s) will be skipped"):
            for name, reason in summary.unreadable:
                st.markdown(f"- `{name}`: {reason}")
    for name, reason in dataset.problems:
        st.caption(f"⚠️ {name}: {reason}")
    return summary


def image_grid(paths: list[Path], captions: list[str], columns: int = 6,
               size: int = 160) -> None:
    """A grid of thumbnails with captions (unreadable files show their reason instead)."""
    cols = st.columns(columns)
    for i, (path, caption) in enumerate(zip(paths, captions, strict=True)):
        with cols[i % columns]:
            try:
                st.image(thumbnail(load_image(path), size), caption=caption, width="stretch")
            except Exception as exc:  # noqa: BLE001 - one bad tile must not break the grid
                st.caption(f"{path.name}: {exc}")


def sample_grid(dataset: Dataset, per_class: int = 3, columns: int = 6) -> None:
    """A few images of each class with their labels, to see what the model will learn."""
    shown: dict[str, int] = {}
    paths, captions = [], []
    for path, labels in dataset.items:
        first = labels[0] if labels else "?"
        if shown.get(first, 0) < per_class:
            shown[first] = shown.get(first, 0) + 1
            paths.append(path)
            captions.append(" + ".join(labels))
    image_grid(paths, captions, columns)
