"""Datasets: finding the images and their labels, splitting them, and checking them.

People bring data in whatever shape they have it, so :func:`load_dataset` accepts the three
shapes the studio documents and works out which one it was given:

* a folder with one sub-folder per class (``milk/IMG_01.jpg``): single-label;
* a folder with a ``labels.csv`` (``filename,labels``, labels separated by spaces) and the
  images in ``images/`` or beside it: multi-label when any image has several labels;
* a ``.zip`` of either, unpacked safely (see :mod:`cvlib.archive`) into a cache.

A folder whose sub-folders are ``train/`` and ``valid/`` (or ``validation/``, ``val/``)
and/or ``test/``, each with one sub-folder per class, is split by those folders (fastai's
``split_by_folder``): ``train/`` and ``valid/`` make the dataset, whose
:meth:`Dataset.folder_valid` marks the validation photos, and ``test/`` becomes
:attr:`Dataset.test`, scored once after training and never used to choose anything.

Loading only lists files, so it is fast on large folders; :func:`summarize` then decodes
every image once to find the unreadable ones, and reports counts, sizes and warnings in plain
words.  :func:`split` is stratified and reproducible, and :func:`fingerprint` identifies the
exact data a model was trained on.  Nothing here imports torch.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import os
import random
import re
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from cvlib.archive import QUIET_REASONS, extract_zip, scan_zip
from cvlib.errors import BadImageError, DatasetError
from cvlib.images import IMAGE_EXTENSIONS, check_image, image_size, is_image_name

CSV_NAME = "labels.csv"
FILE_COLUMNS = ("filename", "file", "file_name", "image", "image_path", "path")
LABEL_COLUMNS = ("labels", "label", "tags", "tag")
CSV_DELIMITERS = (",", ";", "\t", "|")
FEW_IMAGES = 10
"""Classes with fewer images than this get a warning: too few to learn or to check."""
IMBALANCE_RATIO = 3.0
TRAIN_FOLDER = "train"
VALID_FOLDERS = ("valid", "validation", "val")
TEST_FOLDER = "test"
"""Largest class over smallest above which the summary warns about imbalance."""

_LABEL_SEPARATORS = re.compile(r"[\s,;|]+")


class Item(NamedTuple):
    """One image and every label it carries (exactly one for single-label datasets)."""

    path: Path
    labels: tuple[str, ...]


@dataclass
class Dataset:
    """Labelled images, ready to split and train on.

    Attributes
    ----------
    root : the folder the data lives in; item paths are under it.
    items : ``(path, labels)`` for each image, sorted by path.
    classes : every label, sorted; column ``j`` of :meth:`labels_matrix` is ``classes[j]``.
    multi_label : whether an image may carry several labels (sigmoid, not softmax).
    kind : ``"folder"`` (one sub-folder per class) or ``"csv"`` (``labels.csv``).
    problems : ``(file, reason)`` for what was left out while loading, to show the user.
    valid_folder : with a train/valid folder layout, the validation sub-folder's name.
    test : with a ``test/`` sub-folder, its photos (same classes), for one final score.
    """

    root: Path
    items: list[Item]
    classes: list[str]
    multi_label: bool
    kind: str
    problems: list[tuple[str, str]] = field(default_factory=list)
    valid_folder: str | None = None
    test: Dataset | None = None

    def __len__(self) -> int:
        return len(self.items)

    def labels_matrix(self) -> np.ndarray:
        """N x C matrix of 0/1 (float32, ready for a binary cross-entropy loss)."""
        column = {name: j for j, name in enumerate(self.classes)}
        matrix = np.zeros((len(self.items), len(self.classes)), np.float32)
        for row, item in enumerate(self.items):
            matrix[row, [column[label] for label in item.labels]] = 1.0
        return matrix

    def targets(self) -> np.ndarray:
        """The class index of every image (int64); single-label datasets only."""
        if self.multi_label:
            raise ValueError("targets() needs a single-label dataset; use labels_matrix()")
        column = {name: j for j, name in enumerate(self.classes)}
        return np.array([column[item.labels[0]] for item in self.items], np.int64)

    def subset(self, indices: Iterable[int]) -> Dataset:
        """The items at ``indices``, keeping all classes so label columns still line up."""
        return replace(self, items=[self.items[i] for i in indices])

    def counts(self) -> dict[str, int]:
        """Images per class, every class listed (an image counts once per label)."""
        found = Counter(label for item in self.items for label in item.labels)
        return {name: found[name] for name in self.classes}

    def folder_valid(self) -> list[int] | None:
        """Indices of the photos in the validation folder, or None without that layout."""
        if self.valid_folder is None:
            return None
        folder = self.root / self.valid_folder
        return [i for i, item in enumerate(self.items) if item.path.is_relative_to(folder)]

    def name_of(self, path: Path) -> str:
        """A path as the user knows it: relative to the dataset root when it is inside."""
        return path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) \
            else str(path)


@dataclass
class DatasetSummary:
    """What :func:`summarize` found; every field is plain data, ready for pandas or JSON.

    ``size_stats`` is ``{"width": {"min": .., "median": .., "max": ..}, "height": {...}}``
    over the readable images; ``sizes`` lists each readable image's ``(width, height)``.
    """

    classes: list[str]
    counts: dict[str, int]
    n_images: int
    multi_label: bool
    sizes: list[tuple[int, int]]
    size_stats: dict[str, dict[str, int]]
    unreadable: list[tuple[str, str]]
    warnings: list[str]


def studio_home() -> Path:
    """Where the studio keeps models, runs and caches: ``$CVLIB_HOME`` or ``~/.cvlib-studio``.

    Created on first use.
    """
    home = Path(os.environ.get("CVLIB_HOME") or Path.home() / ".cvlib-studio").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home


def load_dataset(path: str | Path, *, extract_to: Path | None = None,
                 force_multi_label: bool | None = None) -> Dataset:
    """Find the images and labels at ``path``, whichever documented layout it uses.

    Parameters
    ----------
    path : a folder (class sub-folders, or a ``labels.csv``), a ``.csv`` file, or a ``.zip``.
    extract_to : where to unpack a zip (must not hold files yet); by default a cache folder
        under :func:`studio_home` named after the zip's SHA-256, reused on the next load.
    force_multi_label : ``True`` to treat the data as multi-label even if every image has
        one label (so the model can also answer "none of these"), ``False`` to insist on
        single-label; ``None`` decides from the labels.

    Raises
    ------
    DatasetError : nothing usable at ``path``, no images, or fewer than two classes.
    ArchiveError : a zip that is unsafe or corrupt.

    Examples
    --------
    >>> ds = load_dataset("../shared/data/groceries4")
    >>> ds.classes, len(ds), ds.multi_label
    (['juice', 'milk', 'soda', 'water'], 160, False)
    """
    source = Path(path).expanduser()
    if not source.exists():
        raise DatasetError(f"{source} does not exist")
    source = source.resolve()
    if source.is_dir():
        return _load_folder(_dataset_root(source), force_multi_label)
    if source.suffix.lower() == ".csv":
        return _load_csv(source, force_multi_label)
    if source.suffix.lower() == ".zip":
        return _load_zip(source, extract_to, force_multi_label)
    raise DatasetError(f"{source.name} is not a dataset: give a folder, a labels.csv or a .zip")


def split(dataset: Dataset, valid_pct: float = 0.2, seed: int = 42,
          ) -> tuple[list[int], list[int]]:
    """Split into training and validation indices, stratified and reproducible.

    Every class gets about ``valid_pct`` of its images in validation, and at least one image
    on each side, so each can be both learned and checked.  Multi-label data is split by
    iterative stratification (Sechidis et al., 2011), which keeps every label's share close
    to ``valid_pct`` at once; there "one on each side" holds whenever the label combinations
    allow it (three images tagged ``ab``, ``bc``, ``ca`` cannot be split that way).  The
    result depends only on the items (paths relative to the root, and labels) and the seed:
    not on the order the file system listed them in.

    Returns
    -------
    ``(train_indices, valid_indices)``, each sorted, into ``dataset.items``.

    Raises
    ------
    DatasetError : a class has fewer than two images, so it cannot be on both sides.
    """
    if not 0 < valid_pct < 1:
        raise ValueError(f"valid_pct must be between 0 and 1, not {valid_pct}")
    order = sorted(range(len(dataset)), key=lambda i: (dataset.name_of(dataset.items[i].path),
                                                       dataset.items[i].labels))
    label_sets = [dataset.items[i].labels for i in order]
    _check_splittable(label_sets)
    in_valid = _stratify(label_sets, valid_pct, seed)
    _put_every_label_on_both_sides(label_sets, in_valid)
    train = sorted(i for i, valid in zip(order, in_valid, strict=True) if not valid)
    valid = sorted(i for i, valid in zip(order, in_valid, strict=True) if valid)
    return train, valid


def sample_per_class(dataset: Dataset, per_class: int, seed: int = 0) -> Dataset:
    """A seeded sample of ``per_class`` images of every class (all of a smaller class).

    Single-label data; each class is drawn with its own generator, like :func:`split`, so
    the sample of one class does not depend on the others.
    """
    by_class: dict[str, list[int]] = {}
    for i, item in enumerate(dataset.items):
        by_class.setdefault(item.labels[0], []).append(i)
    keep = [i for label in sorted(by_class)
            for i in random.Random(f"{seed}/{label}").sample(
                by_class[label], min(per_class, len(by_class[label])))]
    return dataset.subset(sorted(keep))


def summarize(dataset: Dataset, *, check_images: bool = True) -> DatasetSummary:
    """Counts, image sizes, unreadable files and plain-word warnings about a dataset.

    With ``check_images`` every image is decoded (JPEGs at reduced scale), which is the only
    way to find truncated files; without it only headers are read, which still finds empty
    files and non-images.  Unreadable files are listed, never raised.
    """
    sizes: list[tuple[int, int]] = []
    unreadable: list[tuple[str, str]] = []
    read = check_image if check_images else image_size
    for item in dataset.items:
        name = dataset.name_of(item.path)
        try:
            sizes.append(read(item.path, name))
        except BadImageError as exc:
            unreadable.append((name, exc.reason))
    counts = dataset.counts()
    return DatasetSummary(
        classes=list(dataset.classes), counts=counts, n_images=len(dataset),
        multi_label=dataset.multi_label, sizes=sizes, size_stats=_size_stats(sizes),
        unreadable=unreadable, warnings=_warnings(counts, unreadable))


def fingerprint(dataset: Dataset) -> str:
    """A SHA-256 naming exactly this data: relative paths, labels and file contents.

    Contents are hashed (not modification times), so a copy of the same data elsewhere has
    the same fingerprint; hashes are cached per path, size and mtime within the process.
    """
    digest = hashlib.sha256()
    digest.update(json.dumps({"classes": dataset.classes,
                              "multi_label": dataset.multi_label}).encode())
    for name, item in sorted((dataset.name_of(item.path), item) for item in dataset.items):
        try:
            size, content = _file_digest(item.path)
        except OSError as exc:
            raise DatasetError(f"{name}: cannot be read any more ({exc.strerror})") from exc
        digest.update(json.dumps([name, list(item.labels), size, content]).encode())
    return digest.hexdigest()


def _dataset_root(folder: Path) -> Path:
    """Step into a lone wrapper folder (``data/groceries/<classes>``) to reach the data.

    Only a folder that itself holds sub-folders is stepped into, so a folder with a single
    class folder of images is still reported as having one class.
    """
    while not _find_labels_csv(folder):
        visible = [entry for entry in folder.iterdir() if not _is_hidden(entry.name)]
        if not (len(visible) == 1 and visible[0].is_dir() and _subfolders(visible[0])):
            break
        folder = visible[0]
    return folder


def _load_folder(root: Path, force_multi_label: bool | None) -> Dataset:
    """A folder with a labels.csv, train/valid/test folders, or one sub-folder per class."""
    csv_path = _find_labels_csv(root)
    if csv_path:
        return _load_csv(csv_path, force_multi_label)
    roles = _split_folders(root)
    if roles:
        return _load_split_folders(root, roles, force_multi_label)
    return _load_class_folders(root, force_multi_label)


def _split_folders(root: Path) -> dict[str, Path] | None:
    """``{"train": .., "valid": .., "test": ..}`` when ``root`` uses that layout, else None.

    The layout is recognised only when every visible sub-folder is one of those names and
    the folders holding photos hold class folders, so a class that happens to be called
    "test" beside other classes is still a class.
    """
    roles: dict[str, Path] = {}
    for folder in _subfolders(root):
        name = folder.name.lower()
        role = ("train" if name == TRAIN_FOLDER else "valid" if name in VALID_FOLDERS
                else "test" if name == TEST_FOLDER else None)
        if role is None or role in roles or not _subfolders(folder):
            return None
        roles[role] = folder
    if "train" not in roles or len(roles) < 2:
        return None
    return roles


def _load_split_folders(root: Path, roles: dict[str, Path],
                        force_multi_label: bool | None) -> Dataset:
    """train/ (+ valid/) as the dataset, split by folder; test/ kept aside for the end."""
    parts = {role: _load_class_folders(folder, force_multi_label)
             for role, folder in roles.items()}
    problems = [(f"{roles[role].name}/{name}", reason)
                for role, part in parts.items() for name, reason in part.problems]
    learn = [parts["train"], *([parts["valid"]] if "valid" in parts else [])]
    dataset = _dataset(root, [item for part in learn for item in part.items], "folder",
                       problems, force_multi_label)
    dataset.valid_folder = roles["valid"].name if "valid" in roles else None
    if "test" in parts:
        dataset.test = _test_part(parts["test"], dataset, roles["test"].name)
    return dataset


def _test_part(test: Dataset, dataset: Dataset, folder: str) -> Dataset:
    """The test photos with the training classes; a class never trained on is left out."""
    known = set(dataset.classes)
    unknown = sorted({label for item in test.items for label in item.labels} - known)
    dataset.problems.extend((f"{folder}/{name}/", "class not in train/, left out of the test")
                            for name in unknown)
    items = [item for item in test.items if set(item.labels) <= known]
    return replace(test, root=dataset.root, items=items, classes=list(dataset.classes),
                   multi_label=dataset.multi_label, problems=[])


def _load_zip(zip_path: Path, extract_to: Path | None,
              force_multi_label: bool | None) -> Dataset:
    """Unpack (or reuse an earlier unpacking of) a zip, then load what is inside.

    Entries the archive skipped for a reason worth knowing (unsafe paths, links, nested
    archives) are reported as the dataset's problems; routine ones (folders, OS junk) not.
    """
    dest = (extract_to or studio_home() / "datasets" / _file_digest(zip_path)[1]).resolve()
    if extract_to is None and dest.is_dir():
        skipped = scan_zip(zip_path).skipped
    else:
        skipped = extract_zip(zip_path, dest).skipped
    dataset = _load_folder(_dataset_root(dest), force_multi_label)
    worth_telling = [(name, reason) for name, reason in skipped if reason not in QUIET_REASONS]
    dataset.problems[:0] = worth_telling
    return dataset


def _load_class_folders(root: Path, force_multi_label: bool | None) -> Dataset:
    """One sub-folder per class; its images (at any depth) carry that class."""
    items: list[Item] = []
    problems: list[tuple[str, str]] = []
    for folder in _subfolders(root):
        images = _images_under(folder)
        if not images:
            problems.append((f"{folder.name}/", "folder has no images (ignored)"))
        items.extend(Item(path, (folder.name,)) for path in images)
    loose = [p for p in sorted(root.iterdir()) if p.is_file() and _is_visible_image(p.name)]
    if not items:
        raise DatasetError(_no_class_folders_message(root, len(loose)))
    problems.extend((path.name, "not in a class folder (ignored)") for path in loose)
    return _dataset(root, items, "folder", problems, force_multi_label)


def _no_class_folders_message(root: Path, n_loose: int) -> str:
    """Explain what a folder without class folders needs, depending on what it has."""
    if n_loose:
        return (f"found {n_loose} images directly in {root}, but no class folders: put each "
                "class's images in a sub-folder named after the class, or add a labels.csv")
    endings = ", ".join(sorted(IMAGE_EXTENSIONS))
    return f"no images found in {root} (looked for {endings} files in class sub-folders)"


def _load_csv(csv_path: Path, force_multi_label: bool | None) -> Dataset:
    """``labels.csv`` rows -> items; bad rows become problems, not failures."""
    root = csv_path.parent
    image_dir = root / "images" if (root / "images").is_dir() else root
    reader = _CsvRows(csv_path, image_dir)
    items = reader.items()
    if not items:
        detail = "; ".join(f"{name}: {reason}" for name, reason in reader.problems[:3])
        raise DatasetError(f"{csv_path.name} lists no usable images"
                           + (f" ({detail})" if detail else ""))
    return _dataset(root, items, "csv", reader.problems, force_multi_label)


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


def _dataset(root: Path, items: list[Item], kind: str, problems: list[tuple[str, str]],
             force_multi_label: bool | None) -> Dataset:
    """Assemble a Dataset, refusing one that a classifier cannot learn from."""
    classes = sorted({label for item in items for label in item.labels})
    if len(classes) < 2:
        raise DatasetError(f"only one class found ({classes[0]!r}) in {root}: a classifier "
                           "needs at least two classes to learn to tell apart")
    several = any(len(item.labels) > 1 for item in items)
    if force_multi_label is False and several:
        raise DatasetError(f"{root} has images with several labels, so it cannot be loaded "
                           "as single-label")
    multi_label = several if force_multi_label is None else force_multi_label
    return Dataset(root, sorted(items), classes, multi_label, kind, problems)


def _find_labels_csv(folder: Path) -> Path | None:
    """The folder's ``labels.csv``, whatever its capitalisation."""
    return next((p for p in sorted(folder.iterdir())
                 if p.name.lower() == CSV_NAME and p.is_file()), None)


