"""Grad-CAM: which parts of the image made the network choose its class.

The last convolutional layer of a CNN still has a spatial grid (7x7 at 224 px).  Grad-CAM
weights each of its channels by how much the chosen class's score rises when that channel
rises (the gradient, averaged over the grid), sums them, and keeps the positive part: a
coarse map of the evidence *for* that class.  Blown up to the image size and coloured, it
shows whether the model looks at the object or at the background.

:class:`GradCam` wraps the ``grad-cam`` package for the studio's networks, including the
test-time-view wrapper :class:`cvlib.models.checkpoint.ViewAverage` (the map of the mirrored view
is mirrored back and averaged, as the logits are) and region pooling
(:class:`cvlib.models.region_pool.RegionPool`: each region's map is put back where the region
lies, weighted by how much that region carried the class's pooled score).  The drawing
helpers need only numpy and Pillow, so the stream can overlay a heatmap without importing
torch; torch is imported when a :class:`GradCam` is built.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from cvlib.models.preprocess import Preprocessing, preprocess


class GradCam:
    """Grad-CAM heatmaps for a classification network.

    Build one with :meth:`load` (a saved model folder), :meth:`pretrained` (an ImageNet
    backbone from the registry) or directly from a network and its preprocessing.
    ``heatmap(image, class_index)`` returns an (S, S) float array in [0, 1] at the model's
    input size S, for the image as the model saw it (see :func:`heatmap_box`).
    """

    def __init__(self, network: Any, preprocessing: Preprocessing) -> None:
        from cvlib.models.checkpoint import ViewAverage
        from cvlib.models.region_pool import RegionPool

        self.preprocessing = preprocessing
        self._views: tuple[str, ...] = ("identity",)
        self._regions: RegionPool | None = None
        if isinstance(network, ViewAverage):
            network, self._views = network.net, network.views
        if isinstance(network, RegionPool):
            network, self._regions = network.net, network.eval()
        self._net = network.eval()
        self._layer = target_layer(self._net)
        self._lock = threading.Lock()  # Grad-CAM hooks the layer: one explanation at a time

    @classmethod
    def load(cls, folder: str | Path) -> GradCam:
        """Grad-CAM for a saved model folder."""
        from cvlib.models.checkpoint import load_network

        network, meta = load_network(folder)
        return cls(network, Preprocessing.from_dict(meta["preprocessing"]))

    @classmethod
    def pretrained(cls, architecture: str = "efficientnet_lite0") -> GradCam:
        """Grad-CAM for a registry backbone with its ImageNet head."""
        from cvlib.models import backbones

        return cls(backbones.create(architecture), backbones.get_spec(architecture).preprocessing)

    def heatmap(self, image: Image.Image, class_index: int) -> np.ndarray:
        """Where the evidence for ``class_index`` lies, averaged over the test-time views."""
        import torch
        from pytorch_grad_cam import GradCAM

        batch = torch.from_numpy(preprocess(image, self.preprocessing)[None])
        maps = []
        with self._lock, torch.enable_grad():
            cut = self._layer.register_forward_hook(_start_graph_here)
            try:
                with GradCAM(model=self._net, target_layers=[self._layer]) as cam:
                    for view in self._views:
                        flip = view == "hflip"
                        inp = torch.flip(batch, dims=[3]) if flip else batch
                        grey = self._view_map(cam, inp, class_index)
                        maps.append(grey[:, ::-1] if flip else grey)
            finally:
                cut.remove()
        combined = np.mean(maps, axis=0)
        peak = float(combined.max())
        return (combined / peak if peak > 0 else combined).astype(np.float32)

    def _view_map(self, cam: Any, inp: Any, class_index: int) -> np.ndarray:
        """Grad-CAM of one input, ``(S, S)``; for region pooling, assembled from its regions."""
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

        target = ClassifierOutputTarget(class_index)
        if self._regions is None:
            return cam(input_tensor=inp, targets=[target])[0]
        import torch

        from cvlib.models.region_pool import crop_regions, region_weights
        from cvlib.models.regions import pixel_box

        pool = self._regions
        crops = crop_regions(inp, pool.boxes, pool.size)
        with torch.no_grad():
            weights = region_weights(pool.region_logits(inp), pool.sharpness)[0, :, class_index]
        region_maps = cam(input_tensor=crops, targets=[target] * len(pool.boxes))
        side = inp.shape[-1]
        canvas = np.zeros((side, side), np.float32)
        for box, grey, weight in zip(pool.boxes, region_maps, weights.tolist(), strict=True):
            x0, y0, x1, y1 = pixel_box(box, side, side)
            placed = Image.fromarray(grey.astype(np.float32)).resize((x1 - x0, y1 - y0))
            canvas[y0:y1, x0:x1] += weight * np.asarray(placed)
        return canvas


def _start_graph_here(module: Any, inputs: Any, output: Any) -> Any:
    """Forward hook: make the target layer's output a fresh leaf of the autograd graph.

    Grad-CAM needs gradients only from the class score back to this layer.  Cutting the
    graph here stops the backward pass at the head instead of running it through the
    whole network into every weight, which is most of the cost on a CPU.
    """
    return output.detach().requires_grad_(True)


def target_layer(network: Any) -> Any:
    """The layer Grad-CAM reads: the last one that still has a spatial grid.

    EfficientNet's ``bn2`` (head convolution + batch norm + activation) and ResNet's last
    block; any other CNN falls back to its last convolution.
    """
    import torch

    if hasattr(network, "conv_head") and hasattr(network, "bn2"):
        return network.bn2
    if hasattr(network, "layer4"):
        return network.layer4[-1]
    convs = [m for m in network.modules() if isinstance(m, torch.nn.Conv2d)]
    if not convs:
        raise ValueError(f"{type(network).__name__} has no convolution for Grad-CAM")
    return convs[-1]


def heatmap_box(cfg: Preprocessing, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The part of a (width, height) image that the model's input came from.

    A squished image is seen whole; a centre-cropped one only in its central square, so the
    heatmap belongs there and not stretched over the cut-off sides.
    """
    width, height = size
    if cfg.resize == "squish":
        return 0, 0, width, height
    side = min(width, height)
    left, top = (width - side) // 2, (height - side) // 2
    return left, top, left + side, top + side


