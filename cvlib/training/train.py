"""Training, with one API for both modes and both kinds of label.

``quick`` fits a linear head on cached, view-averaged backbone features: seconds on a laptop
CPU.  ``full`` starts from that head and fine-tunes the whole network with fastai (one-cycle,
frozen-head epochs first, augmentation), keeping the best weights seen on validation: the
"linear probe, then fine-tune" recipe, which never ends below where it started.  Both return
the same :class:`TrainResult`, whose :meth:`TrainResult.save` writes a model folder that
every page, export and server can use.

Examples
--------
>>> from cvlib.data import load_dataset
>>> result = train(load_dataset("sample_data/fridge4"), TrainConfig(mode="quick"))
>>> result.metrics["accuracy"], result.save("models/fridge")
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from cvlib.data.dataset import Dataset, fingerprint
from cvlib.data.images import check_image
from cvlib.data.splits import split
from cvlib.errors import BadImageError, DatasetError
from cvlib.evaluation.estimate import Estimate, cross_validated_accuracy, from_counts
from cvlib.evaluation.metrics import evaluate, summary
from cvlib.models import region_pool
from cvlib.models.card import ModelCard
from cvlib.models.checkpoint import (
    ViewAverage,
    make_meta,
    save_model,
    save_state,
)
from cvlib.models.preprocess import probabilities
from cvlib.models.pretrained_cache import head_on_pretrained
from cvlib.models.regions import describe as describe_regions
from cvlib.runtime.progress import Progress
from cvlib.training.config import TrainConfig
from cvlib.training.features import FeatureSpec, extract_features
from cvlib.training.quick_train import fit_head_for, head_logits


@dataclass
class TrainResult:
    """A trained model with its validation evidence, ready to save.

    Quick training keeps only its fitted ``head``: the whole network and the full metrics
    (with ROC and PR curves) are built when first asked for, so a run that only saves its
    model never imports timm or scikit-learn (README, "Fast on a laptop CPU").
    """

    config: TrainConfig
    meta: dict[str, Any]
    valid_probs: np.ndarray
    valid_targets: np.ndarray
    valid_paths: list[Path]
    train_paths: list[Path]
    estimate: Estimate
    """The accuracy to expect on new photos, with its interval."""
    head: nn.Linear | None = None
    fine_tuned: nn.Module | None = None
    timings: dict[str, float] = field(default_factory=dict)
    stopped_early: bool = False
    test_metrics: dict[str, Any] | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    """One record per epoch (epoch 0 is the quick head): training and validation loss and
    accuracy, as the live chart drew them."""
    kept_epoch: int | None = None
    """Full training: the epoch whose weights were kept (0: the quick head, no epoch beat it
    on validation loss); None in quick mode."""

    @property
    def card(self) -> ModelCard:
        """What ``model.json`` will say about this model, as attributes."""
        return ModelCard.from_dict(self.meta)

    @cached_property
    def network(self) -> nn.Module:
        """The whole network as saved: fine-tuned, or the ImageNet one with the quick head."""
        net = self.fine_tuned
        if net is None:
            net = network_with_head(self.config, self.head)
        views = self.config.views
        return (ViewAverage(net, views) if views != ("identity",) else net).eval()

    @cached_property
    def metrics(self) -> dict[str, Any]:
        """Every validation metric, curves included (:func:`cvlib.evaluation.metrics.evaluate`)."""
        return evaluate(self.valid_probs, self.valid_targets, self.meta["classes"],
                        multi_label=self.meta["multi_label"])

    def save(self, folder: str | Path) -> Path:
        """Write the model folder (safetensors + JSON), atomically.

        A quick model whose network was never built is written straight from the kept
        ImageNet weights and the head: the same tensors, without building the network.
        """
        if self.fine_tuned is None and "network" not in self.__dict__:
            state = head_on_pretrained(self.meta, self.head)
            if state is not None:
                return save_state(folder, state, self.meta)
        return save_model(folder, self.network, self.meta)


def seed_everything(seed: int) -> None:
    """Make a run repeatable on the CPU: same split, same initialisation, same batches."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def check_trainable(dataset: Dataset, train_idx: list[int]) -> None:
    """Explain, before any compute, why a dataset cannot be trained on."""
    if len(dataset.classes) < 2:
        raise DatasetError("training needs at least two classes to tell apart; "
                           f"this dataset has {len(dataset.classes)}")
    present = {label for i in train_idx for label in dataset.items[i][1]}
    missing = sorted(set(dataset.classes) - present)
    if missing:
        raise DatasetError(f"no training image left for: {', '.join(missing)}; "
                           "add images or lower the validation share")


