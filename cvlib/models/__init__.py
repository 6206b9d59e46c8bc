"""Models: the backbones, the saved model folder, and predicting with it.

The registry of architectures and their preprocessing, the networks themselves
(:mod:`~cvlib.models.backbones`), region pooling for multi-label photos, saving and loading
a model folder without pickle (:mod:`~cvlib.models.checkpoint`), prediction with PyTorch or
ONNX Runtime (:mod:`~cvlib.models.inference`) and Grad-CAM (:mod:`~cvlib.models.explain`).
"""

from typing import TYPE_CHECKING

from cvlib._lazy import attach

if TYPE_CHECKING:
    from cvlib.models.backbones import (
        create,
        create_backbone,
        imagenet_classes,
        remap_by_position,
        weights_available,
        weights_path,
    )
    from cvlib.models.checkpoint import (
        ViewAverage,
        build_network,
        library_versions,
        load_network,
        make_meta,
        save_model,
        save_state,
    )
    from cvlib.models.explain import (
        GradCam,
        blend_layer,
        colorize,
        heatmap_box,
        heatmap_layer,
        overlay_heatmap,
        target_layer,
    )
    from cvlib.models.inference import (
        ParityReport,
        Predictor,
        dataset_targets,
        evaluate_model,
        export_onnx,
        load_model,
        onnx_session,
        parity,
        time_batches,
    )
    from cvlib.models.preprocess import (
        Preprocessing,
        normalize,
        preprocess_batch,
        probabilities,
        resize_image,
        sigmoid,
        softmax,
        top_k,
    )
    from cvlib.models.pretrained_cache import (
        head_on_pretrained,
        pretrained_state_path,
        remember_pretrained_state,
        state_prefix,
    )
    from cvlib.models.region_pool import (
        RegionPool,
        crop_regions,
        from_meta,
        pool_regions,
        region_weights,
        wrap,
    )
    from cvlib.models.regions import (
        boxes_for,
        describe,
        describe_box,
        images_per_batch,
        pixel_box,
        preview,
        strip_boxes,
    )
    from cvlib.models.registry import ModelSpec, get_spec, list_models

__getattr__, __dir__, __all__ = attach(__name__, __file__)
