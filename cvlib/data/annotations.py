"""Labelling a folder of images: one labels file per folder, saved after every change.

Real projects start with unlabelled photos.  :class:`AnnotationStore` keeps the labels of
one image folder in that folder's ``labels.csv`` (``filename,labels``, labels separated by
spaces: the format :func:`cvlib.data.dataset.load_dataset` reads, so the folder can be trained on as
soon as two classes have images).  Every change is written atomically before the call
returns, so a crash or a kill never loses a label that was given, nor leaves half a file.

Beside it, a hidden ``.annotations.json`` keeps what the CSV cannot: the class list (a
class may have no image yet), images skipped for now, images *excluded* (blurred, off-topic,
ambiguous: never trained on nor measured on, and not offered again), where the annotator
stopped, the mode (single- or multi-label), and an undo history.  Hidden files are ignored
by the data loader, and excluded images are not in the CSV, so training leaves them out.

Existing labels can be imported (a labels CSV, a folder per class, or the tutorial's own
annotation file: tab-separated ``IM_FILENAME``, ``EXCLUDE``, ``LABELS`` with labels
separated by commas) and the result exported to a folder per class (copies or symbolic
links), to a CSV, or back to the tutorial's format.  Nothing here
imports torch; :func:`suggest` loads the model's libraries only when it is called.

Examples
--------
>>> store = AnnotationStore.open("photos/fridge", classes=["milk", "juice"])
>>> store.set_labels(store.next_todo(), ["milk"])
>>> store.undo()
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cvlib.data.archive import extract_zip
from cvlib.data.dataset import load_dataset
from cvlib.data.files import CSV_NAME
from cvlib.data.images import is_image_name
from cvlib.data.labels_csv import read_labels_csv
from cvlib.errors import DatasetError
from cvlib.storage.home import studio_home
from cvlib.storage.persist import atomic_write_json, atomic_write_text, read_json

STATE_NAME = ".annotations.json"
HISTORY_LIMIT = 500
"""Undo steps kept on disk: enough for a session, small enough to rewrite on every change."""

SKIPPED = "skipped"
EXCLUDED = "excluded"
TODO = "todo"
LABELLED = "labelled"
MARKS = (SKIPPED, EXCLUDED)
"""States an image can hold instead of labels."""

TUTORIAL_HEADER = ("IM_FILENAME", "EXCLUDE", "LABELS")
"""First line of the tutorial's annotation file (its annotation notebook writes it)."""

_BAD_CLASS_CHARS = re.compile(r"[\s,;|/\\]")

State = tuple[str, ...] | str | None
"""What an image holds at one moment: its labels, ``"skipped"``, ``"excluded"``, or None
(not done yet)."""


def clean_class_name(name: str) -> str:
    """A class name that survives the CSV: no spaces or separators (they split labels).

    Raises
    ------
    DatasetError : the name is empty once trimmed, or holds a separator.
    """
    name = name.strip()
    if not name:
        raise DatasetError("a class needs a name")
    if _BAD_CLASS_CHARS.search(name) or name.startswith("."):
        raise DatasetError(f"class name {name!r} cannot hold spaces, commas, semicolons, "
                           "bars or slashes, nor start with a dot (use '-' or '_' instead)")
    return name


def list_images(root: Path) -> list[str]:
    """Image files under ``root`` (any depth), as sorted POSIX paths relative to it.

    Hidden files and folders (``.thumbnails``, macOS ``._x.jpg``) are left out.
    """
    found: list[str] = []
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        found.extend(Path(current, f).relative_to(root).as_posix() for f in files
                     if is_image_name(f) and not f.startswith("."))
    return sorted(found)


