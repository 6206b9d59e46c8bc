"""Streamlit settings the studio depends on, in ``.streamlit/config.toml``."""

from __future__ import annotations

import tomllib


def test_the_app_does_not_collect_garbage_after_every_script_run(repo_root):
    """Progress panels rerun once a second; Streamlit's default full ``gc.collect`` after each
    run holds the GIL so long, with PyTorch loaded, that training in the app took twice as
    long as in plain Python (``bench/app_training.py --streamlit-default``)."""
    config = tomllib.loads((repo_root / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
