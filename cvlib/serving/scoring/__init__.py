"""The scoring service: the code that answers requests in a local or Azure ML endpoint.

This package is shipped, with ``cvlib/models/preprocess.py``, ``cvlib/data/images.py`` and
``cvlib/errors.py``, into a code folder that runs where there is no torch (see
:mod:`cvlib.serving.server`), so it imports nothing beyond numpy, Pillow and onnxruntime.
"""
