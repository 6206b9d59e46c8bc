"""Grad-CAM points at the evidence for the class asked about, for every network we save."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageOps
from skimage import data as skdata

from cvlib.models.explain import GradCam, colorize, heatmap_box, overlay_heatmap
from cvlib.models.preprocess import Preprocessing
from tests.samples import FRIDGE4, QUICK, photos


@pytest.fixture(scope="module")
def imagenet_cam() -> GradCam:
    return GradCam.pretrained("efficientnet_lite0")


@pytest.fixture(scope="module")
def cat_and_coffee() -> Image.Image:
    """Chelsea the cat on the left half, a cup of espresso on the right half."""
    pair = Image.new("RGB", (448, 224))
    pair.paste(Image.fromarray(skdata.chelsea()).resize((224, 224)), (0, 0))
    pair.paste(Image.fromarray(skdata.coffee()).resize((224, 224)), (224, 0))
    return pair


def left_share(heatmap: np.ndarray) -> float:
    """Fraction of the heatmap's mass in the left half of the image."""
    return float(heatmap[:, : heatmap.shape[1] // 2].sum() / heatmap.sum())


def test_heatmap_is_a_normalised_map_at_the_input_size(imagenet_cam, cat_and_coffee):
    from cvlib.models.backbones import imagenet_classes

    heatmap = imagenet_cam.heatmap(cat_and_coffee, imagenet_classes().index("Egyptian cat"))
    assert heatmap.shape == (224, 224) and heatmap.dtype == np.float32
    assert heatmap.min() >= 0 and heatmap.max() == pytest.approx(1.0)


def test_each_class_lights_up_its_own_object(imagenet_cam, cat_and_coffee):
    from cvlib.models.backbones import imagenet_classes

    classes = imagenet_classes()
    cat = imagenet_cam.heatmap(cat_and_coffee, classes.index("Egyptian cat"))
    espresso = imagenet_cam.heatmap(cat_and_coffee, classes.index("espresso"))
    assert left_share(cat) > 0.8, "the cat's evidence is on the left"
    assert left_share(espresso) < 0.4, "the espresso's evidence is on the right"


@pytest.fixture(scope="module")
def mirrored_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A quick model that averages each image with its mirror (a ViewAverage network)."""
    from dataclasses import replace

    from cvlib.data.dataset import load_dataset
    from cvlib.training.train import train

    dataset = load_dataset(FRIDGE4)
    small = dataset.subset(range(0, len(dataset), 4))
    config = replace(QUICK, views=("identity", "hflip"))
    return train(small, config).save(tmp_path_factory.mktemp("mirrored") / "model")


def test_saved_model_with_mirrored_view_gives_a_mirror_symmetric_explanation(
        mirrored_model_dir: Path):
    """Models that average the image and its mirror must explain symmetrically too."""
    import json

    meta = json.loads((mirrored_model_dir / "model.json").read_text())
    assert meta["views"] == ["identity", "hflip"]
    cam = GradCam.load(mirrored_model_dir)
    photo = Image.open(photos("can")[0]).convert("RGB")
    can = meta["classes"].index("can")
    heatmap = cam.heatmap(photo, can)
    mirrored = cam.heatmap(ImageOps.mirror(photo), can)
    side = meta["preprocessing"]["image_size"]
    assert heatmap.shape == (side, side)
    np.testing.assert_allclose(mirrored, heatmap[:, ::-1], atol=1e-3)


def test_heatmap_sits_where_the_model_looked():
    squish = Preprocessing(image_size=224, resize="squish")
    crop = Preprocessing(image_size=224, resize="crop")
    assert heatmap_box(squish, (640, 480)) == (0, 0, 640, 480)
    assert heatmap_box(crop, (640, 480)) == (80, 0, 560, 480)


def test_overlay_colours_only_the_seen_region_from_blue_to_red():
    none, strong = colorize(np.array([0.0, 0.8]))
    assert tuple(none) == (0, 0, 127) and strong[0] == 255 and strong[2] == 0
    grey = Image.new("RGB", (640, 480), (128, 128, 128))
    hot = np.full((224, 224), 0.8, np.float32)
    out = np.asarray(overlay_heatmap(grey, hot, Preprocessing(resize="crop")))
    assert out.shape == (480, 640, 3)
    assert (out[:, :80] == 128).all() and (out[:, 560:] == 128).all()
    assert out[240, 320, 0] > 128 > out[240, 320, 2]
