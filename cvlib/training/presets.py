"""Named model presets: a backbone and an image size, chosen for what the machine can afford.

Accuracy, speed and size trade against each other through two knobs: how big the network
is (EfficientNet-Lite0 has 4.7 M parameters, Lite2 6.1 M) and how many pixels it looks at
(compute grows with the square of the side).  A preset names one point on that trade-off
so people can compare a handful of sensible choices instead of every combination; page 03
trains each on the user's data and measures it on the user's machine.  Torch-free.
"""

from __future__ import annotations

from dataclasses import dataclass

from cvlib.errors import StudioError
from cvlib.models.registry import get_spec
from cvlib.training.config import TrainConfig


@dataclass(frozen=True)
class Preset:
    """One point on the accuracy / speed / size trade-off.

    Parameters
    ----------
    name : short name shown in tables and plots.
    architecture : registry name of the backbone.
    image_size : side in pixels the images are resized to.
    purpose : one sentence on when to pick it.
    mode : how it trains by default: ``quick`` (the last layer) or ``full`` (everything).
    epochs : epochs of full training.
    """

    name: str
    architecture: str
    image_size: int
    purpose: str
    mode: str = "quick"
    epochs: int = 3

    def config(self, mode: str | None = None, **changes) -> TrainConfig:
        """The training settings of this preset (``mode`` None: the preset's own mode)."""
        return TrainConfig(**{"mode": mode or self.mode, "architecture": self.architecture,
                              "image_size": self.image_size, "epochs": self.epochs,
                              **changes})

    @property
    def params(self) -> int:
        """Parameters of the backbone with its ImageNet head (the registry's figure)."""
        return get_spec(self.architecture).params


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("tiny", "efficientnet_lite0", 128,
           "A tiny input on the smallest network: the fastest, for many streams or a "
           "microcontroller-class board; small objects get lost."),
    Preset("small", "efficientnet_lite0", 160,
           "Fewest pixels that still keep most detail: phones, a Raspberry Pi."),
    Preset("fast", "efficientnet_lite0", 224,
           "The smallest network at its native size: a laptop CPU in real time."),
    Preset("balanced", "efficientnet_lite1", 240,
           "A wider, deeper network at its native size: more detail for a little more time."),
    Preset("accurate", "efficientnet_lite2", 260,
           "The largest offline network at its native size: the studio's default."),
    Preset("accurate-full", "efficientnet_lite2", 260,
           "The same network with every layer fine-tuned for 3 epochs: the most accurate "
           "this machine affords, minutes of training on a CPU, as fast to run as 'accurate'.",
           mode="full", epochs=3),
)}
"""Ordered from cheapest to most expensive to train; all work offline."""

WORKSHOP_PRESETS = ("tiny", "fast")
"""Two quick presets that train and time in well under two minutes on a laptop CPU."""

WORKSHOP_TRAINING: dict[str, object] = {
    "mode": "full", "architecture": "efficientnet_lite0", "image_size": 128, "epochs": 3,
    "lr": 1e-3, "batch_size": 16}
"""Page 01's workshop preset: a *full* training run small enough to watch live (about two
minutes on a laptop CPU with the sample data), so the curves have epochs to show."""

WORKSHOP_GRID: dict[str, list[object]] = {"lr": [1e-5, 1e-3, 1e-1]}
"""Page 11's workshop grid: three learning rates of full training (settings below), the
setting that matters most and that quick mode cannot show.  Two decades apart, so each
shows one side of the rule of thumb (``bench/sweep.py --workshop`` prints the figures):
1e-5 barely moves the quick head, 1e-3 improves it, 1e-1 makes the validation loss jump
and accuracy fall to chance.  1e-2 was measured too: its one-cycle schedule ends so low
that by the last epoch it had mostly recovered, which hid the jump."""

WORKSHOP_GRID_FIXED: dict[str, object] = {
    "mode": "full", "architecture": "efficientnet_lite0", "image_size": 96, "epochs": 3,
    "batch_size": 16}
"""What every cell of page 11's workshop grid shares: small and short, a few minutes in all.
Three epochs rather than two: with two, 1e-3 had no epoch left at a low rate to settle
in, and on the sample data its last epoch ended below the quick head it started from."""


def get_preset(name: str) -> Preset:
    """The preset called ``name``; unknown names list the valid ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise StudioError(f"Unknown preset {name!r}. Presets: {', '.join(PRESETS)}.") from None


def list_presets() -> list[str]:
    """Preset names, cheapest first."""
    return list(PRESETS)