class AnnotationStore:
    """The labels of one image folder, kept on disk after every change, with undo.

    Use :meth:`open`; image names are POSIX paths relative to :attr:`image_dir`, exactly as
    they are written in the CSV.

    Attributes
    ----------
    root : the folder holding ``labels.csv`` (the dataset folder).
    image_dir : where the images are: ``root/images`` when that folder exists, else root.
    images : every image name, sorted.
    classes : the classes offered, in the order they were added (number keys follow it).
    multi_label : whether an image may carry several labels.
    position : the image the annotator was on (resume there), or None.
    problems : ``(file, reason)`` for rows of an existing CSV that were not taken (rows
        naming files missing from the folder are dropped when the file is next written).
    """

    def __init__(self, root: Path, image_dir: Path, images: list[str], classes: list[str],
                 multi_label: bool, labels: dict[str, tuple[str, ...]], marks: dict[str, str],
                 position: str | None, history: list[list[dict[str, Any]]],
                 problems: list[tuple[str, str]]) -> None:
        self.root, self.image_dir, self.images = root, image_dir, images
        self.problems = problems
        self.classes, self.multi_label = classes, multi_label
        self.position = position
        self._labels, self._marks, self._history = labels, marks, history

    @classmethod
    def open(cls, folder: str | Path, *, classes: Sequence[str] = (),
             multi_label: bool | None = None) -> AnnotationStore:
        """Open (or start) the annotation of ``folder``, picking up whatever was saved.

        ``classes`` are added to the saved ones; ``multi_label`` changes the saved mode
        (None keeps it; a new store starts single-label unless its labels say otherwise).

        Raises
        ------
        DatasetError : the folder does not exist or holds no images.
        """
        root = Path(folder).expanduser()
        if not root.is_dir():
            raise DatasetError(f"{root} is not a folder")
        root = root.resolve()
        image_dir = root / "images" if (root / "images").is_dir() else root
        images = list_images(image_dir)
        if not images:
            raise DatasetError(f"no images found in {image_dir}")
        state = _read_state(root / STATE_NAME)
        labels, problems = _read_labels(root, image_dir, set(images))
        saved_classes = [c for c in state.get("classes", []) if isinstance(c, str)]
        in_labels = sorted({label for labs in labels.values() for label in labs})
        several = any(len(labs) > 1 for labs in labels.values())
        mode = bool(state.get("multi_label", several)) if multi_label is None else multi_label
        marks = {name: mark for mark in MARKS for name in state.get(mark, [])
                 if name in images and name not in labels}
        store = cls(root, image_dir, images, _unique([*saved_classes, *in_labels]), mode or
                    several, labels, marks,
                    state.get("position") if state.get("position") in images else None,
                    [step for step in state.get("history", []) if isinstance(step, list)],
                    problems)
        for name in classes:
            store._add_class(clean_class_name(name))
        if classes or multi_label is not None:  # only a change is written: opening reads
            store._save_state()
        return store

    # -- reading ---------------------------------------------------------------------------

    @property
    def labels_path(self) -> Path:
        """The CSV this store writes (the existing one, whatever its capitalisation)."""
        existing = [p for p in self.root.iterdir() if p.name.lower() == CSV_NAME]
        return existing[0] if existing else self.root / CSV_NAME

    def path_of(self, name: str) -> Path:
        """The file behind an image name."""
        return self.image_dir / name

    def labels_of(self, name: str) -> tuple[str, ...]:
        """The labels given to an image (empty when not labelled)."""
        return self._labels.get(name, ())

    def status(self, name: str) -> str:
        """``"labelled"``, ``"skipped"``, ``"excluded"`` or ``"todo"``."""
        if name in self._labels:
            return LABELLED
        return self._marks.get(name, TODO)

    def excluded(self) -> list[str]:
        """The images left out of training and measuring, in image order."""
        return [name for name in self.images if self._marks.get(name) == EXCLUDED]

    def labelled(self) -> dict[str, tuple[str, ...]]:
        """Every labelled image and its labels, in image order."""
        return {name: self._labels[name] for name in self.images if name in self._labels}

    def progress(self) -> tuple[int, int]:
        """``(labelled, total)`` images."""
        return len(self._labels), len(self.images)

    def counts(self) -> dict[str, int]:
        """Images per class (an image counts once per label), every class listed."""
        found = Counter(label for labs in self._labels.values() for label in labs)
        return {name: found[name] for name in self.classes}

    def next_todo(self, after: str | None = None) -> str | None:
        """The first image not yet labelled nor skipped after ``after`` (wrapping round).

        With ``after`` None, the search starts at the beginning.  None when all are done.
        """
        start = self.images.index(after) + 1 if after in self.images else 0
        for name in self.images[start:] + self.images[:start]:
            if self.status(name) == TODO:
                return name
        return None

    def resume_at(self) -> str:
        """Where to continue: the saved position, else the first image still to do."""
        return self.position or self.next_todo() or self.images[0]

    def neighbour(self, name: str, step: int) -> str:
        """The image ``step`` places away from ``name`` (clamped to the ends)."""
        index = self.images.index(name) if name in self.images else 0
        return self.images[min(max(index + step, 0), len(self.images) - 1)]

    def can_undo(self) -> bool:
        """Whether there is a change to take back."""
        return bool(self._history)

    # -- changing --------------------------------------------------------------------------

    def set_labels(self, name: str, labels: Iterable[str]) -> None:
        """Give an image its labels (replacing any); an empty set makes it 'to do' again.

        New class names are added to the class list.  Single-label stores take one label.
        """
        chosen = tuple(sorted({clean_class_name(label) for label in labels}))
        if len(chosen) > 1 and not self.multi_label:
            raise DatasetError("this annotation is single-label: give one class per image, "
                               "or switch to multi-label")
        self._apply([(name, chosen or None)])

    def toggle(self, name: str, label: str) -> tuple[str, ...]:
        """Multi-label: add ``label`` to the image, or remove it if present; single-label:
        make it the image's only label.  Returns the labels now given."""
        current = set(self.labels_of(name))
        if not self.multi_label:
            current = set()
        current ^= {label}
        self.set_labels(name, current)
        return self.labels_of(name)

    def skip(self, name: str) -> None:
        """Leave an image out for now (it keeps no labels and is not offered as 'to do')."""
        self._apply([(name, SKIPPED)])

    def exclude(self, name: str) -> None:
        """Leave an image out for good: blurred, off-topic or ambiguous.

        It loses any labels (one undo brings them back), is not written to the CSV, so
        it is neither trained nor measured on, and is not offered as 'to do' again.
        """
        self._apply([(name, EXCLUDED)])

    def add_class(self, name: str) -> str:
        """Offer one more class; returns its cleaned name (adding it twice does nothing)."""
        cleaned = clean_class_name(name)
        self._add_class(cleaned)
        self._save_state()
        return cleaned

    def set_multi_label(self, multi_label: bool) -> None:
        """Switch mode; refused towards single-label while an image holds several labels."""
        if not multi_label and any(len(labs) > 1 for labs in self._labels.values()):
            raise DatasetError("some images have several labels: remove the extra labels "
                               "before switching to single-label")
        self.multi_label = multi_label
        self._save_state()

    def go_to(self, name: str) -> None:
        """Remember the image the annotator is on, to resume there after a reload."""
        if name in self.images and name != self.position:
            self.position = name
            self._save_state()

    def undo(self) -> str | None:
        """Take back the last change (a whole import counts as one); returns the image it
        touched (the first, for an import), or None when there is nothing to undo."""
        if not self._history:
            return None
        step = self._history.pop()
        for change in reversed(step):
            self._set_state(change["file"], _state_from_json(change["before"]))
        self._save_labels()
        self._save_state()
        return step[0]["file"] if step else None

    # -- import and export -------------------------------------------------------------------

    def import_labels(self, source: str | Path) -> int:
        """Take labels from a labels CSV (or a folder holding one), a folder per class, or
        the tutorial's annotation file (see :func:`read_tutorial_annotations`).

        Only images of this store are labelled (matched by name relative to the image
        folder, else by file name alone); returns how many images it changed or confirmed.
        One undo step.
        """
        path = Path(source).expanduser()
        if path.is_file() and is_tutorial_file(path):
            changes = self._tutorial_changes(path)
        else:
            dataset = load_dataset(source)
            by_name = {p.name: p for p in map(Path, self.images)}
            changes = []
            for item_path, labels in dataset.items:
                name = self._match(item_path, dataset.root, by_name)
                if name is not None:
                    changes.append((name, tuple(labels)))
        if any(len(labels) > 1 for _, labels in changes if isinstance(labels, tuple)):
            self.multi_label = True
        for label in sorted({lab for _, labs in changes if isinstance(labs, tuple)
                             for lab in labs}):
            self._add_class(label)
        self._apply(changes)
        return len(changes)

    def export_csv(self, target: str | Path) -> Path:
        """Write the labelled images as a ``filename,labels`` CSV at ``target``."""
        return atomic_write_text(target, _csv_text(self.labelled()))

    def export_tutorial(self, target: str | Path) -> Path:
        """Write the tutorial's annotation file: labelled and excluded images, tab-separated.

        Labels are joined by commas; an excluded image is written with ``True`` and no
        labels, as the tutorial's annotation notebook does.
        """
        rows = ["\t".join(TUTORIAL_HEADER)]
        for name in self.images:
            status = self.status(name)
            if status in (LABELLED, EXCLUDED):
                rows.append(f"{name}\t{status == EXCLUDED}\t{','.join(self.labels_of(name))}")
        return atomic_write_text(target, "\n".join(rows) + "\n")

    def export_class_folders(self, target: str | Path, *, link: bool = False) -> int:
        """Copy (or symbolically link) each labelled image into ``target/<class>/``.

        A folder per class can hold only single-label data, so an image with several labels
        is refused (export a CSV instead).  Returns how many images were exported.
        """
        labelled = self.labelled()
        several = [name for name, labs in labelled.items() if len(labs) > 1]
        if several:
            raise DatasetError(f"{len(several)} image(s) have several labels (e.g. "
                               f"{several[0]}): a folder per class cannot hold them; "
                               "export a CSV instead")
        target = Path(target).expanduser().resolve()
        if target == self.root or target.is_relative_to(self.image_dir):
            raise DatasetError("export into a folder outside the one being annotated")
        for name, (label,) in labelled.items():
            destination = target / label / name.replace("/", "__")
            destination.parent.mkdir(parents=True, exist_ok=True)
            if destination.exists() or destination.is_symlink():
                destination.unlink()
            if link:
                destination.symlink_to(self.path_of(name))
            else:
                shutil.copy2(self.path_of(name), destination)
        return len(labelled)

    # -- internals ---------------------------------------------------------------------------

    def _tutorial_changes(self, path: Path) -> list[tuple[str, State]]:
        """The changes a tutorial annotation file asks for; rows naming no image of this
        folder are noted in :attr:`problems`."""
        by_name = {Path(n).name: n for n in self.images}
        rows, problems = read_tutorial_annotations(path)
        changes: list[tuple[str, State]] = []
        for filename, excluded, labels in rows:
            name = filename if filename in self.images else by_name.get(Path(filename).name)
            if name is None:
                problems.append((filename, "not in this folder (not imported)"))
            else:
                changes.append((name, EXCLUDED if excluded else labels))
        self.problems.extend(problems)
        return changes

    def _match(self, path: Path, source_root: Path, by_name: dict[str, Path]) -> str | None:
        """This store's name for an image listed elsewhere, if it is one of ours."""
        if path.is_relative_to(self.image_dir):
            name = path.relative_to(self.image_dir).as_posix()
            if name in self.images:
                return name
        for base in (source_root, source_root / "images"):
            if path.is_relative_to(base) and path.relative_to(base).as_posix() in self.images:
                return path.relative_to(base).as_posix()
        match = by_name.get(path.name)
        return match.as_posix() if match is not None else None

    def _add_class(self, name: str) -> None:
        """Append a class to the offered list (no write)."""
        if name not in self.classes:
            self.classes.append(name)

    def _apply(self, changes: list[tuple[str, State]]) -> None:
        """Make changes, record them as one undo step, and write both files."""
        step = []
        for name, after in changes:
            if name not in self.images:
                raise DatasetError(f"{name} is not an image of {self.image_dir}")
            before = self._current(name)
            if before != after:
                step.append({"file": name, "before": _state_to_json(before),
                             "after": _state_to_json(after)})
                self._set_state(name, after)
                if isinstance(after, tuple):
                    for label in after:
                        self._add_class(label)
        if not step:
            return
        self._history = [*self._history, step][-HISTORY_LIMIT:]
        self._save_labels()
        self._save_state()

    def _current(self, name: str) -> State:
        """An image's state now."""
        if name in self._labels:
            return self._labels[name]
        return self._marks.get(name)

    def _set_state(self, name: str, state: State) -> None:
        """Put one image in a state (in memory)."""
        self._labels.pop(name, None)
        self._marks.pop(name, None)
        if state in MARKS:
            self._marks[name] = state
        elif state:
            self._labels[name] = tuple(state)

    def _save_labels(self) -> None:
        """Rewrite labels.csv atomically (readers see the old or the new file, never half)."""
        atomic_write_text(self.labels_path, _csv_text(self.labelled()))

    def _save_state(self) -> None:
        """Rewrite the hidden state file atomically."""
        atomic_write_json(self.root / STATE_NAME, {
            "classes": self.classes, "multi_label": self.multi_label,
            "position": self.position,
            **{mark: sorted(n for n, m in self._marks.items() if m == mark) for mark in MARKS},
            "history": self._history})


