"""Every setting of a training run, importable without torch (pages build it first).

The defaults are the measured CPU recipe: README, "Choosing the defaults", says how they
were chosen and on what data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from cvlib.models.preprocess import Preprocessing
from cvlib.models.regions import INPUT_SCALE, REGION_LAYOUTS
from cvlib.models.registry import get_spec

MODES = ("quick", "full")
SCHEDULES = ("one_cycle", "flat")
"""Learning-rate schedules of full training: fastai's one-cycle, or a constant rate."""
REGIONS = ("auto", *REGION_LAYOUTS)
"""What the backbone looks at (see :mod:`cvlib.models.regions`): the whole image, or overlapping
strips pooled by a smooth maximum; ``auto`` picks strips for multi-label data."""

TRAIN_VIEWS = ("identity", "hflip", "zoom", "zoom_hflip")
"""Views of a training photo the quick head may learn from (feature-space augmentation):
``zoom`` is the central 80%, as a random-resized crop of fine-tuning would often give."""
RECORDED_BEFORE = {"fit_on_all": False, "estimate_folds": 0, "train_views": ("identity",)}
"""What runs recorded before these settings existed did, so a re-run repeats them."""


@dataclass
class TrainConfig:
    """Every setting of a training run (scikit-learn style: settings here, state elsewhere).

    The defaults are the measured CPU recipe (see README, "Choosing the defaults").
    ``fit_on_all`` refits the quick head on every photo once validation has measured it;
    ``estimate_folds`` cross-validates the accuracy shown as the one to expect (quick mode,
    single-label; 0 shows the validation accuracy instead); ``train_views`` are the views
    of each training photo the head learns from (:data:`TRAIN_VIEWS`).
    """

    mode: str = "quick"
    architecture: str = "efficientnet_lite2"
    image_size: int | None = None
    resize: str = "squish"
    views: tuple[str, ...] = ("identity",)
    regions: str = "auto"
    weight_decay: float = 3e-3  # bench/recipes.py: 3e-3 and 1e-3 both beat 1e-2 on the mean
    standardize: bool = False
    label_smoothing: float = 0.0
    epochs: int = 3
    freeze_epochs: int = 0
    lr: float = 2e-4
    batch_size: int = 16
    augment: bool = True
    dropout: float = 0.0
    schedule: str = "one_cycle"
    valid_pct: float = 0.2
    seed: int = 42
    fit_on_all: bool = True
    estimate_folds: int = 5
    train_views: tuple[str, ...] = ("identity", "hflip")

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {self.mode!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, not {self.schedule!r}")
        if self.regions not in REGIONS:
            raise ValueError(f"regions must be one of {REGIONS}, not {self.regions!r}")
        self.views = tuple(self.views)
        self.train_views = tuple(self.train_views)
        unknown = sorted(set(self.train_views) - set(TRAIN_VIEWS))
        if unknown or not self.train_views:
            raise ValueError(f"train_views must be some of {TRAIN_VIEWS}, not {unknown or '()'}")
        if self.regions == "strips" and self.views != ("identity",):
            raise ValueError("strips already look at every part of the image; "
                             "use them with the identity view only")

    @classmethod
    def from_record(cls, settings: dict[str, Any]) -> TrainConfig:
        """The config a recorded run used; settings older records lack get the values those
        runs had (before the final fit on all photos and feature-space augmentation)."""
        return cls(**{**RECORDED_BEFORE, **settings})

    def for_data(self, multi_label: bool) -> TrainConfig:
        """This config with ``regions="auto"`` decided for single- or multi-label data."""
        if self.regions != "auto":
            return self
        if multi_label and self.views == ("identity",):
            return replace(self, regions="strips")
        return replace(self, regions="whole")

    @property
    def layout(self) -> str:
        """The region layout in force (``auto`` counts as whole until :meth:`for_data`)."""
        return "whole" if self.regions == "auto" else self.regions

    @property
    def backbone_size(self) -> int:
        """Side of the backbone's input in pixels (the registry default unless set)."""
        return self.image_size or get_spec(self.architecture).preprocessing.image_size

    def preprocessing(self) -> Preprocessing:
        """How images become this run's model input: the backbone's normalisation, at the
        backbone size (whole image) or at the larger size strips are cut from."""
        cfg = get_spec(self.architecture).preprocessing
        side = self.backbone_size * INPUT_SCALE[self.layout]
        return Preprocessing(side, cfg.mean, cfg.std, self.resize, cfg.interpolation)

    def describe(self) -> str:
        """What the network is shown, in words (captions, the workshop notice).

        >>> TrainConfig(architecture="efficientnet_lite0", image_size=224).describe()
        'EfficientNet-Lite0 looking at the whole photo at 224 px'
        """
        spec = get_spec(self.architecture)
        name = (f"EfficientNet-Lite{spec.lite_index}" if spec.lite_index is not None
                else spec.name.replace("resnet", "ResNet-"))
        side = self.backbone_size
        if self.layout == "strips":
            seen = (f"13 regions of the photo at {side} px each, cut from the photo "
                    f"resized to {side * INPUT_SCALE['strips']} px")
        else:
            seen = f"the whole photo at {side} px"
        if "hflip" in self.views:
            seen += ", averaged with its mirror image"
        return f"{name} looking at {seen}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings, stored in the model and the run record."""
        data = asdict(self)
        data["views"] = list(self.views)
        data["train_views"] = list(self.train_views)
        data["image_size"] = self.backbone_size
        return data


def with_overrides(config: TrainConfig, **changes: Any) -> TrainConfig:
    """A copy of ``config`` with some settings changed (sweeps, presets, the CLI)."""
    return replace(config, **{k: v for k, v in changes.items() if v is not None})
