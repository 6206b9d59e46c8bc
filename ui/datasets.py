"""Dataset picker, summary and image grid, shared by every page that takes data."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cvlib.data.dataset import Dataset, DatasetSummary, load_dataset, summarize
from cvlib.data.images import load_image, thumbnail
from cvlib.storage.home import studio_home
from cvlib.storage.persist import save_by_content
from ui.common import REPO, key, set_url_choice, show_error, url_choice

SAMPLE_ROOT = REPO / "sample_data"
SAMPLES = {
    "single": {"Fridge objects (4 classes, rendered)": SAMPLE_ROOT / "fridge4"},
    "multi": {"Fridge objects, several per image (rendered)": SAMPLE_ROOT / "fridge-multilabel"},
}


SOURCES = ["Sample data", "A folder on this machine", "Upload a zip"]
# The URL parameter (ui.common.URL_KEPT) that holds each kind's choice.
URL_NAMES = {"single": "data", "multi": "data-multi"}


def save_upload(name: str, data: bytes) -> Path:
    """Keep an uploaded archive under the studio home, named by content (never by its name)."""
    return save_by_content(data, studio_home() / "uploads", ".zip")


def _key(kind: str, name: str) -> str:
    """The widgets of the one dataset choice: shared by every page, kept across pages."""
    return key("tutorial", f"{kind}-{name}", keep=True)


def _to_url(path: Path) -> str:
    """A choice as it is written in the URL: sample sets by their folder name."""
    return f"sample:{path.name}" if path.parent == SAMPLE_ROOT else str(path)


def _restore_from_url(kind: str) -> None:
    """On a fresh session (a reload), set the picker's widgets to the choice in the URL."""
    text = url_choice(URL_NAMES[kind])
    if not text or _key(kind, "source") in st.session_state:
        return
    samples = {f"sample:{path.name}": name for name, path in SAMPLES[kind].items()}
    if text in samples:
        st.session_state[_key(kind, "source")] = SOURCES[0]
        st.session_state[_key(kind, "sample")] = samples[text]
    elif Path(text).parent == studio_home() / "uploads":
        st.session_state[_key(kind, "source")] = SOURCES[2]
        st.session_state[uploaded_key(kind)] = (text, "the archive uploaded earlier")
    else:
        st.session_state[_key(kind, "source")] = SOURCES[1]
        st.session_state[_key(kind, "folder")] = text


def uploaded_key(kind: str) -> str:
    """Where the last uploaded archive of this kind is remembered: (stored path, its name)."""
    return key("tutorial", f"{kind}-uploaded")


def dataset_picker(kind: str = "single", label: str = "Dataset") -> Dataset | None:
    """The one dataset choice of the tutorial: the sample data, a folder, or an uploaded zip.

    Chosen once, it follows the learner from page to page (every page that takes data
    shows this same picker, already set) and through a reload (it is kept in the URL, as
    the session id is); changing it on any page changes it everywhere.  ``kind``
    ("single" or "multi") picks which sample sets are offered; single- and multi-label
    pages each keep their own choice.  Problems with the choice are shown as messages;
    the function then returns None.
    """
    st.subheader(label)
    _restore_from_url(kind)
    source = st.radio("Where are the images?", SOURCES, horizontal=True,
                      key=_key(kind, "source"),
                      help="One choice for the whole tutorial: the other pages use it too.")
    path: Path | None = None
    shown_as: str | None = None
    if source == SOURCES[0]:
        samples = SAMPLES[kind]
        choice = st.selectbox("Sample set", list(samples), key=_key(kind, "sample"))
        path = samples[choice]
    elif source == SOURCES[1]:
        text = st.text_input("Folder path (one sub-folder per class, or labels.csv + images/)",
                             key=_key(kind, "folder"), placeholder="/home/me/photos/fridge")
        path = Path(text).expanduser() if text.strip() else None
    else:
        path, shown_as = _uploaded_zip(kind)
    set_url_choice(URL_NAMES[kind], None if path is None else _to_url(path))
    if path is None:
        st.info("Choose where the images are to continue.")
        return None
    try:
        return load_dataset(path)
    except Exception as exc:  # noqa: BLE001 - any bad input becomes a message
        show_error(exc, shown_as=shown_as)
        return None


def _uploaded_zip(kind: str) -> tuple[Path | None, str | None]:
    """The zip uploaded now, or the one uploaded earlier on any page: (stored path, name)."""
    upload = st.file_uploader("Zip archive", type=["zip"], key=key("tutorial", f"{kind}-upload"))
    if upload is not None:
        stored = save_upload(upload.name, upload.getvalue())
        st.session_state[uploaded_key(kind)] = (str(stored), upload.name)
    earlier = st.session_state.get(uploaded_key(kind))
    if earlier is None:
        return None, None
    stored, name = earlier
    if upload is None:
        st.caption(f"Using {name}: upload another archive to replace it.")
    return Path(stored), name


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