@dataclass
class Suggestion:
    """A model's opinion of one image: every class's probability, and the labels it picks."""

    probabilities: dict[str, float]
    labels: tuple[str, ...]


def suggest(predictor: Any, image_path: Path) -> Suggestion:
    """Pre-labels from a saved model (a :class:`cvlib.models.inference.Predictor`) for one image.

    The labels are what the model decides: its most probable class, or every class over
    its saved thresholds for a multi-label model.
    """
    from cvlib.data.images import load_image

    probs = predictor.predict_proba([load_image(image_path)])
    return Suggestion(dict(zip(predictor.classes, map(float, probs[0]), strict=True)),
                      tuple(predictor.decide(probs)[0]))


def unpack_upload(data: bytes) -> Path:
    """Unpack an uploaded zip of images, safely, into the studio home; returns the folder.

    The folder is named after the zip's content, so uploading the same zip again finds the
    labels given last time.
    """
    digest = hashlib.sha256(data).hexdigest()[:16]
    dest = studio_home() / "annotation-sets" / digest
    if dest.is_dir():
        return _single_subfolder(dest)
    return extract_zip(io.BytesIO(data), dest).root


def _single_subfolder(folder: Path) -> Path:
    """Where the data starts in an unpacked zip: its lone top folder, if that is all it has."""
    visible = [p for p in folder.iterdir() if not p.name.startswith(".")]
    return visible[0] if len(visible) == 1 and visible[0].is_dir() else folder


