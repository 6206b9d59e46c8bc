"""Reading a ``labels.csv`` leniently: any common delimiter, a BOM, several header spellings.

A row that cannot be used (no file name, a path outside the folder, a missing file, no
labels, a file listed twice) is reported as a problem with its line number, never raised:
people fix their spreadsheet once they see the list.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

from cvlib.data.files import Item
from cvlib.data.images import is_image_name
from cvlib.errors import DatasetError

FILE_COLUMNS = ("filename", "file", "file_name", "image", "image_path", "path")
LABEL_COLUMNS = ("labels", "label", "tags", "tag")
CSV_DELIMITERS = (",", ";", "\t", "|")
_LABEL_SEPARATORS = re.compile(r"[\s,;|]+")


def read_labels_csv(csv_path: str | Path) -> tuple[list[Item], list[tuple[str, str]]]:
    """The usable rows of a labels CSV, and what was left out, without judging the whole.

    Unlike :func:`load_dataset` this accepts a file with a single class (or none): an
    annotation in progress (:mod:`cvlib.data.annotations`) reads its own file this way.

    Raises
    ------
    DatasetError : the header names no file or labels column.
    """
    csv_path = Path(csv_path)
    root = csv_path.parent
    reader = _CsvRows(csv_path, root / "images" if (root / "images").is_dir() else root)
    return reader.items(), reader.problems


class _CsvRows:
    """Reads a labels CSV leniently: any common delimiter, a BOM, several header spellings."""

    def __init__(self, csv_path: Path, image_dir: Path) -> None:
        self.csv_path = csv_path
        self.root = csv_path.parent
        self.image_dir = image_dir
        self.problems: list[tuple[str, str]] = []

    def items(self) -> list[Item]:
        """Every usable row once."""
        rows = _csv_rows(self.csv_path)
        file_col, label_col = _csv_columns(self.csv_path.name, rows[0] if rows else [])
        kept: dict[Path, tuple[int, tuple[str, ...]]] = {}
        for line, row in enumerate(rows[1:], start=2):
            filename = row[file_col].strip() if len(row) > file_col else ""
            labels = _split_labels(row[label_col] if len(row) > label_col else "")
            if any(cell.strip() for cell in row):
                self._keep(kept, line, filename, labels)
        return [Item(path, labels) for path, (_, labels) in kept.items()]

    def _keep(self, kept: dict[Path, tuple[int, tuple[str, ...]]], line: int, filename: str,
              labels: tuple[str, ...]) -> None:
        """Add one row to ``kept``, or note why it was left out."""
        where = f"{self.csv_path.name} line {line}"
        path = self._resolve(filename)
        problem = None
        if not filename:
            problem = f"{where} has no file name (row skipped)"
        elif path is None:
            problem = f"{where} points outside the dataset folder (row skipped)"
        elif not is_image_name(filename):
            problem = f"{where} is not an image file name (row skipped)"
        elif not path.is_file():
            problem = f"listed in {where} but the file is missing (row skipped)"
        elif not labels:
            problem = f"{where} has no labels (row skipped)"
        elif path in kept:
            problem = self._duplicate(kept[path], line, labels)
        else:
            kept[path] = (line, labels)
        if problem:
            self.problems.append((filename or where, problem))

    def _duplicate(self, first: tuple[int, tuple[str, ...]], line: int,
                   labels: tuple[str, ...]) -> str:
        """The problem text for a file listed again."""
        first_line, first_labels = first
        if labels == first_labels:
            return (f"listed twice in {self.csv_path.name} (lines {first_line} and {line}; "
                    "kept once)")
        return (f"listed again in {self.csv_path.name} line {line} with different labels "
                f"(line {first_line} kept)")

    def _resolve(self, filename: str) -> Path | None:
        """Where a listed file is: in images/ first, then beside the CSV; None if outside.

        The check is on the written path (``..``, absolute paths), not on where symbolic
        links lead: a link the user made inside their own folder is their choice.
        """
        candidates = [self.image_dir / filename, self.root / filename]
        found = Path(os.path.normpath(next((p for p in candidates if p.is_file()),
                                           candidates[0])))
        return found if found.is_relative_to(self.root) else None


def _csv_rows(csv_path: Path) -> list[list[str]]:
    """All rows of a CSV, decoded from UTF-8 (BOM or not) or, failing that, Latin-1."""
    data = csv_path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    lines = text.splitlines()
    header = lines[0] if lines else ""
    delimiter = next((d for d in CSV_DELIMITERS if d in header), ",")
    return list(csv.reader(lines, delimiter=delimiter))


def _csv_columns(csv_name: str, header: list[str]) -> tuple[int, int]:
    """Which columns hold the file name and the labels, from the required header row."""
    names = [cell.strip().lower() for cell in header]
    file_col = next((names.index(n) for n in FILE_COLUMNS if n in names), None)
    label_col = next((names.index(n) for n in LABEL_COLUMNS if n in names), None)
    if file_col is None or label_col is None:
        raise DatasetError(
            f"{csv_name}: the first line must be a header naming the image column "
            f"({', '.join(FILE_COLUMNS)}) and the labels column ({', '.join(LABEL_COLUMNS)}), "
            f"e.g. 'filename,labels'; found {','.join(header) or 'an empty file'!r}")
    return file_col, label_col


def _split_labels(text: str) -> tuple[str, ...]:
    """``"milk juice"``, ``"milk,juice"`` or ``"milk; juice"`` -> ``("juice", "milk")``."""
    return tuple(sorted({label for label in _LABEL_SEPARATORS.split(text) if label}))
