"""Region pooling: look at each part of the image, then say which classes appear anywhere.

A multi-label photo of three products side by side is hard for a network that sees the
whole image at once: global average pooling blends the three products into one feature
vector, and a linear head on that blend cannot tell "juice + water" from "a bit of both
everywhere".  Region pooling is multiple-instance learning (Ilse et al., 2018) with
sliding windows (OverFeat, Sermanet et al., 2014): the backbone sees the whole image and
a set of overlapping vertical strips (a third, a half and two thirds of the width, every
sixth), each resized to the backbone's own input size; one shared head scores every
region; a class's image-level score is a smooth maximum over the regions
(log-sum-exp, ``(logsumexp(r * z) - log K) / r``).  Training needs only image-level label
sets: the smooth maximum lets each class find the region that shows it.

On groceries4-multilabel this lifts exact-match accuracy of the quick mode from about 0.5
to about 0.75 (README, "Choosing the defaults").  It costs one backbone pass per region
(13), which is why single-label data keeps the whole-image layout.

This module says which regions there are and needs no torch (pages draw them);
:mod:`cvlib.models.region_pool` is the network that reads them.
"""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

REGION_LAYOUTS = ("whole", "strips")
INPUT_SCALE = {"whole": 1, "strips": 2}
"""Model input side over backbone input side: strips are cut from an input twice the
backbone's size, so a third of the width still has most of its pixels."""

SHARPNESS = 5.0
"""``r`` of the smooth maximum: 0 would average the regions, infinity take the maximum.
5 was best of 2, 3, 5 and 10 on groceries4-multilabel over five seeded splits."""

STRIP_WIDTHS = (1 / 3, 1 / 2, 2 / 3)
STRIP_STRIDE = 1 / 6

Box = tuple[float, float, float, float]
"""A region as fractions of the input: (left, top, right, bottom)."""


def strip_boxes() -> list[Box]:
    """The whole image, then overlapping full-height strips: 13 boxes in all."""
    boxes: list[Box] = [(0.0, 0.0, 1.0, 1.0)]
    for width in STRIP_WIDTHS:
        steps = round((1 - width) / STRIP_STRIDE)
        boxes += [(k * STRIP_STRIDE, 0.0, k * STRIP_STRIDE + width, 1.0)
                  for k in range(steps + 1)]
    return boxes


def boxes_for(layout: str) -> list[Box]:
    """The regions of a layout: ``"whole"`` is the image itself, ``"strips"`` 13 boxes."""
    if layout not in REGION_LAYOUTS:
        raise ValueError(f"unknown region layout {layout!r}; known: {REGION_LAYOUTS}")
    return strip_boxes() if layout == "strips" else [(0.0, 0.0, 1.0, 1.0)]


def images_per_batch(batch_size: int, layout: str) -> int:
    """Images in a batch of ``batch_size`` backbone inputs (at least one).

    The backbone runs once per region, so counting its inputs rather than images keeps
    memory flat whatever the layout; features, fine-tuning and prediction all batch so.
    """
    return max(1, batch_size // len(boxes_for(layout)))


def describe(layout: str, backbone_size: int) -> dict[str, object] | None:
    """The ``regions`` entry of ``model.json`` (``None`` for the whole image), from which
    :func:`cvlib.models.region_pool.from_meta` rebuilds the pooling."""
    if layout == "whole":
        return None
    return {"layout": layout, "boxes": [list(box) for box in boxes_for(layout)],
            "size": backbone_size, "sharpness": SHARPNESS}


def pixel_box(box: Sequence[float], width: int, height: int) -> tuple[int, int, int, int]:
    """A fractional box in pixels of a ``width`` x ``height`` image (the network's rounding)."""
    left, top, right, bottom = box
    return round(left * width), round(top * height), round(right * width), round(bottom * height)


def describe_box(box: Box) -> str:
    """A box in words, for captions: ``whole image`` or ``1/3 wide, from 17%``."""
    left, _, right, _ = box
    if (left, right) == (0.0, 1.0):
        return "whole image"
    names = {round(w, 3): n for w, n in zip(STRIP_WIDTHS, ("1/3", "1/2", "2/3"), strict=True)}
    return f"{names.get(round(right - left, 3), f'{right - left:.2f}')} wide, from {left:.0%}"


def preview(image: Image.Image, layout: str = "strips", size: int = 160
            ) -> list[tuple[str, Image.Image]]:
    """What the backbone is shown: every region of ``image`` squished to a square, captioned."""
    image = image.convert("RGB")
    return [(describe_box(box), image.crop(pixel_box(box, *image.size)).resize((size, size)))
            for box in boxes_for(layout)]
