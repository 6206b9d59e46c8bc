"""Every setting of a training run, importable without torch (pages build it first).

The defaults are the measured CPU recipe: README, "Choosing the defaults", says how they
were chosen and on what data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from cvlib.preprocess import Preprocessing
from cvlib.registry import get_spec

MODES = ("quick", "full")
SCHEDULES = ("one_cycle", "flat")
"""Learning-rate schedules of full training: fastai's one-cycle, or a constant rate."""


@dataclass
class TrainConfig:
    """Every setting of a training run (scikit-learn style: settings here, state elsewhere).

    The defaults are the measured CPU recipe (see README, "Choosing the defaults").
    """

    mode: str = "quick"
    architecture: str = "efficientnet_lite2"
    image_size: int | None = None
    resize: str = "squish"
    views: tuple[str, ...] = ("identity",)
    weight_decay: float = 1e-2
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

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {self.mode!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, not {self.schedule!r}")
        self.views = tuple(self.views)

    def preprocessing(self) -> Preprocessing:
        """The backbone's preprocessing at this run's image size."""
        base = get_spec(self.architecture).preprocessing
        cfg = base.with_size(self.image_size or base.image_size)
        return Preprocessing(cfg.image_size, cfg.mean, cfg.std, self.resize, cfg.interpolation)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready settings, stored in the model and the run record."""
        data = asdict(self)
        data["views"] = list(self.views)
        data["image_size"] = self.preprocessing().image_size
        return data


def with_overrides(config: TrainConfig, **changes: Any) -> TrainConfig:
    """A copy of ``config`` with some settings changed (sweeps, presets, the CLI)."""
    return replace(config, **{k: v for k, v in changes.items() if v is not None})
