"""Dataset health: what in the data will hurt a model, found before any training.

Most accuracy is won or lost in the data.  :func:`check_health` reads every image once
(small, grayscale) and reports, in plain words, what a person should look at:

* **duplicates**: identical files (same bytes) and near-identical photos (perceptual hashes
  a few bits apart: the same shot re-saved, resized or slightly recoloured);
* **leakage**: copies that straddle the train/validation split (the same split training
  uses, :func:`cvlib.data.splits.split` with the same seed), so validation grades the model on
  photos it learned from and the accuracy is too good to be true;
* **conflicting labels**: copies of one photo filed under different classes;
* **unreadable files**, **tiny or imbalanced classes**;
* **extreme sizes and aspect ratios**, and **very dark, very bright or blurry** photos.

Each :class:`Finding` names the images (relative to the dataset root) and the fixes that
make sense for it; :mod:`cvlib.data.fixes` applies them, undoably.  Likely *label errors* need a
model's opinion and live in :mod:`cvlib.training.label_errors`.  Nothing here imports torch.
"""

from __future__ import annotations

import functools
import hashlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import imagehash
import numpy as np
from PIL import Image

from cvlib.data.dataset import FEW_IMAGES, IMBALANCE_RATIO, Dataset
from cvlib.data.images import check_image, load_image
from cvlib.data.splits import split
from cvlib.errors import BadImageError, DatasetError

NEAR_DUPLICATE_BITS = 8
"""Perceptual hashes (64 bits) at most this many bits apart count as the same photo.
Measured: distinct photos of groceries4 and fridge4 are never closer than 12 bits."""
SMALL_SIDE = 64
"""Images whose shorter side is under this many pixels hold too little detail."""
HUGE_PIXELS = 30_000_000
"""Images over this many pixels make every epoch slow to load, for no gain at 224 px."""
ASPECT_LIMIT = 3.0
"""Longer side over shorter side above which squishing or cropping loses the object."""
DARK, BRIGHT = 35.0, 225.0
"""Mean gray level (0-255) under / over which a photo is mostly black / washed out."""
BLURRY = 15.0
"""Variance of the Laplacian (on a 256 px grayscale copy) under which a photo is blurred.
Measured: sharp photos in groceries4 and fridge4 score 30 to 1900, a blurred one about 1."""
ANALYSIS_SIDE = 256

PROBLEM, WARNING = "problem", "warning"
DROP, RELABEL, HARD_NEGATIVE = "drop", "relabel", "hard_negative"

CHECKS: dict[str, str] = {
    "leakage": "Duplicates across the train/validation split",
    "conflicting_labels": "Copies with different labels",
    "unreadable": "Unreadable files",
    "label_error": "Likely label errors",
    "duplicate": "Duplicates",
    "small_class": "Classes with few images",
    "imbalance": "Imbalanced classes",
    "tiny": "Very small images",
    "huge": "Very large images",
    "aspect": "Extreme aspect ratios",
    "dark": "Very dark images",
    "bright": "Very bright images",
    "blurry": "Blurry images",
}
"""Every kind of finding, in the order a report lists them (most harmful first)."""


@dataclass(frozen=True)
class ImageStats:
    """What the checks need to know about one readable image."""

    sha256: str
    phash: int
    width: int
    height: int
    brightness: float
    sharpness: float


@dataclass
class Finding:
    """One thing worth a look: which check, how bad, in words, which images, which fixes.

    ``items`` are names relative to the dataset root (``milk/IMG_3.jpg``), most important
    first; ``suggestions`` maps some of them to the label they probably should have.
    """

    check: str
    severity: str
    message: str
    items: list[str] = field(default_factory=list)
    fixes: tuple[str, ...] = ()
    suggestions: dict[str, str] = field(default_factory=dict)

    @property
    def title(self) -> str:
        """The check's name in words."""
        return CHECKS[self.check]


@dataclass
class HealthReport:
    """Every finding about one dataset, most harmful first."""

    root: Path
    n_images: int
    findings: list[Finding]
    unreadable: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[Finding]:
        """Findings to fix before training (they make the numbers wrong, or training fail)."""
        return [f for f in self.findings if f.severity == PROBLEM]

    @property
    def warnings(self) -> list[Finding]:
        """Findings worth a look that do not invalidate a training."""
        return [f for f in self.findings if f.severity == WARNING]

    def of(self, check: str) -> list[Finding]:
        """The findings of one check."""
        return [f for f in self.findings if f.check == check]

    def flagged(self) -> set[str]:
        """Every image some finding names."""
        return {name for f in self.findings for name in f.items}


def image_stats(path: str | Path) -> ImageStats:
    """Hashes, size, brightness and sharpness of one image (decoded once, cached).

    Raises :class:`~cvlib.errors.BadImageError` for a file that cannot be used.
    """
    path = Path(path)
    info = path.stat() if path.is_file() else None
    if info is None:
        raise BadImageError(path.name, "file not found")
    return _cached_stats(str(path), info.st_size, info.st_mtime_ns)