def drop_unreadable(dataset: Dataset, progress: Progress, valid_idx: list[int] | None = None,
                    ) -> tuple[Dataset, list[int] | None]:
    """Leave out images that cannot be decoded, naming each, so one bad file never stops a run.

    Every image is decoded once at reduced scale (a fraction of a second per hundred photos);
    ``valid_idx``, when given, is renumbered to the kept items.
    """
    keep, bad = [], []
    for i, item in enumerate(dataset.items):
        try:
            check_image(item.path, dataset.name_of(item.path))
            keep.append(i)
        except BadImageError as exc:
            bad.append(f"{exc.name} ({exc.reason})")
    if not bad:
        return dataset, valid_idx
    progress.log(f"skipped {len(bad)} unreadable image(s): {'; '.join(bad)}")
    renumber = {old: new for new, old in enumerate(keep)}
    if valid_idx is not None:
        valid_idx = [renumber[i] for i in valid_idx if i in renumber]
    return dataset.subset(keep), valid_idx


def network_with_head(config: TrainConfig, head: nn.Linear) -> nn.Module:
    """The whole pretrained network with a fitted quick head as its classifier, inside
    region pooling when the run uses strips.

    Both training and the learning-rate finder start fine-tuning from this network.
    """
    from cvlib.models import backbones

    net = backbones.create(config.architecture, num_classes=head.out_features)
    net.get_classifier().load_state_dict(head.state_dict())
    net.drop_rate = config.dropout
    return region_pool.wrap(net, config.layout, config.backbone_size)


