"""Hard-negative mining: teaching a classifier to say "none of these".

A classifier trained on four kinds of drinks has only four answers: shown a bag of chips,
it still names a drink, often confidently, because softmax probabilities always add up to
one.  The cure is to show it what *none of the classes* looks like.  Not any negatives: the
*hard* ones, the images it currently mistakes most confidently for a class, teach it the
most.  A round of mining is:

1. score a pool of negative images with the current model;
2. rank them by their highest class probability (most convincing mistakes first);
3. a person confirms which are truly none of the classes;
4. add them to training, as a background class ``"none of these"`` (``background``), or use
   them to raise the confidence a prediction needs (``threshold``);
5. retrain and measure, on negatives held out from mining, how often the model still
   names a class (the false-positive rate), and on the positives' fixed validation split,
   how often it names the right one.

Nothing is copied: the combined data is a :class:`cvlib.data.dataset.Dataset` whose extra items
point at the negatives where they are.  In quick mode every round reuses cached features,
so it takes seconds, and the background class is fitted *against the round-0 class rows,
kept fixed*: refitting every row lets the new class shift the borders between the real
classes too (measured on groceries4: a milk carton became juice, and 2 of 32 validation
photos were lost), while a background row alone only learns when to say "none of these"
(false positives 97.5 % -> 22.5 % after 20 negatives, validation accuracy unchanged).

Examples
--------
>>> miner = HardNegativeMiner(load_dataset("groceries4"), negative_images("negatives"))
>>> miner.fit_round().fp_rate                         # round 0: positives only
>>> miner.add_negatives([c.path for c in miner.candidates(20)])
>>> miner.fit_round().fp_rate                         # lower
>>> seeded = HardNegativeMiner(load_dataset("groceries4"), negative_images("negatives"),
...                            seed_negatives=10)
>>> seeded.fit_round().n_negatives                    # round 0 with 10, as the tutorial
10
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cvlib.data.dataset import Dataset
from cvlib.data.files import Item
from cvlib.data.images import is_image_name
from cvlib.data.splits import split
from cvlib.errors import DatasetError, StudioError
from cvlib.runtime.progress import Progress
from cvlib.training.config import TrainConfig

if TYPE_CHECKING:
    from cvlib.training.train import TrainResult

NONE_CLASS = "none of these"
"""The background class's name; predicting it means "none of the classes"."""

STRATEGIES = ("background", "threshold")
"""How confirmed negatives are used: as a class of their own, or to calibrate a threshold."""


def negative_images(folder: str | Path) -> list[Path]:
    """Every image file under ``folder`` (sub-folders included, hidden files skipped), sorted."""
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise DatasetError(f"{root} is not a folder of negative images")
    found = sorted(p for p in root.rglob("*") if p.is_file() and is_image_name(p.name)
                   and not any(part.startswith(".") for part in p.relative_to(root).parts))
    if not found:
        raise DatasetError(f"no images found under {root}")
    return found


@dataclass
class NegativeSplit:
    """Negatives to mine from, and negatives held out to measure on (never trained on)."""

    pool: list[Path]
    holdout: list[Path]


def split_negatives(paths: Sequence[Path], holdout_pct: float = 1 / 3,
                    seed: int = 42) -> NegativeSplit:
    """A seeded split of the negatives, fixed across rounds so rates stay comparable.

    It depends on the file names and the seed only, not on the order they were listed in.
    """
    if len(paths) < 2:
        raise DatasetError("hard-negative mining needs at least two negative images: "
                           "some to mine, some to measure on")
    order = sorted(paths, key=lambda p: (p.name, str(p)))
    random.Random(seed).shuffle(order)
    n_holdout = min(len(order) - 1, max(1, round(len(order) * holdout_pct)))
    return NegativeSplit(pool=sorted(order[n_holdout:]), holdout=sorted(order[:n_holdout]))


def with_background(positives: Dataset, negatives: Sequence[Path]) -> Dataset:
    """The positives plus ``negatives`` labelled :data:`NONE_CLASS`, without copying files.

    The positives keep their indices (they come first), so a validation split computed on
    the positives alone still points at the same images.
    """
    if NONE_CLASS in positives.classes:
        raise DatasetError(f"the positives already have a class named {NONE_CLASS!r}")
    extra = [Item(Path(p), (NONE_CLASS,)) for p in negatives]
    return replace(positives, items=[*positives.items, *extra],
                   classes=sorted([*positives.classes, NONE_CLASS]))


