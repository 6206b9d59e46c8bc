"""Saved models by name: one list for every page, names that say what a model is, no
silent overwrites, and a warning before a model meets data with other classes.

A saved model is a folder under the studio home (``models/<name>``).  Its default name is
made of what it is: ``fridge4-efficientnet_lite0-quick-20261202-0512`` (data, backbone,
mode, when it was trained), so a list of them reads like a lab notebook.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st

from cvlib.errors import StudioError
from cvlib.models.card import ModelCard
from cvlib.storage.home import studio_home
from cvlib.storage.persist import META_FILE, list_model_folders, safe_name
from ui.common import key


def models_home() -> Path:
    """Where the studio saves models."""
    return studio_home() / "models"


def saved_models() -> list[Path]:
    """The one list of saved models, newest first (incomplete saves are never listed)."""
    return list_model_folders(models_home())


def _trained_when(card: ModelCard) -> dt.datetime:
    """When the model was trained: its run record's time, or now when there is none."""
    if card.run_id:
        from cvlib.training.runs import load_run

        try:
            return dt.datetime.fromisoformat(load_run(card.run_id).created)
        except (OSError, KeyError, ValueError, StudioError):
            pass
    return dt.datetime.now(dt.UTC)


def _data_name(card: ModelCard) -> str:
    """The dataset's folder name, from the model's run record ("data" without one)."""
    if card.run_id:
        from cvlib.training.runs import load_run

        try:
            return Path(load_run(card.run_id).dataset.root).name or "data"
        except (OSError, KeyError, ValueError, StudioError):
            pass
    return "data"


def default_model_name(card: ModelCard, data_name: str | None = None) -> str:
    """``<data>-<backbone>-<mode>-<yyyymmdd-hhmm>``: a name that says what the model is."""
    when = _trained_when(card).strftime("%Y%m%d-%H%M")
    return safe_name(f"{data_name or _data_name(card)}-{card.architecture}-{card.mode}-{when}")


def save_model_form(page: str, result: Any, data_name: str | None = None, *,
                    thresholds: float | np.ndarray | None = None) -> Path | None:
    """Save a just-trained model under a name; saving over an existing one asks first.

    ``thresholds`` (multi-label) are saved with it.  Returns the folder once saved (on
    the run that saves it).
    """
    from cvlib.training.workflow import save_trained

    return save_form(page, default_model_name(result.card, data_name),
                     lambda folder: save_trained(result, folder, thresholds=thresholds),
                     name_key=result.card.run_id or "")


def save_form(page: str, default_name: str, write: Callable[[Path], Any], *,
              name_key: str = "", label: str = "💾 Save model") -> Path | None:
    """A model name and Save, for every page that keeps a model; an existing name asks first.

    ``write(folder)`` writes the model folder (atomically); ``name_key`` tells models
    apart, so a new model's default name replaces the previous one's in the box.
    Returns the folder once saved (on the run that saves it).
    """
    pending = key(page, "replace")
    with st.form(key(page, "save")):
        name = st.text_input("Model name", default_name,
                             key=key(page, f"model-name:{name_key}"),
                             help="Data, backbone, mode and time by default; any name will do.")
        submitted = st.form_submit_button(label)
    if submitted:
        folder = models_home() / safe_name(name)
        if not folder.exists():
            return _save(write, folder)
        st.session_state[pending] = folder.name
    replace = st.session_state.get(pending)
    if replace is None:
        return None
    st.warning(f"A model named **{replace}** is already saved: replace it with this one, or "
               "keep it and choose another name above.")
    left, right = st.columns(2)
    if left.button(f"Replace {replace}", key=key(page, "replace-yes"), type="primary"):
        st.session_state.pop(pending)
        return _save(write, models_home() / replace)
    if right.button("Keep it", key=key(page, "replace-no")):
        st.session_state.pop(pending)
        st.rerun()
    return None


def _save(write: Callable[[Path], Any], folder: Path) -> Path:
    """Write the model folder and say where it went."""
    with st.spinner(f"Saving {folder.name}…"):
        write(folder)
    st.success(f"Saved as **{folder.name}** in `{folder.parent}` (weights as safetensors, "
               "settings as JSON).")
    return folder


def model_classes(folder: Path) -> list[str]:
    """The classes a saved model predicts, from its description (no weights loaded).

    A damaged or unreadable model lists as knowing no class, so a list of models never
    fails because of one of them.
    """
    from cvlib.models.card import read_card

    try:
        return read_card(folder).classes
    except (StudioError, OSError, ValueError):
        return []


def describe(folder: Path) -> str:
    """A saved model in one line: its name, its classes, when it was saved.

    "Saved" is when ``model.json`` was written, not the folder's time: an ONNX export into
    the folder (page 03, a deployment) would otherwise change the line, and a picker whose
    option changes under it loses the user's choice.
    """
    card = folder / META_FILE
    stamp = (card if card.is_file() else folder).stat().st_mtime
    saved = dt.datetime.fromtimestamp(stamp).strftime("%Y-%m-%d %H:%M")
    classes = model_classes(folder)
    shown = ", ".join(classes[:5]) + (", …" if len(classes) > 5 else "")
    return f"{folder.name} · {len(classes)} classes ({shown}) · saved {saved}"


def classes_mismatch(model_classes: list[str], data_classes: list[str]) -> str | None:
    """Why a model's classes do not fit the data's, in words; None when they match."""
    missing = [c for c in data_classes if c not in model_classes]
    extra = [c for c in model_classes if c not in data_classes]
    if not missing and not extra:
        return None
    parts = []
    if missing:
        parts.append(f"the data has classes the model never learned ({', '.join(missing)})")
    if extra:
        parts.append(f"the model knows classes the data does not have ({', '.join(extra)})")
    return "This model does not match the data: " + "; ".join(parts) + "."


def model_picker(page: str, label: str = "Model", *, data_classes: list[str] | None = None,
                 prefer: Path | None = None) -> Path | None:
    """Choose one of the saved models, by name, from the one list every page uses.

    ``prefer`` is selected first (the model another page is serving, say), and listed even
    when it lives outside the studio's models folder.  With ``data_classes``, a model whose
    classes differ from the data's is flagged before it is used.  Returns the folder, or
    None when no model is saved yet.
    """
    options = [str(f) for f in saved_models()]
    if prefer is not None and (prefer / "model.json").is_file():
        if str(prefer) in options:
            options.remove(str(prefer))
        options.insert(0, str(prefer))
    if not options:
        st.info("No model is saved yet: train one on page 01 and save it, then come back.")
        return None
    chosen = Path(st.selectbox(label, options, key=key(page, "model"),
                               format_func=lambda s: describe(Path(s))))
    if data_classes is not None:
        problem = classes_mismatch(model_classes(chosen), data_classes)
        if problem:
            st.warning(problem + " Its answers on these photos will be wrong or meaningless.")
    return chosen
