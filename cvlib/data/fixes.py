"""Fixing the data where a finding points: relabel, drop, mark as hard negative, undo.

For a folder-per-class dataset the label *is* the folder, so every fix is a file move:

* **relabel**: move the image into the other class's folder;
* **drop**: move it to ``_removed/<dataset name>/`` next to the dataset folder (never
  deleted, so it can come back);
* **hard negative**: move it to ``_hard_negatives/<dataset name>/`` next to the dataset: a
  photo of none of the classes, for page 12 to teach the model to say "none of these".

Every move is written to a journal (under the studio home) before it is made, so
:meth:`FolderFixes.undo` can put files back in reverse order, also after a restart.  A
``labels.csv`` dataset keeps its labels in the CSV, so :class:`CsvFixes` changes them
through :class:`cvlib.data.annotations.AnnotationStore` (relabel = new labels; drop and hard
negative = the image is skipped, which leaves it out of the CSV), whose own undo history
takes them back.  Both follow :class:`FixStore`, the small interface the health check and
the errors page use.  Nothing here imports torch.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from cvlib.data.dataset import Dataset
from cvlib.errors import DatasetError
from cvlib.storage.home import studio_home
from cvlib.storage.persist import atomic_write_json, read_json

REMOVED, HARD_NEGATIVES = "_removed", "_hard_negatives"


@dataclass
class Fix:
    """One applied fix: what was done to which image, and where the file went."""

    action: str
    name: str
    source: str
    target: str
    label_before: str
    label_after: str | None
    time: str


class FixStore(Protocol):
    """What the pages need from any store of label fixes (folders today, annotations next)."""

    def relabel(self, name: str, label: str) -> Fix: ...

    def drop(self, name: str) -> Fix: ...

    def hard_negative(self, name: str) -> Fix: ...

    def apply(self, action: str, name: str, label: str | None = None) -> Fix: ...

    def undo(self) -> Fix | None: ...

    def history(self) -> list[Fix]: ...


def _journal_path(root: Path) -> Path:
    """Where the fixes of the dataset at ``root`` are journalled."""
    digest = hashlib.sha256(str(root).encode()).hexdigest()[:16]
    return studio_home() / "fixes" / f"{root.name}-{digest}.json"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class _Journal(ABC):
    """The list of applied fixes of one dataset, rewritten atomically on every change.

    How a fix changes the files depends on the dataset's layout: each layout's store says.
    """

    journal: Path

    @abstractmethod
    def relabel(self, name: str, label: str) -> Fix:
        """Give the image ``name`` the label ``label``."""

    @abstractmethod
    def drop(self, name: str) -> Fix:
        """Take the image ``name`` out of the dataset (kept aside, undoable)."""

    @abstractmethod
    def hard_negative(self, name: str) -> Fix:
        """Move the image ``name`` to the negatives ("none of these")."""

    def history(self) -> list[Fix]:
        """Applied fixes, oldest first."""
        if not self.journal.is_file():
            return []
        return [Fix(**entry) for entry in read_json(self.journal)]

    def _save(self, fixes: list[Fix]) -> None:
        atomic_write_json(self.journal, [asdict(f) for f in fixes])

    def apply(self, action: str, name: str, label: str | None = None) -> Fix:
        """One fix by its action name ("relabel", "drop", "hard_negative"), as pages ask."""
        if action == "relabel":
            return self.relabel(name, label or "")
        if action == "drop":
            return self.drop(name)
        if action == "hard_negative":
            return self.hard_negative(name)
        raise ValueError(f"unknown fix {action!r}")


class FolderFixes(_Journal):
    """Undoable fixes on a folder-per-class dataset, journalled under the studio home."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.journal = _journal_path(self.root)

    def relabel(self, name: str, label: str) -> Fix:
        """Move ``name`` (e.g. ``milk/a.jpg``) into the ``label`` class folder."""
        source = self._existing(name)
        if not (self.root / label).is_dir():
            raise DatasetError(f"no class folder {label!r} in {self.root}")
        return self._move("relabel", name, source, self.root / label / source.name, label)

    def drop(self, name: str) -> Fix:
        """Set ``name`` aside in ``_removed/`` next to the dataset (undoable)."""
        source = self._existing(name)
        return self._move("drop", name, source, self._aside(REMOVED) / name, None)

    def hard_negative(self, name: str) -> Fix:
        """Move ``name`` out of its class into ``_hard_negatives/`` next to the dataset."""
        source = self._existing(name)
        return self._move("hard_negative", name, source,
                          self._aside(HARD_NEGATIVES) / source.name, None)

    def undo(self) -> Fix | None:
        """Put the file of the most recent fix back; None when there is nothing to undo."""
        fixes = self.history()
        if not fixes:
            return None
        last = fixes.pop()
        source, target = Path(last.source), Path(last.target)
        if source.exists():
            raise DatasetError(f"cannot undo: {source} exists again")
        source.parent.mkdir(parents=True, exist_ok=True)
        os.replace(target, source)
        self._save(fixes)
        return last

    def renamed(self) -> dict[str, str | None]:
        """Old name -> current name (None when set aside), folding chains of fixes."""
        mapping: dict[str, str | None] = {}
        for fix in self.history():
            new = (Path(fix.target).relative_to(self.root).as_posix()
                   if fix.action == "relabel" else None)
            original = next((k for k, v in mapping.items() if v == fix.name), fix.name)
            mapping[original] = new
        return mapping

    def _existing(self, name: str) -> Path:
        """The file a dataset-relative name points to, refusing anything outside the root."""
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root) or not path.is_file():
            raise DatasetError(f"{name} is not an image of this dataset (moved already?)")
        return path

    def _aside(self, folder: str) -> Path:
        """``<parent>/_removed/<dataset>``: outside the dataset, so loading never sees it."""
        return self.root.parent / folder / self.root.name

    def _move(self, action: str, name: str, source: Path, target: Path,
              label: str | None) -> Fix:
        """Journal first, then move: a crash in between leaves a fix that undo can skip."""
        target = _free_name(target)
        fix = Fix(action, name, str(source), str(target),
                  source.relative_to(self.root).parts[0], label, _now())
        self._save([*self.history(), fix])
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(source, target)
        return fix