def decide(probs: np.ndarray, classes: Sequence[str], threshold: float) -> list[str | None]:
    """The answer the app would give: the top class if it is a real class and sure enough.

    ``None`` means "none of these": the top class is the background class, or its
    probability is under ``threshold``.
    """
    answers: list[str | None] = []
    for row in probs:
        top = int(np.argmax(row))
        name = classes[top]
        answers.append(None if name == NONE_CLASS or row[top] < threshold else name)
    return answers


def top_real(probs: np.ndarray, classes: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """Each image's most probable *real* class and its probability (background ignored)."""
    real = [j for j, c in enumerate(classes) if c != NONE_CLASS]
    sub = probs[:, real]
    best = sub.argmax(axis=1)
    return sub[np.arange(len(sub)), best], [classes[real[j]] for j in best]


@dataclass
class Candidate:
    """A negative from the pool, with the class the model mistakes it for and how surely."""

    path: Path
    label: str
    probability: float


@dataclass
class RoundResult:
    """What one round measured.

    ``fp_rate``: share of held-out negatives the model names a class for (lower is better).
    ``positive_accuracy``: share of the positives' validation images answered with their
    right class under the same rule (a background answer or an unsure one counts as wrong).
    ``accuracy``: plain argmax accuracy on those images, for reference.
    ``train_s``: training time of the round (0 when only the threshold moved).
    ``confusion``: counts of answers (columns) per truth (rows), both in the order of
    ``confusion_labels``: the classes, then :data:`NONE_CLASS`, whose row holds the
    held-out negatives and whose column every "none of these" answer (background or not
    sure enough).
    """

    round: int
    strategy: str
    n_negatives: int
    threshold: float
    fp_rate: float
    positive_accuracy: float
    accuracy: float
    false_positives: list[str] = field(default_factory=list)
    train_s: float = 0.0
    confusion_labels: list[str] = field(default_factory=list)
    confusion: list[list[int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A table row (JSON-ready)."""
        return asdict(self)


class HardNegativeMiner:
    """Rounds of mining on one positive dataset and one pool of negative images.

    Settings go in the constructor; the confirmed negatives, the rounds measured and the
    current model are attributes (``confirmed``, ``rounds``, ``result``).

    Parameters
    ----------
    positives : single-label training data.
    negatives : images that belong to none of its classes (mined and measured on).
    config : training settings; quick mode makes each round take seconds.
    strategy : ``"background"`` adds confirmed negatives as a class (in quick mode only its
        row is fitted, next to the round-0 class rows); ``"threshold"`` keeps the model and
        raises the confidence threshold until most of them are rejected.
    threshold : the confidence a prediction needs to count (both strategies).
    holdout_pct : share of the negatives held out from mining to measure on.
    reject_share : for ``"threshold"``, the share of confirmed negatives to reject.
    seed_negatives : pool images confirmed before round 0 (a seeded random pick), as the
        tutorial starts with a few negatives in its training set: round 0 then already
        knows a little of what "none of these" looks like.
    """

    def __init__(self, positives: Dataset, negatives: Sequence[Path],
                 config: TrainConfig | None = None, *, strategy: str = "background",
                 threshold: float = 0.5, holdout_pct: float = 1 / 3, seed: int = 42,
                 reject_share: float = 0.8, seed_negatives: int = 0) -> None:
        if positives.multi_label:
            raise StudioError("hard-negative mining here needs single-label data; a "
                              "multi-label model already answers 'none' when no label "
                              "passes its threshold (page 02)")
        if strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, not {strategy!r}")
        self.positives = positives
        self.config = config or TrainConfig(mode="quick")
        self.strategy = strategy
        self.base_threshold = self.threshold = float(threshold)
        self.reject_share = reject_share
        self.negatives = split_negatives([Path(p) for p in negatives], holdout_pct, seed)
        _, self.valid_idx = split(positives, self.config.valid_pct, self.config.seed)
        pool = self.negatives.pool
        self.confirmed: list[Path] = sorted(random.Random(seed).sample(
            pool, min(max(0, seed_negatives), len(pool))))
        self.rejected: set[Path] = set()
        self.rounds: list[RoundResult] = []
        self.result: TrainResult | None = None
        self._class_rows: dict[str, tuple[np.ndarray, float]] | None = None

    @property
    def trained(self) -> TrainResult:
        """The current round's model; there is none before the first round."""
        if self.result is None:
            raise StudioError("train a first round before scoring")
        return self.result

    def training_data(self) -> Dataset:
        """What the next round trains on."""
        if self.strategy == "background" and self.confirmed:
            return with_background(self.positives, self.confirmed)
        return self.positives

    def fit_round(self, progress: Progress | None = None) -> RoundResult:
        """Train (or, for ``threshold``, recalibrate) with what is confirmed, and measure."""
        from cvlib.training.train import train

        progress = progress or Progress()
        retrain = self.result is None or self.strategy == "background"
        if retrain:
            if self._class_rows is None and self._fits_background_row():
                progress.update(stage="round 0: your classes first")
                self.result = train(self.positives, self.config, progress=progress,
                                    valid_idx=self.valid_idx)
                self._class_rows = self._head_rows()
            self.result = train(self.training_data(), self.config, progress=progress,
                                valid_idx=self.valid_idx)
            if self._class_rows is None:
                self._class_rows = self._head_rows()
            elif self._fits_background_row():
                progress.update(stage="fitting the background row")
                self._keep_class_rows(self._class_rows)
        if self.strategy == "threshold":
            self.threshold = self._calibrated_threshold()
        progress.update(stage="measuring")
        outcome = self._measure(float(self.trained.timings["total_s"]) if retrain else 0.0)
        self.rounds.append(outcome)
        progress.add_record(outcome.to_dict())
        return outcome

    def _fits_background_row(self) -> bool:
        """Whether this round fits only the background row (quick mode, negatives known).

        The class rows it is fitted against always come from the positives alone, also
        when round 0 starts with seeded negatives.
        """
        return (self.strategy == "background" and self.config.mode == "quick"
                and bool(self.confirmed))

    def classes(self) -> list[str]:
        """The current model's classes (the background class included once added)."""
        return list(self.trained.meta["classes"])

    def score(self, paths: Sequence[Path]) -> np.ndarray:
        """The current model's probabilities for some images, shape (N, classes).

        In quick mode the backbone is unchanged, so cached features and the fitted head
        give exactly the saved network's output at a fraction of the cost.
        """
        if not paths:
            return np.zeros((0, len(self.classes())), np.float32)
        if self.config.mode == "quick":
            return self._score_from_features(paths)
        from cvlib.data.images import load_image
        from cvlib.models.inference import Predictor

        predictor = Predictor.from_network(self.trained.network, self.trained.meta)
        return predictor.predict_proba([load_image(p) for p in paths])

    def _score_from_features(self, paths: Sequence[Path]) -> np.ndarray:
        """Cached, view-averaged features through the trained linear head, then softmax."""
        from cvlib.models.preprocess import probabilities
        from cvlib.training.quick_train import head_logits

        return probabilities(head_logits(self._head(), self._features(paths)), False)

    def _head(self):
        """The current model's linear classifier (inside the test-time view averaging)."""
        network = self.trained.network
        return getattr(network, "net", network).get_classifier()

    def _head_rows(self) -> dict[str, tuple[np.ndarray, float]]:
        """Each class's weight row and bias in the current head, by class name."""
        head = self._head()
        weight, bias = head.weight.detach().numpy(), head.bias.detach().numpy()
        return {c: (weight[j].copy(), float(bias[j])) for j, c in enumerate(self.classes())}

    def _features(self, paths: Sequence[Path]) -> np.ndarray:
        """View-averaged backbone features of some images, from the cache when there."""
        from cvlib.training.features import FeatureSpec, extract_features

        spec = FeatureSpec.of(self.config, multi_label=False)
        return extract_features(list(paths), spec)[0]

    def _keep_class_rows(self, class_rows: dict[str, tuple[np.ndarray, float]]) -> None:
        """Put the round-0 class rows back and fit only the background row against them.

        Then the validation evidence is recomputed for the head actually kept.
        """
        import torch

        from cvlib.evaluation.metrics import evaluate

        valid = set(self.valid_idx)
        train_paths = [item.path for i, item in enumerate(self.positives.items)
                       if i not in valid]
        known = np.stack([w for w, _ in class_rows.values()])
        known_bias = np.array([b for _, b in class_rows.values()])
        row, bias = fit_background_row(self._features(train_paths),
                                       self._features(self.confirmed), known, known_bias,
                                       self.config.weight_decay)
        rows = {**class_rows, NONE_CLASS: (row, bias)}
        head = self._head()
        with torch.no_grad():
            for j, name in enumerate(self.classes()):
                head.weight[j] = torch.from_numpy(rows[name][0])
                head.bias[j] = rows[name][1]
        result = self.trained
        result.valid_probs = self._score_from_features(result.valid_paths)
        result.metrics = evaluate(result.valid_probs, result.valid_targets, self.classes())
        result.meta["metrics"] = {k: v for k, v in result.metrics.items()
                                  if k not in ("roc", "pr")}
        result.meta["head"] = {**result.meta.get("head", {}),
                               "background": "fitted against the round-0 class rows"}

    def candidates(self, k: int = 20) -> list[Candidate]:
        """The ``k`` pool images the model most confidently names a class for, unreviewed."""
        seen = set(self.confirmed) | self.rejected
        pool = [p for p in self.negatives.pool if p not in seen]
        probs = self.score(pool)
        best, labels = top_real(probs, self.classes())
        order = np.argsort(-best, kind="stable")[:k]
        return [Candidate(pool[i], labels[i], float(best[i])) for i in order]

    def add_negatives(self, paths: Sequence[Path]) -> None:
        """Confirm pool images as true negatives; the next round uses them."""
        allowed = set(self.negatives.pool)
        for path in map(Path, paths):
            if path not in allowed:
                raise StudioError(f"{path.name} is not in the mining pool (held-out "
                                  "negatives are never trained on)")
            if path not in self.confirmed:
                self.confirmed.append(path)

    def reject(self, paths: Sequence[Path]) -> None:
        """Mark reviewed pool images as *not* negatives (they show a class): never offered again."""
        self.rejected.update(map(Path, paths))

    def _calibrated_threshold(self) -> float:
        """The lowest threshold that rejects ``reject_share`` of the confirmed negatives."""
        if not self.confirmed:
            return self.base_threshold
        best, _ = top_real(self.score(self.confirmed), self.classes())
        wanted = float(np.quantile(best, self.reject_share)) + 1e-6
        return float(min(0.999, max(self.base_threshold, wanted)))

    def _measure(self, train_s: float) -> RoundResult:
        """False-positive rate on held-out negatives, accuracy on the positives' validation."""
        classes = self.classes()
        held = self.negatives.holdout
        answers = decide(self.score(held), classes, self.threshold)
        false_positives = [p.name for p, a in zip(held, answers, strict=True) if a is not None]
        result = self.trained
        truth = [classes[int(t)] for t in result.valid_targets]
        said = decide(result.valid_probs, classes, self.threshold)
        right = sum(a == t for a, t in zip(said, truth, strict=True))
        from sklearn.metrics import confusion_matrix

        labels = [*(c for c in classes if c != NONE_CLASS), NONE_CLASS]
        confusion = confusion_matrix(
            [*truth, *[NONE_CLASS] * len(held)],
            [a or NONE_CLASS for a in [*said, *answers]], labels=labels)
        return RoundResult(
            round=len(self.rounds), strategy=self.strategy, n_negatives=len(self.confirmed),
            threshold=round(self.threshold, 4),
            fp_rate=len(false_positives) / len(held),
            positive_accuracy=right / max(1, len(truth)),
            accuracy=float(result.metrics["accuracy"]), false_positives=false_positives,
            train_s=train_s, confusion_labels=labels, confusion=confusion.tolist())


def fit_background_row(positives: np.ndarray, negatives: np.ndarray, known: np.ndarray,
                       known_bias: np.ndarray, weight_decay: float = 1e-3,
                       max_iter: int = 300) -> tuple[np.ndarray, float]:
    """A background logit ``w·x + b`` learned next to fixed class logits ``known·x + bias``.

    With the class rows fixed, P(background | x) = sigmoid(w·x + b - logsumexp(class
    logits)): a logistic regression with that offset, fitted (L-BFGS, L2 ``weight_decay``,
    standardised features folded back in) on positive features (label 0) and negative
    features (label 1).  Returns the row and bias in raw feature space.
    """
    import torch
    from torch.nn import functional as F

    from cvlib.training.quick_train import lbfgs

    x = torch.from_numpy(np.concatenate([positives, negatives]).astype(np.float64))
    y = torch.cat([torch.zeros(len(positives)), torch.ones(len(negatives))]).double()
    mean, std = x.mean(0), x.std(0).clamp_min(1e-6)
    xs = (x - mean) / std
    offset = torch.logsumexp(x @ torch.from_numpy(known.T.astype(np.float64))
                             + torch.from_numpy(known_bias.astype(np.float64)), dim=1)

    def loss_of(w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        loss = F.binary_cross_entropy_with_logits(xs @ w + b - offset, y)
        return loss + 0.5 * weight_decay * w.pow(2).sum()

    w, b = lbfgs(loss_of, [(x.shape[1],), (1,)], max_iter=max_iter)
    row = (w / std).numpy().astype(np.float32)
    bias = float(b - (w * mean / std).sum())
    return row, bias