def is_tutorial_file(path: Path) -> bool:
    """Whether a file starts with the tutorial's ``IM_FILENAME<tab>EXCLUDE<tab>LABELS`` line."""
    try:
        with path.open(encoding="utf-8-sig", errors="replace") as fh:
            first = fh.readline()
    except OSError:
        return False
    return tuple(c.strip().upper() for c in first.split("\t")) == TUTORIAL_HEADER


def read_tutorial_annotations(path: str | Path,
                              ) -> tuple[list[tuple[str, bool, tuple[str, ...]]],
                                         list[tuple[str, str]]]:
    """The rows of the tutorial's annotation file: ``(filename, excluded, labels)``.

    The file is what the tutorial's annotation notebook writes: a header line
    ``IM_FILENAME<tab>EXCLUDE<tab>LABELS``, then one line per image with ``True`` or
    ``False`` and the labels joined by commas (absent when there are none).  An excluded
    image keeps no labels here (the tutorial leaves excluded images out of training too).
    Returns the rows and ``(line, reason)`` for lines that could not be read.

    Raises
    ------
    DatasetError : the file does not start with the tutorial's header, or a label cannot
        be a class name (nothing is imported then).
    """
    path = Path(path)
    lines = path.read_text(encoding="utf-8-sig", errors="replace").splitlines()
    if not lines or not is_tutorial_file(path):
        raise DatasetError(f"{path.name} does not start with the tutorial's header "
                           f"({' / '.join(TUTORIAL_HEADER)}, tab-separated)")
    rows, problems = [], []
    for number, line in enumerate(lines[1:], start=2):
        fields = line.rstrip("\r\n").split("\t")
        if not line.strip():
            continue
        if len(fields) < 2 or fields[1].strip() not in ("True", "False") or not fields[0]:
            problems.append((f"line {number}", f"not 'name<tab>True|False<tab>labels': "
                             f"{line[:60]!r}"))
            continue
        excluded = fields[1].strip() == "True"
        names = [] if excluded or len(fields) < 3 else fields[2].split(",")
        try:
            labels = tuple(sorted({clean_class_name(n) for n in names if n.strip()}))
        except DatasetError as exc:
            raise DatasetError(f"{path.name}, line {number}: {exc}") from exc
        rows.append((fields[0].strip(), excluded, labels))
    return rows, problems


