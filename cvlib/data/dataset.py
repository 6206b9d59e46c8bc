"""Datasets: finding the images and their labels, and checking them.

People bring data in whatever shape they have it, so :func:`load_dataset` accepts the three
shapes the studio documents and works out which one it was given:

* a folder with one sub-folder per class (``milk/IMG_01.jpg``): single-label;
* a folder with a ``labels.csv`` (``filename,labels``, labels separated by spaces) and the
  images in ``images/`` or beside it: multi-label when any image has several labels
  (read by :mod:`cvlib.data.labels_csv`);
* a ``.zip`` of either, unpacked safely (see :mod:`cvlib.data.archive`) into a cache.

A folder whose sub-folders are ``train/`` and ``valid/`` (or ``validation/``, ``val/``)
and/or ``test/``, each with one sub-folder per class, is split by those folders (fastai's
``split_by_folder``): ``train/`` and ``valid/`` make the dataset, whose
:meth:`Dataset.folder_valid` marks the validation photos, and ``test/`` becomes
:attr:`Dataset.test`, scored once after training and never used to choose anything.

Loading only lists files, so it is fast on large folders; :func:`summarize` then decodes
every image once to find the unreadable ones, and reports counts, sizes and warnings in plain
words, and :func:`fingerprint` identifies the exact data a model was trained on.  Splitting
lives in :mod:`cvlib.data.splits`.  Nothing here imports torch.
"""

from __future__ import annotations

import functools
import hashlib
import json
import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from cvlib.data.archive import QUIET_REASONS, extract_zip, scan_zip
from cvlib.data.files import (
    Item,
    find_labels_csv,
    images_under,
    is_hidden,
    is_visible_image,
    subfolders,
)
from cvlib.data.images import IMAGE_EXTENSIONS, check_image, image_size
from cvlib.data.labels_csv import read_labels_csv
from cvlib.errors import BadImageError, DatasetError
from cvlib.storage.home import studio_home

FEW_IMAGES = 10
"""Classes with fewer images than this get a warning: too few to learn or to check."""
IMBALANCE_RATIO = 3.0
"""Largest class over smallest above which the summary warns about imbalance."""
TRAIN_FOLDER = "train"
VALID_FOLDERS = ("valid", "validation", "val")
TEST_FOLDER = "test"


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

    def targets(self, indices: Iterable[int] | None = None) -> np.ndarray:
        """What the loss compares predictions with, for every image or those at ``indices``.

        Single-label data: the class index of each image (int64).  Multi-label data: each
        image's 0/1 row over the classes, :meth:`labels_matrix` (float32).  Training,
        fine-tuning, validation and the run history all take their targets from here.
        """
        if self.multi_label:
            matrix = self.labels_matrix()
        else:
            column = {name: j for j, name in enumerate(self.classes)}
            matrix = np.array([column[item.labels[0]] for item in self.items], np.int64)
        return matrix if indices is None else matrix[list(indices)]

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
    while not find_labels_csv(folder):
        visible = [entry for entry in folder.iterdir() if not is_hidden(entry.name)]
        if not (len(visible) == 1 and visible[0].is_dir() and subfolders(visible[0])):
            break
        folder = visible[0]
    return folder


def _load_folder(root: Path, force_multi_label: bool | None) -> Dataset:
    """A folder with a labels.csv, train/valid/test folders, or one sub-folder per class."""
    csv_path = find_labels_csv(root)
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
    for folder in subfolders(root):
        name = folder.name.lower()
        role = ("train" if name == TRAIN_FOLDER else "valid" if name in VALID_FOLDERS
                else "test" if name == TEST_FOLDER else None)
        if role is None or role in roles or not subfolders(folder):
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
    for folder in subfolders(root):
        images = images_under(folder)
        if not images:
            problems.append((f"{folder.name}/", "folder has no images (ignored)"))
        items.extend(Item(path, (folder.name,)) for path in images)
    loose = [p for p in sorted(root.iterdir()) if p.is_file() and is_visible_image(p.name)]
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
    items, problems = read_labels_csv(csv_path)
    if not items:
        detail = "; ".join(f"{name}: {reason}" for name, reason in problems[:3])
        raise DatasetError(f"{csv_path.name} lists no usable images"
                           + (f" ({detail})" if detail else ""))
    return _dataset(csv_path.parent, items, "csv", problems, force_multi_label)


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