def train(dataset: Dataset, config: TrainConfig | None = None, *,
          progress: Progress | None = None, valid_idx: list[int] | None = None) -> TrainResult:
    """Train a classifier on ``dataset`` and validate it on a held-out, stratified split.

    The split is the dataset's own validation folder when it has one (train/valid folders),
    else seeded; ``valid_idx`` overrides both (to re-run a recorded run exactly, or to
    validate on a fixed set across hard-negative rounds).  A ``test/`` folder
    (:attr:`Dataset.test`) is scored once, by the final model, after everything is chosen.
    """
    config = (config or TrainConfig()).for_data(dataset.multi_label)
    progress = progress or Progress()
    seed_everything(config.seed)
    start = time.perf_counter()
    given = valid_idx if valid_idx is not None else dataset.folder_valid()
    dataset, valid_idx = drop_unreadable(dataset, progress, given)
    if valid_idx is None:
        train_idx, valid_idx = split(dataset, valid_pct=config.valid_pct, seed=config.seed)
    else:
        chosen = set(valid_idx)
        train_idx = [i for i in range(len(dataset)) if i not in chosen]
    check_trainable(dataset, train_idx)
    paths = [dataset.items[i][0] for i in range(len(dataset))]
    spec = FeatureSpec.of(config, dataset.multi_label)
    progress.log(f"The pretrained network reads every photo once: {config.describe()}.")
    feats, cache = extract_features(paths, spec, progress=progress)
    rows = HeadRows(config, dataset, training_views(config, spec, paths, feats, progress))
    t_features = time.perf_counter() - start

    y_valid = dataset.targets(valid_idx)
    head = rows.fit(train_idx, progress)
    probe_probs = probabilities(head_logits(head, feats[valid_idx]), dataset.multi_label)
    probe_metrics = evaluate(probe_probs, y_valid, dataset.classes,
                             multi_label=dataset.multi_label, curves=False)
    train_probs = probabilities(head_logits(head, feats[train_idx]), dataset.multi_label)
    train_metrics = evaluate(train_probs, dataset.targets(train_idx), dataset.classes,
                             multi_label=dataset.multi_label, curves=False)
    t_quick = time.perf_counter() - start
    progress.update(total_epochs=config.freeze_epochs + config.epochs
                    if config.mode == "full" else 0)
    progress.add_record({"epoch": 0, "stage": "linear probe", "elapsed_s": round(t_quick, 2),
                         **epoch_record(train_metrics, probe_metrics, dataset.multi_label)})
    valid_probs, stopped, fine_tuned, kept_epoch = probe_probs, False, None, None
    if config.mode == "full":
        from cvlib.training.fine_tune import fine_tune

        outcome = fine_tune(network_with_head(config, head), dataset, train_idx, valid_idx,
                            config, progress)
        fine_tuned, valid_probs, stopped = outcome.network, outcome.valid_probs, outcome.stopped
        kept_epoch = outcome.kept_epoch
    headline = evaluate(valid_probs, y_valid, dataset.classes, multi_label=dataset.multi_label,
                        curves=False)
    final_fit = "training photos"
    if config.fit_on_all and fine_tuned is None and given is None:
        progress.log("final head fitted on all photos (validation was for the estimate)")
        head, final_fit = rows.fit(list(range(len(dataset))), progress, start=head), "all photos"
    estimate = estimate_for(config, rows, feats, head, valid_idx, headline, progress)
    test = score_test(dataset, config, spec, head, fine_tuned, progress)
    timings = {"features_s": round(t_features, 2),
               "total_s": round(time.perf_counter() - start, 2),
               "cache_hits": cache["hits"], "cache_misses": cache["misses"]}
    meta = make_meta(
        architecture=config.architecture, classes=dataset.classes,
        multi_label=dataset.multi_label, preprocessing=config.preprocessing(),
        views=config.views, head={"type": "linear", "dropout": config.dropout},
        regions=describe_regions(config.layout, config.backbone_size),
        training=config.to_dict(), metrics=headline, timings=timings,
        data_fingerprint=fingerprint(dataset),
        split={"valid": [_rel(dataset, i) for i in valid_idx], "seed": config.seed,
               "valid_pct": config.valid_pct, "by_folder": dataset.valid_folder,
               "final_fit": final_fit},
        estimate=estimate.to_dict(),
        **({} if test is None else {"test": summary(test)}),
    )
    progress.update(stage="done")
    return TrainResult(config, meta, valid_probs, y_valid, [paths[i] for i in valid_idx],
                       [paths[i] for i in train_idx], estimate, head=head,
                       fine_tuned=fine_tuned, timings=timings, stopped_early=stopped,
                       test_metrics=test, history=progress.snapshot()["history"],
                       kept_epoch=kept_epoch)


def training_views(config: TrainConfig, spec: FeatureSpec, paths: list[Path],
                   feats: np.ndarray, progress: Progress) -> list[np.ndarray]:
    """The feature rows the head learns from: one matrix per training view.

    With ``train_views`` left at ``("identity",)`` the head learns from the very features it
    is validated on; otherwise every augmented view of every training photo is a row of its
    own (feature-space augmentation), each view cached like the rest.
    """
    if config.train_views == ("identity",):
        return [feats]
    return [feats if (view,) == spec.views else
            extract_features(paths, replace(spec, views=(view,)), progress=progress)[0]
            for view in config.train_views]


@dataclass
class HeadRows:
    """Fits a run's head on any subset of photos, with every training view of each."""

    config: TrainConfig
    dataset: Dataset
    views: list[np.ndarray]

    def fit(self, indices: list[int] | np.ndarray, progress: Progress | None = None,
            start: nn.Linear | None = None) -> nn.Linear:
        """The head fitted on the photos at ``indices`` (all their training views)."""
        indices = list(indices)
        x = np.concatenate([view[indices] for view in self.views])
        y = self.dataset.targets(indices)
        y = np.concatenate([y] * len(self.views))
        return fit_head_for(self.config, x, y, len(self.dataset.classes),
                            multi_label=self.dataset.multi_label, progress=progress,
                            start=start)


