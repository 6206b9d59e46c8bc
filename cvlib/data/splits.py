"""Splitting a dataset into training and validation photos: stratified and reproducible.

The split depends only on the photos (paths relative to the root, and labels) and the seed,
never on the order the file system lists them in, so the same data gives the same split on
every machine; each label is shuffled by its own seeded generator, so adding a class does
not reshuffle the others.
"""

from __future__ import annotations

import random
from collections import Counter

from cvlib.data.dataset import Dataset
from cvlib.errors import DatasetError


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