def _csv_text(labelled: dict[str, tuple[str, ...]]) -> str:
    """``filename,labels`` rows, labels separated by spaces (what load_dataset reads)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["filename", "labels"])
    for name, labels in labelled.items():
        writer.writerow([name, " ".join(labels)])
    return buffer.getvalue()


def _read_labels(root: Path, image_dir: Path, images: set[str],
                 ) -> tuple[dict[str, tuple[str, ...]], list[tuple[str, str]]]:
    """The labels already in the folder's CSV, keyed by image name, and the rows left out.

    Raises
    ------
    DatasetError : the CSV exists but cannot be read as labels (it is never overwritten
        then: the user's file is worth more than a fresh start).
    """
    csv_path = next((p for p in root.iterdir() if p.name.lower() == CSV_NAME), None)
    if csv_path is None:
        return {}, []
    items, problems = read_labels_csv(csv_path)
    found = {}
    for path, labels in items:
        name = path.relative_to(image_dir).as_posix() if path.is_relative_to(image_dir) else ""
        if name in images:
            found[name] = tuple(labels)
        else:
            problems.append((path.name, "not under the image folder (dropped on next save)"))
    return found, problems


def _read_state(path: Path) -> dict[str, Any]:
    """The hidden state file, or an empty state when missing or damaged."""
    try:
        state = read_json(path)
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _state_to_json(state: State) -> list[str] | str | None:
    """An image state as JSON (tuples become lists)."""
    return list(state) if isinstance(state, tuple) else state


def _state_from_json(value: Any) -> State:
    """The inverse of :func:`_state_to_json`."""
    return tuple(value) if isinstance(value, list) else value


def _unique(names: Iterable[str]) -> list[str]:
    """Names in first-seen order, each once."""
    return list(dict.fromkeys(names))
