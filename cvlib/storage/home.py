"""The studio's home folder: where models, runs, captures and caches live.

One function, so every module that stores something agrees on the place, and a test or a
workshop machine can move all of it at once with ``$CVLIB_HOME``.
"""

from __future__ import annotations

import os
from pathlib import Path


def studio_home() -> Path:
    """Where the studio keeps models, runs and caches: ``$CVLIB_HOME`` or ``~/.cvlib-studio``.

    Created on first use.
    """
    home = Path(os.environ.get("CVLIB_HOME") or Path.home() / ".cvlib-studio").expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home
