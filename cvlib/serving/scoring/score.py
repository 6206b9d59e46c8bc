"""Entry script for the Azure ML inference server, locally and in Azure ML endpoints.

The server imports this file and calls :func:`init` once per worker, then :func:`run` per
request.  ``run`` takes the raw HTTP request (``@rawhttp``) so that a bad request is answered
with a 4xx status through ``AMLResponse``: a ``run()`` that raised would become a 500, which
tells the caller nothing.  All the rules live in :mod:`cvlib.serving.scoring.handler`.

This file sits at the top of the code folder built by
:func:`cvlib.serving.server.build_code_folder`, beside a minimal ``cvlib`` package
(torch-free), which is why the folder goes on ``sys.path``.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from azureml_inference_server_http.api.aml_request import rawhttp
from azureml_inference_server_http.api.aml_response import AMLResponse

from cvlib.serving.scoring.handler import Limits, ScoringModel, handle_request

_state: dict = {}


def init() -> None:
    """Load the model once per worker from the folder the server names."""
    _state["model"] = ScoringModel.load(os.environ["AZUREML_MODEL_DIR"])
    _state["limits"] = Limits.from_env(os.environ)


@rawhttp
def run(request):
    """Answer one ``POST /score`` (or refuse it with a 4xx and a message)."""
    limits = _state["limits"]
    if request.method != "POST":
        return AMLResponse({"message": "POST a JSON body to /score"}, 405, json_str=True)
    if (request.content_length or 0) > limits.max_request_bytes:
        return AMLResponse({"message": f"request is {request.content_length:,} bytes; the limit"
                                       f" is {limits.max_request_bytes:,}"}, 413, json_str=True)
    body = request.stream.read(limits.max_request_bytes + 1)
    status, answer = handle_request(_state["model"], body, limits)
    return AMLResponse(answer, status, json_str=True)