def _subfolders(folder: Path) -> list[Path]:
    """Visible sub-folders, sorted."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and not _is_hidden(p.name))


def _images_under(folder: Path) -> list[Path]:
    """Image files at any depth under ``folder``, skipping hidden files and folders."""
    found = []
    for current, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not _is_hidden(d)]
        found.extend(Path(current, name) for name in files if _is_visible_image(name))
    return sorted(found)


def _is_hidden(name: str) -> bool:
    """Dot-files and macOS/Windows litter, which are never data."""
    return name.startswith(".") or name in ("__MACOSX", "Thumbs.db", "desktop.ini")


def _is_visible_image(name: str) -> bool:
    """An image file name that is not hidden (``._photo.jpg`` is macOS metadata)."""
    return is_image_name(name) and not _is_hidden(name)


def _check_splittable(label_sets: list[tuple[str, ...]]) -> None:
    """Refuse to split when a class cannot have an image on both sides."""
    counts = Counter(label for labels in label_sets for label in labels)
    too_few = sorted(label for label, n in counts.items() if n < 2)
    if too_few:
        listed = ", ".join(f"{label!r} has {counts[label]}" for label in too_few)
        raise DatasetError(f"each class needs at least 2 images, one to learn from and one to "
                           f"check the model with: {listed}. Add photos or remove the class.")


def _n_valid(n: int, valid_pct: float) -> int:
    """Validation images for a class of ``n``: the share asked for, at least 1, at most n-1."""
    return min(n - 1, max(1, round(n * valid_pct)))


def _stratify(label_sets: list[tuple[str, ...]], valid_pct: float, seed: int) -> list[bool]:
    """Iterative stratification: serve the rarest label first, send each of its images
    where that label still needs most, and count the image against all of its labels.

    Each label's images are shuffled with a random generator seeded by the seed and the
    label name, so adding a class does not reshuffle the others.
    """
    counts = Counter(label for labels in label_sets for label in labels)
    valid_counts = {label: _n_valid(n, valid_pct) for label, n in counts.items()}
    wanted = {label: [counts[label] - n, n] for label, n in valid_counts.items()}  # train, valid
    n_valid = round(len(label_sets) * valid_pct)
    size_wanted = [len(label_sets) - n_valid, n_valid]
    in_valid: list[bool | None] = [None] * len(label_sets)
    while pending := _unassigned_by_label(label_sets, in_valid):
        label = min(pending, key=lambda name: (len(pending[name]), name))
        members = pending[label]
        random.Random(f"{seed}/{label}").shuffle(members)
        for k in members:
            side = max((0, 1), key=lambda s: (wanted[label][s], size_wanted[s]))
            in_valid[k] = side == 1
            size_wanted[side] -= 1
            for other in label_sets[k]:
                wanted[other][side] -= 1
    return [bool(valid) for valid in in_valid]


def _unassigned_by_label(label_sets: list[tuple[str, ...]],
                         in_valid: list[bool | None]) -> dict[str, list[int]]:
    """For each label, the images carrying it that are not assigned yet."""
    pending: dict[str, list[int]] = {}
    for k, labels in enumerate(label_sets):
        if in_valid[k] is None:
            for label in labels:
                pending.setdefault(label, []).append(k)
    return pending


def _put_every_label_on_both_sides(label_sets: list[tuple[str, ...]],
                                   in_valid: list[bool]) -> None:
    """Move single images so every label has one on each side, when the greedy pass left a
    label (of a multi-label image) entirely on one side.

    An image moves only when each of its labels keeps at least one image where it was.
    """
    for label in sorted({label for labels in label_sets for label in labels}):
        for side in (True, False):
            carriers = [k for k, labels in enumerate(label_sets) if label in labels]
            if any(in_valid[k] == side for k in carriers):
                continue
            movable = [k for k in carriers
                       if all(_count_on(label_sets, in_valid, other, not side) >= 2
                              for other in label_sets[k])]
            if movable:
                in_valid[movable[0]] = side


def _count_on(label_sets: list[tuple[str, ...]], in_valid: list[bool], label: str,
              side: bool) -> int:
    """How many images with ``label`` are on ``side`` (True: validation)."""
    return sum(1 for k, labels in enumerate(label_sets) if label in labels and in_valid[k] == side)


def _size_stats(sizes: list[tuple[int, int]]) -> dict[str, dict[str, int]]:
    """Min, median and max of widths and heights (empty when nothing was readable)."""
    if not sizes:
        return {}
    widths, heights = zip(*sizes, strict=True)
    return {axis: {"min": min(values), "median": statistics.median_low(values),
                   "max": max(values)}
            for axis, values in (("width", widths), ("height", heights))}


def _warnings(counts: dict[str, int], unreadable: list[tuple[str, str]]) -> list[str]:
    """Plain-word advice about what is likely to hurt training."""
    advice = []
    if len(counts) < 2:
        advice.append(f"Only one class ({', '.join(counts) or 'none'}): a classifier needs "
                      "at least two classes to learn to tell apart.")
    advice.extend(f"Class {name!r} has only {n} images; aim for at least {FEW_IMAGES} per "
                  "class (more is better)." for name, n in counts.items() if n < FEW_IMAGES)
    advice.extend(_imbalance_warning(counts))
    if unreadable:
        advice.append(f"{len(unreadable)} file(s) cannot be read; fix or remove them before "
                      "training.")
    return advice


def _imbalance_warning(counts: dict[str, int]) -> list[str]:
    """A warning when the largest class has many times the images of the smallest."""
    if len(counts) < 2:
        return []
    big = max(counts, key=lambda name: counts[name])
    small = min(counts, key=lambda name: counts[name])
    if counts[small] == 0 or counts[big] <= IMBALANCE_RATIO * counts[small]:
        return []  # an empty class is already reported as having too few images
    return [f"Classes are imbalanced: {big!r} has {counts[big]} images but {small!r} only "
            f"{counts[small]} ({counts[big] / counts[small]:.0f}x). The model may favour "
            f"{big!r}; add photos of {small!r} if you can."]


def _file_digest(path: Path) -> tuple[int, str]:
    """``(size, sha256)`` of a file, hashed once per path, size and mtime in this process."""
    info = path.stat()
    return info.st_size, _cached_sha256(str(path), info.st_size, info.st_mtime_ns)


@functools.lru_cache(maxsize=200_000)
def _cached_sha256(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of a file's bytes; size and mtime are in the key so edits are seen."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def read_labels_csv(csv_path: str | Path) -> tuple[list[Item], list[tuple[str, str]]]:
    """The usable rows of a labels CSV, and what was left out, without judging the whole.

    Unlike :func:`load_dataset` this accepts a file with a single class (or none): an
    annotation in progress (:mod:`cvlib.annotations`) reads its own file this way.

    Raises
    ------
    DatasetError : the header names no file or labels column.
    """
    csv_path = Path(csv_path)
    root = csv_path.parent
    reader = _CsvRows(csv_path, root / "images" if (root / "images").is_dir() else root)
    return reader.items(), reader.problems
