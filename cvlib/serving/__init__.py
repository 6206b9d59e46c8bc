"""Serving: a saved model answering requests, locally or in Azure ML.

The local inference server and its code folder (:mod:`~cvlib.serving.server`), the
scoring handler shipped to endpoints (:mod:`~cvlib.serving.scoring`, torch-free), and live
scoring of a video stream (:mod:`~cvlib.serving.stream`).
"""

from typing import TYPE_CHECKING

from cvlib._lazy import attach

if TYPE_CHECKING:
    from cvlib.serving.server import (
        LocalEndpoint,
        ServingError,
        add_serve_parser,
        build_code_folder,
        ensure_onnx,
        ensure_serving_env,
        env_python,
        port_free,
        serve,
        serving_env_dir,
        serving_env_ready,
        start_local_endpoint,
    )
    from cvlib.serving.stream import (
        FrameResult,
        LatestFrameScorer,
        ScoresImages,
        StreamStats,
        ice_servers_from_env,
        is_secure_context,
        paste_banner,
        render_banner,
    )

__getattr__, __dir__, __all__ = attach(__name__, __file__)
