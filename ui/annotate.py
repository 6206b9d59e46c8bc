"""The annotation widgets: open a folder, label one image at a time, review, import, export.

Every click goes through an ``on_click`` callback, so the change is written to disk (by
:class:`cvlib.data.annotations.AnnotationStore`) before the page draws the next image; keyboard
shortcuts are Streamlit's own (``st.button(shortcut=...)``).
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import streamlit as st

from cvlib.data.annotations import (
    EXCLUDED,
    LABELLED,
    SKIPPED,
    TODO,
    AnnotationStore,
    unpack_upload,
)
from cvlib.data.images import is_image_name, load_image, thumbnail
from cvlib.storage.home import studio_home
from ui.common import REPO, key, show_error
from ui.models import model_classes, saved_models

SAMPLE = REPO / "sample_data"
SOURCES = ["Sample photos: one product each (single-label practice)",
           "Sample shelves: several products (multi-label practice)",
           "A folder on this machine", "Upload a zip"]
NAV_KEYS = {"prev": "Left", "next": "Right", "todo": "N", "skip": "S", "exclude": "X",
            "undo": "U", "accept": "A"}
"""Keyboard shortcuts besides the number keys (one per class, 1 to 9)."""
GRID_PAGE = 24


def practice_folder(multi_label: bool) -> Path:
    """A fresh copy of sample images, without their labels, under the studio home.

    Single-label practice gets the one-product photos of ``fridge4`` (renamed and shuffled,
    so neither the name nor the order gives the class away); multi-label practice gets
    the shelves of ``fridge-multilabel``.
    """
    name = "fridge-practice-multi" if multi_label else "fridge-practice-single"
    target = studio_home() / "annotation-sets" / name
    if not target.is_dir():
        staging = target.with_name(target.name + ".copying")
        shutil.rmtree(staging, ignore_errors=True)
        if multi_label:
            shutil.copytree(SAMPLE / "fridge-multilabel" / "images", staging)
        else:
            _copy_shuffled(sorted((SAMPLE / "fridge4").rglob("*.jpg")), staging)
        staging.rename(target)
    return target


def _copy_shuffled(photos: list[Path], folder: Path) -> None:
    """Copy photos into one folder as ``photo_001.jpg``... in a seeded random order."""
    folder.mkdir(parents=True)
    random.Random(0).shuffle(photos)
    for number, photo in enumerate(p for p in photos if is_image_name(p.name)):
        shutil.copy2(photo, folder / f"photo_{number + 1:03d}{photo.suffix.lower()}")


def choose_folder(page: str) -> tuple[Path | None, bool | None]:
    """The folder to annotate (a practice copy, a local folder, or an uploaded zip), and
    the mode a practice copy starts in (None: whatever the folder's labels say)."""
    source = st.radio("Which images?", SOURCES, horizontal=True, key=key(page, "source"))
    if source in SOURCES[:2]:
        multi = source == SOURCES[1]
        return practice_folder(multi), multi
    if source == SOURCES[2]:
        text = st.text_input("Folder with the images (labels.csv is written into it)",
                             key=key(page, "folder"), placeholder="/home/me/photos/shelf")
        return (Path(text.strip()).expanduser() if text.strip() else None), None
    upload = st.file_uploader("Zip of images", type=["zip"], key=key(page, "upload"))
    return (unpack_upload(upload.getvalue()) if upload is not None else None), None


def open_store(page: str, folder: Path, multi_label: bool | None = None,
               ) -> AnnotationStore | None:
    """Open the annotation of ``folder`` (in ``multi_label`` mode, when given)."""
    state_key = key(page, "store")
    cached = st.session_state.get(state_key)
    if cached is not None and cached.root == folder.expanduser().resolve():
        return cached
    try:
        store = AnnotationStore.open(folder, multi_label=multi_label)
    except Exception as exc:  # noqa: BLE001 - any bad folder becomes a message
        show_error(exc)
        return None
    st.session_state[state_key] = store
    st.session_state[key(page, "current")] = store.resume_at()
    st.session_state[key(page, "multi")] = store.multi_label  # the toggle follows the folder
    return store


def setup_panel(page: str, store: AnnotationStore) -> None:
    """Mode, classes (add one on the fly) and imports of existing labels."""
    left, right = st.columns([1, 2])
    with left:
        multi = st.toggle("Several labels per image (multi-label)", store.multi_label,
                          key=key(page, "multi"),
                          help="Single-label: one class per image, and choosing it moves "
                               "on. Multi-label: toggle every class present, then Next.")
        if multi != store.multi_label:
            _try(page, store.set_multi_label, multi)
        st.toggle("Move on after a single-label choice", True, key=key(page, "advance"))
    with right, st.form(key(page, "add-class"), clear_on_submit=True, border=False):
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        names = c1.text_input("Add classes (comma-separated)", key=key(page, "new-class"),
                              placeholder="milk, juice, soda")
        if c2.form_submit_button("➕ Add"):
            for name in filter(None, (n.strip() for n in names.split(","))):
                _try(page, store.add_class, name)
    if not store.classes:
        st.info("Add the classes you want to label with (e.g. `milk, juice, soda`).")
    with st.expander("Import existing labels"):
        st.markdown("A `labels.csv` (or a folder holding one), a folder with one "
                    "sub-folder per class, or the tutorial's annotation file (tab-separated "
                    "`IM_FILENAME`, `EXCLUDE`, `LABELS`: its excluded images stay "
                    "excluded here). Images are matched by name; one Undo takes the whole "
                    "import back.")
        source = st.text_input("Labels to import", key=key(page, "import-path"),
                               placeholder=str(store.root))
        if st.button("Import", key=key(page, "import")) and source.strip():
            count = _try(page, store.import_labels, source.strip())
            if count is not None:
                st.success(f"Imported labels for {count} image(s).")
    for name, reason in store.problems:
        st.caption(f"⚠️ {name}: {reason}")


def annotator(page: str, store: AnnotationStore, predictor=None) -> None:
    """One image, large, with class buttons, navigation, progress and model suggestions."""
    current = _current(page, store)
    done, total = store.progress()
    st.progress(done / total, text=f"{done} of {total} images labelled · "
                f"{sum(store.status(n) == SKIPPED for n in store.images)} skipped · "
                f"{len(store.excluded())} excluded · "
                f"image {store.images.index(current) + 1}: `{current}`")
    left, right = st.columns([3, 2])
    with left:
        st.image(load_image(store.path_of(current)), width="stretch")
    with right:
        labels = store.labels_of(current)
        st.markdown(f"**Labels:** {' + '.join(labels) if labels else '—'}" + {
            SKIPPED: " (skipped)",
            EXCLUDED: " (excluded: never trained nor measured on)"}.get(
                store.status(current), ""))
        _class_buttons(page, store, current)
        _nav_buttons(page, store, current)
        if predictor is not None:
            _suggestion(page, store, current, predictor)
    st.caption("Keys: **1–9** the classes · **←/→** previous/next · **N** next to do · "
               "**S** skip · **X** exclude (blurred, off-topic, ambiguous) · **U** undo"
               + (" · **A** accept the suggestion" if predictor else ""))


def _current(page: str, store: AnnotationStore) -> str:
    """The image on screen (kept in the session; the store remembers it on disk too)."""
    state_key = key(page, "current")
    if st.session_state.get(state_key) not in store.images:
        st.session_state[state_key] = store.resume_at()
    store.go_to(st.session_state[state_key])
    return st.session_state[state_key]


def _class_buttons(page: str, store: AnnotationStore, current: str) -> None:
    """One button per class, number keys for the first nine; chosen ones highlighted.

    The buttons wrap in a row, each as wide as its label, so no class name is cut short.
    """
    given = set(store.labels_of(current))
    with st.container(horizontal=True, gap="small"):
        for i, name in enumerate(store.classes):
            st.button(f"{i + 1} · {name}" if i < 9 else name, key=key(page, f"class-{i}"),
                      width="content", type="primary" if name in given else "secondary",
                      shortcut=str(i + 1) if i < 9 else None,
                      on_click=_choose, args=(page, store, current, name))


def _nav_buttons(page: str, store: AnnotationStore, current: str) -> None:
    """Previous, next, next to do, skip, exclude and undo, in a row that wraps.

    Each button is as wide as its label (and key hint): equal columns cut the labels
    short ("←…") in the narrow right-hand column.
    """
    excluded = store.status(current) == EXCLUDED
    buttons = [("prev", "← Previous", _move, (page, store, current, -1)),
               ("next", "Next →", _move, (page, store, current, 1)),
               ("todo", "Next to do", _next_todo, (page, store, current)),
               ("skip", "Skip", _skip, (page, store, current)),
               ("exclude", "Include again" if excluded else "⊘ Exclude", _exclude,
                (page, store, current)),
               ("undo", "↶ Undo", _undo, (page, store))]
    with st.container(horizontal=True, gap="small"):
        for name, label, callback, args in buttons:
            st.button(label, key=key(page, name), width="content", shortcut=NAV_KEYS[name],
                      on_click=callback, args=args,
                      disabled=name == "undo" and not store.can_undo(),
                      help="Leave this image out of training and measuring for good"
                      if name == "exclude" and not excluded else None)


def _suggestion(page: str, store: AnnotationStore, current: str, predictor) -> None:
    """The model's labels and probabilities for this image, and one key to accept them.

    Accept takes only classes this annotation already has: a model trained on other
    classes may still be looked at, but never adds its classes behind the user's back.
    """
    from cvlib.data.annotations import suggest

    found = suggest(predictor, store.path_of(current))
    st.markdown(f"**Model suggests:** {' + '.join(found.labels) or 'nothing'}")
    ranked = sorted(found.probabilities.items(), key=lambda kv: -kv[1])
    for name, prob in ranked[:5]:
        st.progress(prob, text=f"{name}: {prob:.0%}")
    foreign = [label for label in found.labels if label not in store.classes]
    st.button("✔ Accept suggestion", key=key(page, "accept"), type="primary",
              shortcut=NAV_KEYS["accept"], disabled=not found.labels or bool(foreign),
              on_click=_accept, args=(page, store, current, found.labels))
    if foreign:
        st.caption(f"Accept is off: {', '.join(f'“{c}”' for c in foreign)} is not a class "
                   "of this annotation. Add it above if you do want it.")


def _choose(page: str, store: AnnotationStore, current: str, name: str) -> None:
    """Class button: toggle it (multi-label) or set it and maybe move on (single-label)."""
    if _try(page, store.toggle, current, name) is None:
        return
    if not store.multi_label and st.session_state.get(key(page, "advance"), True):
        _next_todo(page, store, current)


def _accept(page: str, store: AnnotationStore, current: str, labels: tuple[str, ...]) -> None:
    """Take the model's labels for this image and move on to the next image to do.

    Refused, with a message, for a class the annotation does not have: a second guard
    behind the disabled button, so no path adds a model's class silently.
    """
    foreign = [label for label in labels if label not in store.classes]
    if foreign:
        st.session_state[key(page, "message")] = (
            f"Not accepted: {', '.join(foreign)} is not a class of this annotation.")
    elif _try(page, store.set_labels, current, labels) is not None:
        _next_todo(page, store, current)


def _move(page: str, store: AnnotationStore, current: str, step: int) -> None:
    """Previous / next image, labelled or not."""
    st.session_state[key(page, "current")] = store.neighbour(current, step)


def _next_todo(page: str, store: AnnotationStore, current: str) -> None:
    """The next image not labelled yet (stays put when everything is done)."""
    st.session_state[key(page, "current")] = store.next_todo(current) or current


def _skip(page: str, store: AnnotationStore, current: str) -> None:
    """Leave this image for later and move on."""
    store.skip(current)
    _next_todo(page, store, current)


def _exclude(page: str, store: AnnotationStore, current: str) -> None:
    """Exclude this image and move on, or bring an excluded one back to 'to do'."""
    if store.status(current) == EXCLUDED:
        _try(page, store.set_labels, current, ())
    elif _try(page, store.exclude, current) is not None:
        _next_todo(page, store, current)


def _undo(page: str, store: AnnotationStore) -> None:
    """Take back the last change and show the image it touched."""
    touched = store.undo()
    if touched is not None:
        st.session_state[key(page, "current")] = touched


def _try(page: str, func, *args):
    """Run a store change; a refusal (bad class name, wrong mode) becomes a message."""
    try:
        result = func(*args)
    except Exception as exc:  # noqa: BLE001 - shown to the user, the page goes on
        st.session_state[key(page, "message")] = str(exc)
        return None
    return True if result is None else result


def show_message(page: str) -> None:
    """The last refusal from a callback, shown once."""
    message = st.session_state.pop(key(page, "message"), None)
    if message:
        st.warning(message)


def model_choice(page: str, store: AnnotationStore):
    """Pick a saved model for pre-labels; returns a loaded Predictor or None.

    Each model is listed with its classes, those that fit this annotation first; a model
    that knows classes this annotation does not have is marked in the list and flagged
    once picked, with an explicit button to add its classes.
    """
    folders = saved_models()
    if not folders:
        st.caption("No saved model yet: train one on page 01 or 02 to get suggestions.")
        return None
    known = {str(f): model_classes(f) for f in folders}
    missing = {f: [c for c in classes if c not in store.classes]
               for f, classes in known.items()}
    none = "(no suggestions)"
    options = [none, *sorted(known, key=lambda f: bool(missing[f]))]

    def label(option: str) -> str:
        if option == none:
            return option
        flag = " · ⚠ other classes" if missing[option] else ""
        return f"{Path(option).name} ({', '.join(known[option])}){flag}"

    chosen = st.selectbox("Suggest labels with a saved model", options,
                          key=key(page, "model"), format_func=label)
    if chosen == none:
        return None
    if missing[chosen]:
        st.warning(
            f"`{Path(chosen).name}` was trained on {', '.join(known[chosen])}; this "
            f"annotation's classes are {', '.join(store.classes) or 'none yet'}. Its "
            f"suggestions of {', '.join(missing[chosen])} cannot be accepted unless you "
            "add those classes.")
        st.button(f"➕ Add {', '.join(missing[chosen])} to the classes",
                  key=key(page, "add-model-classes"),
                  on_click=_add_classes, args=(page, store, missing[chosen]))
    return _predictor(chosen)


def _add_classes(page: str, store: AnnotationStore, names: list[str]) -> None:
    """Button: add a model's classes to the annotation, because the user asked."""
    for name in names:
        _try(page, store.add_class, name)


@st.cache_resource(show_spinner="Loading the model…", max_entries=2)
def _predictor(folder: str):
    """A saved model, loaded once per server (ONNX Runtime: fast on a CPU)."""
    from cvlib.models.inference import Predictor

    return Predictor.load(folder, engine="onnx")


def review_grid(page: str, store: AnnotationStore) -> None:
    """Thumbnails of the folder, filtered; ✎ opens an image in the annotator to fix it."""
    choices = ["labelled", "to do", "skipped", "excluded", "all",
               *[f"class: {c}" for c in store.classes]]
    c1, c2 = st.columns([2, 1])
    shown = c1.selectbox("Show", choices, key=key(page, "grid-filter"))
    names = [n for n in store.images if _matches(store, n, shown)]
    pages = max(1, (len(names) + GRID_PAGE - 1) // GRID_PAGE)
    number = c2.number_input(f"Page (of {pages})", 1, pages, 1, key=key(page, "grid-page"))
    cols = st.columns(6)
    for slot, name in enumerate(names[(number - 1) * GRID_PAGE:number * GRID_PAGE]):
        with cols[slot % 6]:
            st.image(thumbnail(load_image(store.path_of(name)), 160), width="stretch")
            labels = store.labels_of(name)
            st.caption(f"{name}: {' + '.join(labels) or store.status(name)}")
            st.button("✎ Fix", key=key(page, f"fix-{name}"), width="stretch",
                      on_click=_open, args=(page, name))
    if not names:
        st.caption("Nothing to show with this filter.")


def _matches(store: AnnotationStore, name: str, shown: str) -> bool:
    """Whether an image passes the grid's filter."""
    status = store.status(name)
    if shown.startswith("class: "):
        return shown.removeprefix("class: ") in store.labels_of(name)
    return shown == "all" or {"labelled": LABELLED, "to do": TODO, "skipped": SKIPPED,
                              "excluded": EXCLUDED}[shown] == status


def _open(page: str, name: str) -> None:
    """Grid ✎: show this image in the annotator."""
    st.session_state[key(page, "current")] = name


def export_panel(page: str, store: AnnotationStore) -> None:
    """Write the labels elsewhere: a CSV, or a folder per class (copies or links)."""
    st.markdown(f"The labels already live in `{store.labels_path}`: pages 01 and 02 can "
                f"train on `{store.root}` as it is. To hand them on in another shape:")
    kind = st.radio("Export as", ["CSV file", "Tutorial annotation file (tab-separated)",
                                  "Folder per class (copies)",
                                  "Folder per class (symbolic links)"],
                    horizontal=True, key=key(page, "export-kind"))
    target = st.text_input("Where to", key=key(page, "export-path"),
                           value=str(studio_home() / "exports" / store.root.name))
    if st.button("Export", key=key(page, "export")) and target.strip():
        try:
            path = Path(target).expanduser()
            if kind == "CSV file":
                path = path / "labels.csv" if path.suffix.lower() != ".csv" else path
                st.success(f"Wrote `{store.export_csv(path)}`.")
            elif kind.startswith("Tutorial"):
                if path.suffix.lower() not in (".txt", ".tsv"):
                    path = path / "annotations.txt"
                st.success(f"Wrote `{store.export_tutorial(path)}`.")
            else:
                count = store.export_class_folders(target, link="links" in kind)
                st.success(f"Exported {count} image(s) to `{target}`.")
        except Exception as exc:  # noqa: BLE001 - shown to the user
            show_error(exc)
