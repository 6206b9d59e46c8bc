"""Full training: fine-tune the whole network with fastai, from the quick mode's head.

The loop is fastai's (``Learner.fit_one_cycle``, freeze / unfreeze, ``lr_find``); what the
studio adds are callbacks, fastai's one extension point: progress for the UI, Stop between
batches, BatchNorm statistics kept frozen (small batches of a small data set would otherwise
wreck the ImageNet statistics), and the best weights seen on validation kept in memory, so a
stopped or overfitting run still ends with its best model.

Images go through :func:`cvlib.models.preprocess.preprocess` after augmentation, exactly as at
prediction time; fastai only sees plain PyTorch data loaders.
"""

from __future__ import annotations

import copy
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from fastai.callback.core import Callback, CancelFitException
from fastai.callback.schedule import fit_one_cycle, lr_find  # noqa: F401 - patch Learner
from fastai.data.core import DataLoaders
from fastai.learner import Learner
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader
from torchvision.transforms import v2 as T

from cvlib.data.images import load_image
from cvlib.models.preprocess import Preprocessing, preprocess, probabilities
from cvlib.models.regions import images_per_batch
from cvlib.runtime.progress import Progress

if TYPE_CHECKING:
    from cvlib.data.dataset import Dataset
    from cvlib.training.config import TrainConfig


def augmentation(size: int, reframe: bool = True) -> T.Compose:
    """Mild, label-preserving changes: framing, mirror, small tilt, light and colour.

    ``reframe=False`` leaves out the random crop: on multi-label images it could cut away
    a product whose label the image keeps.
    """
    framing = ([T.RandomResizedCrop(size, scale=(0.6, 1.0), ratio=(0.8, 1.25), antialias=True)]
               if reframe else [])
    return T.Compose([
        *framing,
        T.RandomHorizontalFlip(),
        T.RandomRotation(10),
        T.ColorJitter(brightness=0.25, contrast=0.25, saturation=0.2, hue=0.02),
    ])


class ImageSet(torch.utils.data.Dataset):
    """Decoded images in memory, with optional augmentation, fed through our preprocessing."""

    def __init__(self, images: Sequence[Image.Image], targets: np.ndarray,
                 cfg: Preprocessing, augment: bool, reframe: bool = True) -> None:
        self.images, self.cfg = list(images), cfg
        self.targets = torch.as_tensor(np.asarray(targets))
        self.transform = augmentation(cfg.image_size, reframe) if augment else None

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        img = self.images[i]
        if self.transform is not None:
            img = self.transform(img)
        return torch.from_numpy(preprocess(img, self.cfg)), self.targets[i]


class ReportProgress(Callback):
    """Forwards batches and epochs to a :class:`Progress`; stops the fit when asked.

    Each epoch's record holds the training set's loss and accuracy beside the validation
    set's, so the live chart can show under- and overfitting.  The training figures are
    averaged over the epoch's batches, as the network saw them (augmented, while its
    weights moved): the usual convention, and free, since no extra pass is needed.
    """

    order = 90

    def __init__(self, progress: Progress, epoch_offset: int, total_epochs: int,
                 multi_label: bool) -> None:
        self.progress, self.offset, self.total_epochs = progress, epoch_offset, total_epochs
        self.scores = accuracy_metrics(multi_label)
        self._sums: dict[str, float] = {}

    def before_epoch(self) -> None:
        self._sums = {"n": 0.0, "loss": 0.0, **{f.__name__: 0.0 for f in self.scores}}

    def before_batch(self) -> None:
        if self.progress.cancelled:
            raise CancelFitException()

    def after_batch(self) -> None:
        if not self.training:
            return
        n = float(len(self.yb[0]))
        loss = float(self.loss.detach())
        self._sums["n"] += n
        self._sums["loss"] += n * loss
        for score in self.scores:
            self._sums[score.__name__] += n * float(score(self.pred.detach(), self.yb[0]))
        self.progress.update(stage="fine-tuning", epoch=self.offset + self.epoch + 1,
                             total_epochs=self.total_epochs, step=self.iter + 1,
                             total=self.n_iter, train_loss=loss)

    def after_epoch(self) -> None:
        values = self.recorder.log  # [epoch, train_loss, valid_loss, *metrics, time]
        n = max(1.0, self._sums["n"])
        record = {"epoch": self.offset + self.epoch + 1, "stage": "fine-tune",
                  "train_loss": self._sums["loss"] / n, "valid_loss": float(values[2])}
        for i, score in enumerate(self.scores):
            record[f"train_{score.__name__}"] = self._sums[score.__name__] / n
            record[score.__name__] = float(values[3 + i])
        self.progress.add_record(record)