@functools.lru_cache(maxsize=100_000)
def _cached_stats(path: str, size: int, mtime_ns: int) -> ImageStats:
    """:func:`image_stats` body; size and mtime are in the key so edited files are re-read."""
    data = Path(path).read_bytes()
    width, height = check_image(data, Path(path).name)
    gray = load_image(data, Path(path).name).convert("L")
    small = gray.resize((ANALYSIS_SIDE, ANALYSIS_SIDE), Image.Resampling.BILINEAR)
    pixels = np.asarray(small, np.float32)
    return ImageStats(sha256=hashlib.sha256(data).hexdigest(),
                      phash=int(str(imagehash.phash(small)), 16), width=width, height=height,
                      brightness=float(pixels.mean()), sharpness=_laplacian_variance(pixels))


def _laplacian_variance(pixels: np.ndarray) -> float:
    """Variance of the 4-neighbour Laplacian: edges make it large, blur makes it small."""
    lap = (4 * pixels[1:-1, 1:-1] - pixels[:-2, 1:-1] - pixels[2:, 1:-1]
           - pixels[1:-1, :-2] - pixels[1:-1, 2:])
    return float(lap.var())


def check_health(dataset: Dataset, *, valid_pct: float = 0.2, seed: int = 42,
                 on_image: Callable[[int, int], None] | None = None) -> HealthReport:
    """Run every check on ``dataset``; ``valid_pct`` and ``seed`` must be training's own.

    ``on_image(done, total)`` is called as images are read, for a progress bar.

    Examples
    --------
    >>> report = check_health(load_dataset("../shared/data/groceries4"))
    >>> [f.title for f in report.problems]
    []
    """
    names = [dataset.name_of(item.path) for item in dataset.items]
    stats: dict[int, ImageStats] = {}
    unreadable: list[tuple[str, str]] = []
    for i, item in enumerate(dataset.items):
        try:
            stats[i] = image_stats(item.path)
        except BadImageError as exc:
            unreadable.append((names[i], exc.reason))
        if on_image is not None:
            on_image(i + 1, len(dataset))
    findings = [
        *_unreadable_findings(unreadable),
        *_duplicate_findings(dataset, names, stats, _valid_side(dataset, valid_pct, seed)),
        *_class_findings(dataset, names),
        *_image_findings(names, stats),
    ]
    findings.sort(key=lambda f: (f.severity != PROBLEM, list(CHECKS).index(f.check)))
    return HealthReport(dataset.root, len(dataset), findings, [n for n, _ in unreadable])


def _valid_side(dataset: Dataset, valid_pct: float, seed: int) -> set[int]:
    """Indices training would validate on (empty when the data cannot be split at all)."""
    try:
        return set(split(dataset, valid_pct=valid_pct, seed=seed)[1])
    except DatasetError:
        return set()


def _unreadable_findings(unreadable: list[tuple[str, str]]) -> list[Finding]:
    """One finding listing every file that cannot be decoded, with the reason for each."""
    if not unreadable:
        return []
    reasons = "; ".join(f"{name}: {reason}" for name, reason in unreadable[:5])
    more = f" and {len(unreadable) - 5} more" if len(unreadable) > 5 else ""
    return [Finding("unreadable", PROBLEM,
                    f"{len(unreadable)} file(s) cannot be read and would be skipped or stop "
                    f"training ({reasons}{more}). Move them aside or replace them.",
                    [name for name, _ in unreadable], (DROP,))]


def duplicate_groups(stats: dict[int, ImageStats],
                     max_bits: int = NEAR_DUPLICATE_BITS) -> list[list[int]]:
    """Groups of image indices that are the same photo (same bytes or close hashes).

    Pairs are joined transitively (union-find), each group sorted, groups in index order.
    """
    indices = sorted(stats)
    parent = {i: i for i in indices}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in _close_pairs(indices, stats, max_bits):
        parent[find(i)] = find(j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in indices:
        groups[find(i)].append(i)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])


def _close_pairs(indices: list[int], stats: dict[int, ImageStats],
                 max_bits: int) -> list[tuple[int, int]]:
    """Pairs with identical bytes or hashes at most ``max_bits`` apart (vectorised XOR)."""
    hashes = np.array([stats[i].phash for i in indices], dtype=np.uint64)
    pairs: list[tuple[int, int]] = []
    for row, i in enumerate(indices[:-1]):
        distance = np.bitwise_count(hashes[row + 1:] ^ hashes[row])
        pairs.extend((i, indices[row + 1 + k]) for k in np.flatnonzero(distance <= max_bits))
    by_content: dict[str, list[int]] = defaultdict(list)
    for i in indices:
        by_content[stats[i].sha256].append(i)
    pairs.extend((g[0], other) for g in by_content.values() for other in g[1:])
    return pairs


