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
from cvlib.registry import get_spec
from cvlib.train_config import TrainConfig


@dataclass(frozen=True)
class Preset:
    """One point on the accuracy / speed / size trade-off.

    Parameters
    ----------
    name : short name shown in tables and plots.
    architecture : registry name of the backbone.
    image_size : side in pixels the images are resized to.
    purpose : one sentence on when to pick it.
    """

    name: str
    architecture: str
    image_size: int
    purpose: str

    def config(self, mode: str = "quick", **changes) -> TrainConfig:
        """The training settings of this preset (other settings keep their defaults)."""
        return TrainConfig(mode=mode, architecture=self.architecture,
                           image_size=self.image_size, **changes)

    @property
    def params(self) -> int:
        """Parameters of the backbone with its ImageNet head (the registry's figure)."""
        return get_spec(self.architecture).params


PRESETS: dict[str, Preset] = {p.name: p for p in (
    Preset("small", "efficientnet_lite0", 160,
           "Fewest pixels on the smallest network: phones, a Raspberry Pi, many streams."),
    Preset("fast", "efficientnet_lite0", 224,
           "The smallest network at its native size: a laptop CPU in real time."),
    Preset("balanced", "efficientnet_lite1", 240,
           "A wider, deeper network at its native size: more detail for a little more time."),
    Preset("accurate", "efficientnet_lite2", 260,
           "The largest offline network at its native size: best accuracy, slowest."),
)}
"""Ordered from cheapest to most expensive; all four work offline."""

WORKSHOP_PRESETS = ("small", "fast")
"""The two that train and time in well under two minutes on a laptop CPU with sample data."""


def get_preset(name: str) -> Preset:
    """The preset called ``name``; unknown names list the valid ones."""
    try:
        return PRESETS[name]
    except KeyError:
        raise StudioError(f"Unknown preset {name!r}. Presets: {', '.join(PRESETS)}.") from None


def list_presets() -> list[str]:
    """Preset names, cheapest first."""
    return list(PRESETS)