class KeepBest(Callback):
    """Remembers the weights with the lowest validation loss, the starting ones included.

    ``best_epoch`` counts epochs over every fit it is used in (freeze, then unfreeze), as
    the training curve numbers them; 0 means no epoch beat the starting head, which a
    sweep reports because the kept model's accuracy then says nothing about the training.
    """

    order = 95

    def __init__(self, start_loss: float, start_state: dict[str, torch.Tensor]) -> None:
        self.best_loss = start_loss
        self.best_state = copy.deepcopy(start_state)
        self.improved = False
        self.epochs_seen, self.best_epoch = 0, 0

    def after_epoch(self) -> None:
        valid_loss = float(self.recorder.log[2])
        self.epochs_seen += 1
        if valid_loss < self.best_loss:
            self.best_loss, self.improved = valid_loss, True
            self.best_epoch = self.epochs_seen
            self.best_state = copy.deepcopy(self.learn.model.state_dict())


class FrozenBatchNorm(Callback):
    """Keeps BatchNorm layers in eval mode during training (ImageNet statistics stay)."""

    def before_epoch(self) -> None:
        for module in self.learn.model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()

    before_train = before_epoch


def accuracy_metrics(multi_label: bool) -> list:
    """fastai metrics named as :func:`cvlib.evaluation.metrics.evaluate` names them.

    ``accuracy`` is argmax accuracy, or for multi-label the exact match at 0.5 (the whole
    label set right), as the quick head's point and the saved model's metrics are;
    multi-label adds ``hamming_accuracy``, the share of right yes/no decisions.
    """
    def accuracy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if multi_label:
            return ((logits.sigmoid() >= 0.5).float() == target).all(dim=1).float().mean()
        return (logits.argmax(dim=1) == target).float().mean()

    def hamming_accuracy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return ((logits.sigmoid() >= 0.5).float() == target).float().mean()

    return [accuracy, hamming_accuracy] if multi_label else [accuracy]


def make_learner(network: nn.Module, train_set: ImageSet, valid_set: ImageSet,
                 batch_size: int, multi_label: bool, seed: int, path: Path) -> Learner:
    """A fastai Learner over plain PyTorch loaders, body and head as two parameter groups.

    ``path`` is where fastai may write scratch files (only ``lr_find`` does).
    """
    generator = torch.Generator().manual_seed(seed)
    train_dl = DataLoader(train_set, batch_size=batch_size, shuffle=True, drop_last=False,
                          generator=generator)
    valid_dl = DataLoader(valid_set, batch_size=batch_size * 2)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    dls = DataLoaders(train_dl, valid_dl, device=device)
    loss = nn.BCEWithLogitsLoss() if multi_label else nn.CrossEntropyLoss()
    head_ids = {id(p) for p in network.get_classifier().parameters()}

    def splitter(model: nn.Module) -> list[list[nn.Parameter]]:
        params = list(model.parameters())
        return [[p for p in params if id(p) not in head_ids],
                [p for p in params if id(p) in head_ids]]

    # channels-last memory is about 1.5x faster for these convolutions on CPUs and GPUs alike
    network = network.to(device, memory_format=torch.channels_last)
    learn = Learner(dls, network, loss_func=loss, splitter=splitter,
                    metrics=accuracy_metrics(multi_label), path=path,
                    cbs=[FrozenBatchNorm()])
    return learn.to_fp16() if device == "cuda" else learn


@dataclass
class FineTuneOutcome:
    """The network with its best weights, its validation probabilities, whether stopped,
    and the epoch whose weights were kept (0: the starting head, no epoch beat it)."""

    network: nn.Module
    valid_probs: np.ndarray
    stopped: bool
    kept_epoch: int = 0


def _image_sets(dataset: Dataset, train_idx: list[int], valid_idx: list[int],
                config: TrainConfig) -> tuple[ImageSet, ImageSet]:
    """Decode every image once; augmentation then works on in-memory copies."""

    cfg = config.preprocessing()
    images = {i: load_image(dataset.items[i][0]) for i in [*train_idx, *valid_idx]}
    train_set = ImageSet([images[i] for i in train_idx], dataset.targets(train_idx),
                         cfg, config.augment, reframe=not dataset.multi_label)
    valid_set = ImageSet([images[i] for i in valid_idx], dataset.targets(valid_idx),
                         cfg, False)
    return train_set, valid_set


