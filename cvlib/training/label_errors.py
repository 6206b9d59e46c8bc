"""Likely label errors, from out-of-sample probabilities (confident learning, via cleanlab).

A model that has seen a photo during training has partly memorised its label, right or
wrong, so its opinion of that photo proves nothing.  Here every image is scored by a model
that never saw it: the data is cut into K folds, and a quick head (a linear layer on the
cached backbone features, :func:`cvlib.training.quick_train.fit_head_for`) is trained on K-1 folds
and asked about the remaining one.  With cached features this takes seconds.

cleanlab then compares each given label with those probabilities, class by class (a photo
labelled *milk* that the models call *juice* with more confidence than they usually give
real *juice* photos is suspect), and ranks images by how little the models believe their
label.  The top of that ranking is where wrong labels hide.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cvlib.data.dataset import Dataset
from cvlib.data.health import DROP, PROBLEM, RELABEL, Finding
from cvlib.models.preprocess import probabilities
from cvlib.runtime.progress import Progress
from cvlib.training.config import TrainConfig
from cvlib.training.features import FeatureSpec, extract_features
from cvlib.training.quick_train import fit_head_for, head_logits

FOLDS = 5


@dataclass
class LabelIssue:
    """One image whose label the out-of-sample models doubt.

    ``quality`` is cleanlab's label quality score in [0, 1] (low = likely wrong);
    ``flagged`` says whether cleanlab's confident-learning filter calls it an error.
    """

    name: str
    path: Path
    given: tuple[str, ...]
    suggested: tuple[str, ...]
    quality: float
    flagged: bool


def out_of_sample_probs(dataset: Dataset, config: TrainConfig | None = None, *,
                        folds: int = FOLDS, progress: Progress | None = None) -> np.ndarray:
    """Cross-validated probabilities (N, C): each row from a head that never saw that image.

    Folds are stratified for single-label data and seeded by ``config.seed``, so the result
    is repeatable.  Features come from (and fill) the shared feature cache.
    """
    config = config or TrainConfig(architecture="efficientnet_lite0")
    progress = progress or Progress()
    spec = FeatureSpec.of(config, dataset.multi_label)
    features, _ = extract_features([item.path for item in dataset.items], spec,
                                   progress=progress)
    targets = dataset.targets()
    probs = np.zeros((len(dataset), len(dataset.classes)), np.float32)
    splits = list(_folds(dataset, folds, config.seed))
    for k, (train_idx, held_out) in enumerate(splits):
        progress.check()
        progress.update(stage=f"cross-validation fold {k + 1}/{len(splits)}")
        head = fit_head_for(config, features[train_idx], targets[train_idx],
                            len(dataset.classes), multi_label=dataset.multi_label)
        probs[held_out] = probabilities(head_logits(head, features[held_out]),
                                        dataset.multi_label)
    return probs


def _folds(dataset: Dataset, folds: int, seed: int):
    """K train/held-out index splits; K shrinks to the smallest class so every fold works."""
    from sklearn.model_selection import KFold, StratifiedKFold

    if dataset.multi_label:
        k = max(2, min(folds, len(dataset)))
        return KFold(k, shuffle=True, random_state=seed).split(np.zeros(len(dataset)))
    targets = dataset.targets()
    k = max(2, min(folds, int(np.bincount(targets).min())))
    return StratifiedKFold(k, shuffle=True, random_state=seed).split(targets, targets)


def rank_label_issues(dataset: Dataset, probs: np.ndarray) -> list[LabelIssue]:
    """Every image, least believable label first (cleanlab's self-confidence: the
    out-of-sample probability of the given label), with cleanlab's verdict and a suggestion.
    """
    from cleanlab.filter import find_label_issues
    from cleanlab.rank import get_label_quality_scores

    if dataset.multi_label:
        from cleanlab.multilabel_classification.rank import (
            get_label_quality_scores as multilabel_scores,
        )

        column = {c: j for j, c in enumerate(dataset.classes)}
        labels = [[column[label] for label in item.labels] for item in dataset.items]
        scores = multilabel_scores(labels, probs)
        flagged = find_label_issues(labels, probs, multi_label=True)
        suggested = [tuple(c for c, p in zip(dataset.classes, row, strict=True) if p >= 0.5)
                     for row in probs]
    else:
        targets = dataset.targets()
        scores = get_label_quality_scores(targets, probs)
        flagged = find_label_issues(targets, probs)
        suggested = [(dataset.classes[int(j)],) for j in probs.argmax(1)]
    issues = [LabelIssue(dataset.name_of(item.path), item.path, item.labels, suggested[i],
                         float(scores[i]), bool(flagged[i]))
              for i, item in enumerate(dataset.items)]
    return sorted(issues, key=lambda issue: issue.quality)


def find_label_errors(dataset: Dataset, config: TrainConfig | None = None, *,
                      folds: int = FOLDS, progress: Progress | None = None,
                      ) -> list[LabelIssue]:
    """The images cleanlab flags as likely mislabelled, most suspect first.

    Examples
    --------
    >>> issues = find_label_errors(load_dataset("../shared/data/groceries4"))
    >>> [(i.name, i.given, i.suggested) for i in issues[:3]]
    """
    probs = out_of_sample_probs(dataset, config, folds=folds, progress=progress)
    return [issue for issue in rank_label_issues(dataset, probs) if issue.flagged]


def label_error_finding(issues: list[LabelIssue]) -> list[Finding]:
    """The health report's view of the issues: one finding naming each image and its fix."""
    if not issues:
        return []
    return [Finding(
        "label_error", PROBLEM,
        f"{len(issues)} image(s) whose label models trained without them do not believe "
        "(cross-validated, confident learning). Check each: relabel it as suggested, or drop "
        "it if it shows none of the classes.",
        [issue.name for issue in issues], (RELABEL, DROP),
        {issue.name: "+".join(issue.suggested) or "none" for issue in issues})]