def _duplicate_findings(dataset: Dataset, names: list[str], stats: dict[int, ImageStats],
                        valid: set[int]) -> list[Finding]:
    """Leakage, conflicting labels and plain duplicates, one finding per group of copies."""
    findings = []
    for group in duplicate_groups(stats):
        items = [names[i] for i in group]
        identical = len({stats[i].sha256 for i in group}) == 1
        what = "identical files" if identical else "near-identical photos"
        labels = {dataset.items[i].labels for i in group}
        sides = {i in valid for i in group}
        if len(labels) > 1:
            filed = ", ".join(f"{name} as {'+'.join(dataset.items[i].labels)}"
                              for name, i in zip(items, group, strict=True))
            findings.append(Finding(
                "conflicting_labels", PROBLEM,
                f"{len(group)} {what} carry different labels ({filed}): at most one label is "
                "right. Relabel the wrong copy, or drop the extra copies.",
                items, (RELABEL, DROP)))
        if len(sides) > 1:
            in_valid = [n for n, i in zip(items, group, strict=True) if i in valid]
            findings.append(Finding(
                "leakage", PROBLEM,
                f"{len(group)} {what} sit on both sides of the train/validation split "
                f"({', '.join(in_valid)} in validation): the model is graded on a photo it "
                "learned from, so validation accuracy looks better than it is. Keep one copy.",
                items, (DROP,)))
        elif len(labels) == 1:
            findings.append(Finding(
                "duplicate", WARNING,
                f"{len(group)} {what} ({', '.join(items)}): extra copies add no information "
                "and weigh that photo more than the others. Keep one.",
                items, (DROP,)))
    return findings


def _class_findings(dataset: Dataset, names: list[str]) -> list[Finding]:
    """Classes too small to learn or to check, and classes far larger than others."""
    counts = dataset.counts()
    members: dict[str, list[str]] = defaultdict(list)
    for name, item in zip(names, dataset.items, strict=True):
        for label in item.labels:
            members[label].append(name)
    findings = [
        Finding("small_class", PROBLEM if n < 2 else WARNING,
                f"Class {label!r} has only {n} image(s); aim for at least {FEW_IMAGES} (and "
                "at least 2 are needed, one to learn from and one to check with). Add photos.",
                members[label])
        for label, n in counts.items() if n < FEW_IMAGES]
    if counts and min(counts.values()) > 0:
        big, small = max(counts, key=counts.__getitem__), min(counts, key=counts.__getitem__)
        if counts[big] > IMBALANCE_RATIO * counts[small]:
            findings.append(Finding(
                "imbalance", WARNING,
                f"Class {big!r} has {counts[big]} images but {small!r} only {counts[small]} "
                f"({counts[big] / counts[small]:.1f}x): the model will lean towards {big!r}. "
                f"Add photos of {small!r}, or drop some of {big!r}."))
    return findings


def _image_findings(names: list[str], stats: dict[int, ImageStats]) -> list[Finding]:
    """Per-image oddities (size, shape, exposure, focus), one finding per check."""
    checks = [
        ("tiny", lambda s: min(s.width, s.height) < SMALL_SIDE,
         lambda s: min(s.width, s.height),
         f"shorter side under {SMALL_SIDE} px: too little detail to learn from"),
        ("huge", lambda s: s.width * s.height > HUGE_PIXELS, lambda s: -s.width * s.height,
         f"over {HUGE_PIXELS / 1e6:.0f} MP: slow to load every epoch, for no gain at model "
         "size; resize them"),
        ("aspect", lambda s: _aspect(s) > ASPECT_LIMIT, lambda s: -_aspect(s),
         f"one side over {ASPECT_LIMIT:g}x the other: squishing distorts the object and "
         "cropping may cut it off"),
        ("dark", lambda s: s.brightness < DARK, lambda s: s.brightness,
         "mostly black: check the object is visible"),
        ("bright", lambda s: s.brightness > BRIGHT, lambda s: -s.brightness,
         "washed out: check the object is visible"),
        ("blurry", lambda s: s.sharpness < BLURRY, lambda s: s.sharpness,
         "blurred or out of focus: fine if your camera will see such photos, else retake"),
    ]
    findings = []
    for check, flagged, worst_first, why in checks:
        hits = [i for _, i in sorted((worst_first(s), i) for i, s in stats.items()
                                     if flagged(s))]
        if hits:
            findings.append(Finding(check, WARNING, f"{len(hits)} image(s) {why}.",
                                    [names[i] for i in hits], (DROP,)))
    return findings


def _aspect(s: ImageStats) -> float:
    """Longer side over shorter side."""
    return max(s.width, s.height) / max(1, min(s.width, s.height))


def extra_copies(finding: Finding) -> list[str]:
    """For a duplicate or leakage finding, every copy but the first: what 'keep one' drops."""
    return finding.items[1:]
