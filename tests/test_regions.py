"""Region pooling: strips of the input, one shared head, a smooth maximum over regions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from cvlib.models.region_pool import (
    RegionPool,
    crop_regions,
    from_meta,
    pool_regions,
    region_weights,
)
from cvlib.models.regions import describe, preview, strip_boxes
from cvlib.runtime.progress import Progress
from cvlib.training.config import TrainConfig
from cvlib.training.features import FeatureSpec


def test_strips_are_the_whole_image_then_overlapping_full_height_bands():
    boxes = strip_boxes()
    assert boxes[0] == (0.0, 0.0, 1.0, 1.0)
    assert len(boxes) == 13
    for left, top, right, bottom in boxes:
        assert 0 <= left < right <= 1 + 1e-9 and (top, bottom) == (0.0, 1.0)
    widths = sorted({round(right - left, 3) for left, _, right, _ in boxes[1:]})
    assert widths == [0.333, 0.5, 0.667]


def test_a_crop_holds_only_its_own_part_of_the_image():
    x = torch.zeros(1, 3, 6, 6)
    x[..., :2] = 1.0  # the left third is bright, the rest dark
    left_third, right_half = crop_regions(x, [(0, 0, 1 / 3, 1), (0.5, 0, 1, 1)], size=4)
    assert left_third.shape == (3, 4, 4) and torch.all(left_third == 1.0)
    assert torch.all(right_half == 0.0)


def test_crops_are_grouped_image_by_image():
    x = torch.arange(2.0).view(2, 1, 1, 1).expand(2, 3, 4, 4)
    crops = crop_regions(x, strip_boxes(), size=2)
    assert crops.shape == (2 * 13, 3, 2, 2)
    assert torch.all(crops[:13] == 0) and torch.all(crops[13:] == 1)


def test_pooling_is_a_smooth_maximum_that_keeps_agreement():
    same = torch.full((1, 5, 2), 3.0)
    assert torch.allclose(pool_regions(same), torch.full((1, 2), 3.0))
    one_region_sees_it = torch.tensor([[[-4.0], [-4.0], [6.0]]])
    pooled = pool_regions(one_region_sees_it).item()
    assert 6.0 - np.log(3) / 5 - 1e-5 <= pooled < 6.0  # close to the max, not the mean
    weights = region_weights(one_region_sees_it)[0, :, 0]
    assert weights.argmax().item() == 2 and weights.sum().item() == pytest.approx(1.0)


class _MeanColour(nn.Module):
    """A stand-in classifier: its 'logit' is a crop's mean brightness."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(1, 2, 3))[:, None]

    def get_classifier(self) -> nn.Module:
        return nn.Identity()


def test_a_region_pooled_network_finds_a_small_bright_object():
    x = torch.zeros(1, 3, 12, 12)
    x[..., 8:12] = 10.0  # one object in the right third
    pooled = RegionPool(_MeanColour(), strip_boxes(), size=4)
    whole = _MeanColour()(x).item()
    assert whole == pytest.approx(10 / 3)
    # the right-third strip sees the object filling it, and a smooth maximum over 13
    # regions lies within log(13) / sharpness of the largest
    assert 10 - np.log(13) / 5 - 1e-4 <= pooled(x).item() <= 10
    rebuilt = from_meta(_MeanColour(), describe("strips", 4))
    assert torch.allclose(rebuilt(x), pooled(x))
    assert from_meta(_MeanColour(), None)(x).item() == pytest.approx(whole)


def test_multi_label_data_gets_strips_and_single_label_the_whole_image():
    config = TrainConfig(architecture="efficientnet_lite0")
    assert config.for_data(multi_label=True).regions == "strips"
    assert config.for_data(multi_label=False).regions == "whole"
    assert TrainConfig(regions="whole").for_data(multi_label=True).regions == "whole"
    strips = config.for_data(multi_label=True)
    assert strips.preprocessing().image_size == 2 * 224, "strips are cut from a larger input"
    assert strips.to_dict()["image_size"] == 224
    spec = FeatureSpec.of(config, multi_label=True)
    assert spec.backbone_size == 224 and spec.key.endswith("-strips")


def test_strips_with_mirrored_views_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="identity view"):
        TrainConfig(regions="strips", views=("identity", "hflip"))


def test_the_preview_shows_each_region_as_the_backbone_gets_it():
    from PIL import Image

    image = Image.new("RGB", (300, 200), "white")
    image.paste((255, 0, 0), (200, 0, 300, 200))  # red right third
    shown = preview(image, "strips", size=64)
    assert [caption for caption, _ in shown][:2] == ["whole image", "1/3 wide, from 0%"]
    assert all(crop.size == (64, 64) for _, crop in shown)
    right_third = dict(shown)["1/3 wide, from 67%"]
    assert right_third.getpixel((32, 32)) == (255, 0, 0)
    assert preview(image, "whole")[0][0] == "whole image"


def test_full_mode_fine_tunes_through_the_regions_and_saves_what_it_validated(tmp_path):
    """One epoch on the sample multi-label set: the whole region-pooled network trains."""
    from cvlib.data.dataset import load_dataset
    from cvlib.data.images import load_image
    from cvlib.models.inference import Predictor
    from cvlib.training.train import train

    dataset = load_dataset(Path(__file__).resolve().parent.parent / "sample_data"
                           / "fridge-multilabel")
    config = TrainConfig(mode="full", architecture="efficientnet_lite0", image_size=128,
                         epochs=1, batch_size=16)
    progress = Progress()
    result = train(dataset, config, progress=progress)
    records = progress.history
    assert result.meta["regions"]["size"] == 128
    assert result.meta["preprocessing"]["image_size"] == 256
    assert [r["stage"] for r in records] == ["linear probe", "fine-tune"]
    assert records[1]["valid_loss"] > 0
    assert result.metrics["loss"] <= records[0]["valid_loss"] + 1e-4, "never below the probe"
    folder = result.save(tmp_path / "full")
    saved = Predictor.load(folder).predict_proba([load_image(p) for p in result.valid_paths])
    np.testing.assert_allclose(saved, result.valid_probs, atol=2e-3)