def fine_tune(network: nn.Module, dataset: Dataset, train_idx: list[int],
              valid_idx: list[int], config: TrainConfig, progress: Progress) -> FineTuneOutcome:
    """Fine-tune ``network`` (head already fitted) and return its best version."""
    train_set, valid_set = _image_sets(dataset, train_idx, valid_idx, config)
    learn = make_learner(network, train_set, valid_set,
                         images_per_batch(config.batch_size, config.layout),
                         dataset.multi_label, config.seed, Path(tempfile.gettempdir()))
    total = config.freeze_epochs + config.epochs
    with learn.no_logging(), learn.no_bar():
        keep = KeepBest(float(learn.validate()[0]), learn.model.state_dict())
        if config.freeze_epochs:
            learn.freeze()
            _fit(learn, config.freeze_epochs, config.lr * 10, config.schedule,
                 [ReportProgress(progress, 0, total, dataset.multi_label), keep])
        if config.epochs and not progress.cancelled:
            learn.unfreeze()
            _fit(learn, config.epochs, slice(config.lr / 10, config.lr), config.schedule,
                 [ReportProgress(progress, config.freeze_epochs, total,
                                 dataset.multi_label), keep])
    model = learn.model.float().to("cpu").to(memory_format=torch.contiguous_format)
    if not keep.improved:
        progress.log("fine-tuning did not beat the quick head on validation; kept the head")
    model.load_state_dict({k: v.float().cpu() for k, v in keep.best_state.items()})
    return FineTuneOutcome(model.eval(), _valid_probs(model, valid_set, config,
                                                      dataset.multi_label),
                           progress.cancelled, keep.best_epoch)


def _fit(learn: Learner, epochs: int, lr, schedule: str, cbs: list[Callback]) -> None:
    """Train with the configured schedule: one-cycle (warm up, then anneal) or a flat rate.

    One-cycle is fastai's default and usually better; the flat rate is there so a sweep can
    show how much the schedule itself is worth.
    """
    if schedule == "flat":
        learn.fit(epochs, lr, cbs=cbs)
    else:
        learn.fit_one_cycle(epochs, lr, cbs=cbs)


@torch.inference_mode()
def _set_logits(model: nn.Module, image_set: ImageSet, config: TrainConfig) -> np.ndarray:
    """Logits of the final network on an un-augmented image set, with the views as saved."""
    from cvlib.models.checkpoint import ViewAverage

    net = ViewAverage(model.eval(), config.views)
    step = images_per_batch(32, config.layout)
    outs = [net(torch.stack([image_set[i][0] for i in range(s, min(s + step, len(image_set)))]))
            for s in range(0, len(image_set), step)]
    return torch.cat(outs).numpy()


def _valid_probs(model: nn.Module, valid_set: ImageSet, config: TrainConfig,
                 multi_label: bool) -> np.ndarray:
    """Validation probabilities of the final network, with the same views as saved."""
    return probabilities(_set_logits(model, valid_set, config), multi_label)


def network_logits(model: nn.Module, paths: Sequence[Path], config: TrainConfig) -> np.ndarray:
    """Logits of a fine-tuned network on photos (a test folder), preprocessed as validation."""
    images = [load_image(path) for path in paths]
    targets = np.zeros(len(images), np.int64)
    return _set_logits(model, ImageSet(images, targets, config.preprocessing(), False), config)


@dataclass
class LRFinderResult:
    """fastai's learning-rate sweep: the loss at each rate, and the suggested rate."""

    lrs: list[float]
    losses: list[float]
    suggestion: float


class FinderProgress(Callback):
    """Steps of the learning-rate finder for a :class:`Progress`; Stop ends the sweep."""

    order = 90

    def __init__(self, progress: Progress, num_it: int) -> None:
        self.progress, self.num_it = progress, num_it

    def before_batch(self) -> None:
        if self.progress.cancelled:
            raise CancelFitException()

    def after_batch(self) -> None:
        if self.training:
            self.progress.update(stage="finding a learning rate", step=self.train_iter,
                                 total=self.num_it)


def find_lr(network: nn.Module, dataset: Dataset, train_idx: list[int],
            valid_idx: list[int], config: TrainConfig, progress: Progress | None = None,
            num_it: int = 50) -> LRFinderResult:
    """Run fastai's ``lr_find`` (valley suggestion) on the whole network; weights restored.

    ``progress`` sees every step; a Stop ends the sweep and raises
    :class:`cvlib.errors.Cancelled` (a partial sweep suggests nothing trustworthy).
    """
    from cvlib.errors import Cancelled

    progress = progress or Progress()
    train_set, valid_set = _image_sets(dataset, train_idx, valid_idx, config)
    with tempfile.TemporaryDirectory() as scratch:
        learn = make_learner(network, train_set, valid_set,
                             images_per_batch(config.batch_size, config.layout),
                             dataset.multi_label, config.seed, Path(scratch))
        learn.unfreeze()
        try:
            with learn.no_bar(), learn.added_cbs(FinderProgress(progress, num_it)):
                suggestion = learn.lr_find(num_it=num_it, show_plot=False)
        except Exception:
            if progress.cancelled:  # too few points for a suggestion: the stop explains it
                raise Cancelled("stopped on request") from None
            raise
    if progress.cancelled:
        raise Cancelled("stopped on request")
    return LRFinderResult([float(x) for x in learn.recorder.lrs],
                          [float(x) for x in learn.recorder.losses],
                          float(suggestion.valley))