def estimate_for(config: TrainConfig, rows: HeadRows, feats: np.ndarray, head: nn.Linear,
                 valid_idx: list[int], headline: dict[str, Any], progress: Progress,
                 ) -> Estimate:
    """Accuracy to expect on new photos: cross-validated over every photo in quick mode
    (cheap: the features are cached, and each fold's fit starts from the final ``head``),
    else the validation accuracy with its interval."""
    dataset = rows.dataset
    if config.mode == "quick" and config.estimate_folds >= 2 and not dataset.multi_label:
        targets = dataset.targets()
        if np.bincount(targets, minlength=len(dataset.classes)).min() >= 2:
            progress.update(stage="estimating accuracy")

            def fit(indices: np.ndarray):
                fold_head = rows.fit(indices, start=head)
                return lambda test: head_logits(fold_head, feats[test]).argmax(1)

            return cross_validated_accuracy(targets, fit, folds=config.estimate_folds,
                                            seed=config.seed)
    return from_counts(round(headline["accuracy"] * len(valid_idx)), len(valid_idx),
                       "validation")


def score_test(dataset: Dataset, config: TrainConfig, spec: FeatureSpec, head: nn.Linear,
               fine_tuned: nn.Module | None, progress: Progress) -> dict[str, Any] | None:
    """Metrics of the final model on the dataset's ``test/`` photos, or None without them.

    Scored once, after every choice is made, so it stays an honest test.
    """
    test = dataset.test
    if test is None or not test.items:
        return None
    progress.update(stage="testing")
    test_paths = [item.path for item in test.items]
    if fine_tuned is None:
        test_feats, _ = extract_features(test_paths, spec, progress=progress)
        logits = head_logits(head, test_feats)
    else:
        from cvlib.training.fine_tune import network_logits

        logits = network_logits(fine_tuned, test_paths, config)
    targets = test.targets()
    return evaluate(probabilities(logits, test.multi_label), targets, test.classes,
                    multi_label=test.multi_label, curves=False)


def epoch_record(train_metrics: dict[str, Any], valid_metrics: dict[str, Any],
                 multi_label: bool) -> dict[str, float]:
    """One point of the training curve, named as fine-tuning's epochs name theirs.

    ``accuracy`` means what it means everywhere in the studio: argmax accuracy, or for
    multi-label the exact match (the whole label set right); multi-label adds
    ``hamming_accuracy`` (right yes/no decisions).
    """
    names = ["accuracy", "hamming_accuracy"] if multi_label else ["accuracy"]
    return {"train_loss": train_metrics["loss"], "valid_loss": valid_metrics["loss"],
            **{f"train_{n}": train_metrics[n] for n in names},
            **{n: valid_metrics[n] for n in names}}


def _rel(dataset: Dataset, index: int) -> str:
    """An item's path relative to the dataset root, as stored in records."""
    path = dataset.items[index][0]
    try:
        return str(path.relative_to(dataset.root))
    except ValueError:
        return str(path)


def find_learning_rate(dataset: Dataset, config: TrainConfig, *,
                       progress: Progress | None = None):
    """fastai's LR finder for full training, run from the quick head (as training starts).

    Returns :class:`cvlib.training.fine_tune.LRFinderResult`; the network is thrown away after.
    ``progress`` sees the features, then every step of the sweep; Stop ends it.
    """
    from cvlib.training.fine_tune import find_lr

    progress = progress or Progress()
    config = config.for_data(dataset.multi_label)
    seed_everything(config.seed)
    dataset, _ = drop_unreadable(dataset, progress)
    train_idx, valid_idx = split(dataset, valid_pct=config.valid_pct, seed=config.seed)
    check_trainable(dataset, train_idx)
    paths = [dataset.items[i][0] for i in train_idx]
    spec = FeatureSpec.of(config, dataset.multi_label)
    feats, _ = extract_features(paths, spec, progress=progress)
    progress.check()
    head = fit_head_for(config, feats, dataset.targets(train_idx), len(dataset.classes),
                        multi_label=dataset.multi_label)
    return find_lr(network_with_head(config, head), dataset, train_idx, valid_idx, config,
                   progress)