def colorize(heatmap: np.ndarray) -> np.ndarray:
    """A [0, 1] map as RGB uint8 on the 'jet' scale: blue (nothing) to red (strong)."""
    h = np.clip(heatmap, 0.0, 1.0)[..., None]
    rgb = np.clip(1.5 - np.abs(4.0 * h - np.array([3.0, 2.0, 1.0])), 0.0, 1.0)
    return (rgb * 255).astype(np.uint8)


def heatmap_layer(heatmap: np.ndarray, cfg: Preprocessing, size: tuple[int, int]
                  ) -> tuple[tuple[int, int, int, int], np.ndarray]:
    """The coloured heatmap sized for a (width, height) image, and the box it covers.

    Computed once per heatmap, it can be blended into many video frames cheaply.
    """
    box = heatmap_box(cfg, size)
    colours = Image.fromarray(colorize(heatmap)).resize(
        (box[2] - box[0], box[3] - box[1]), Image.Resampling.BILINEAR)
    return box, np.asarray(colours)


def blend_layer(pixels: np.ndarray, layer: tuple[tuple[int, int, int, int], np.ndarray],
                alpha: float = 0.45) -> np.ndarray:
    """Blend a :func:`heatmap_layer` into an RGB array (a new array; the input is kept)."""
    (left, top, right, bottom), colours = layer
    out = pixels.copy()
    region = out[top:bottom, left:right].astype(np.float32)
    out[top:bottom, left:right] = (region * (1 - alpha) + colours * alpha).astype(np.uint8)
    return out


def overlay_heatmap(image: Image.Image, heatmap: np.ndarray, cfg: Preprocessing,
                    alpha: float = 0.45) -> Image.Image:
    """``image`` with the coloured heatmap blended over the region the model saw."""
    pixels = np.asarray(image.convert("RGB"))
    layer = heatmap_layer(heatmap, cfg, (pixels.shape[1], pixels.shape[0]))
    return Image.fromarray(blend_layer(pixels, layer, alpha))