class CsvFixes(_Journal):
    """Undoable fixes on a labels.csv dataset, made through the annotation store."""

    def __init__(self, root: str | Path) -> None:
        from cvlib.data.annotations import AnnotationStore

        self.root = Path(root).resolve()
        self.journal = _journal_path(self.root)
        self.store = AnnotationStore.open(self.root)

    def relabel(self, name: str, label: str) -> Fix:
        """Give the image ``label`` as its (only) label in labels.csv."""
        return self._change("relabel", name, (label,))

    def drop(self, name: str) -> Fix:
        """Leave the image out of labels.csv (the file stays where it is)."""
        return self._change("drop", name, None)

    def hard_negative(self, name: str) -> Fix:
        """Leave the image out of its classes; page 12 can mine such photos as negatives."""
        return self._change("hard_negative", name, None)

    def undo(self) -> Fix | None:
        """Take back the most recent fix, through the annotation store's own undo."""
        fixes = self.history()
        if not fixes or self.store.undo() is None:
            return None
        last = fixes.pop()
        self._save(fixes)
        return last

    def renamed(self) -> dict[str, str | None]:
        """Old name -> current name: files keep their names; dropped ones map to None."""
        mapping: dict[str, str | None] = {}
        for fix in self.history():
            mapping[fix.name] = fix.name if fix.action == "relabel" else None
        return mapping

    def _change(self, action: str, name: str, labels: tuple[str, ...] | None) -> Fix:
        """Apply one change in the store and journal it."""
        path = (self.root / name).resolve()
        store_name = path.relative_to(self.store.image_dir).as_posix()
        before = "+".join(self.store.labels_of(store_name))
        if labels is None:
            self.store.skip(store_name)
        else:
            self.store.set_labels(store_name, labels)
        fix = Fix(action, name, str(path), str(path), before,
                  "+".join(labels) if labels else None, _now())
        self._save([*self.history(), fix])
        return fix


def _free_name(target: Path) -> Path:
    """``target``, or ``name-1.jpg``, ``name-2.jpg``... when a file already has that name."""
    candidate, n = target, 0
    while candidate.exists():
        n += 1
        candidate = target.with_name(f"{target.stem}-{n}{target.suffix}")
    return candidate


def fixes_for(dataset: Dataset) -> FolderFixes | CsvFixes:
    """The fix store that fits how the dataset keeps its labels (folders or labels.csv)."""
    return FolderFixes(dataset.root) if dataset.kind == "folder" else CsvFixes(dataset.root)
