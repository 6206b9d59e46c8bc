"""The model card: what a saved model folder's ``model.json`` says about its model, typed.

Everything that uses a model (prediction, the stream, export, the scoring server, the pages)
needs the same few facts: the architecture, the classes, single- or multi-label, how images
are prepared, which views are averaged, the decision thresholds; and a person wants to know
where it came from: the training settings, the validation metrics, the accuracy to expect,
the data's fingerprint and the run that made it.  :class:`ModelCard` holds them as
attributes, with a schema version; :meth:`ModelCard.from_dict` reads every ``model.json``
this studio has written, older ones included, and keeps fields it does not know so a
round trip loses nothing.  Torch-free.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from cvlib.models.preprocess import Preprocessing
from cvlib.storage.persist import MODEL_FORMAT, read_model_meta

CARD_SCHEMA = 1
"""Version of the card's fields; a ``model.json`` without one was written before version 1."""
ALWAYS_WRITTEN = frozenset({"thresholds", "regions"})
"""Fields written even when unset (``null``: 0.5, the whole image), as every file has them."""


@dataclass
class ModelCard:
    """One model's ``model.json``, as attributes.

    ``thresholds`` is one float or one per class (multi-label; ``None`` means 0.5),
    ``regions`` the region pooling the network does (``None``: the whole image), ``training``
    the settings it was trained with (:meth:`cvlib.training.config.TrainConfig.to_dict`),
    ``split`` its validation files, ``estimate`` the accuracy to expect on new photos, and
    ``extra`` whatever else the file holds.
    """

    architecture: str
    classes: list[str]
    multi_label: bool
    preprocessing: Preprocessing
    views: tuple[str, ...] = ("identity",)
    thresholds: float | list[float] | None = None
    regions: dict[str, Any] | None = None
    head: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)
    data_fingerprint: str | None = None
    split: dict[str, Any] = field(default_factory=dict)
    estimate: dict[str, Any] | None = None
    test: dict[str, Any] | None = None
    run_id: str | None = None
    created: str = field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    versions: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    schema: int = CARD_SCHEMA

    @property
    def mode(self) -> str:
        """``"quick"`` or ``"full"``: how it was trained (``"model"`` when not recorded)."""
        return str(self.training.get("mode", "model"))

    def to_dict(self) -> dict[str, Any]:
        """The ``model.json`` content (``extra`` fields at the top level, as they were read)."""
        data: dict[str, Any] = {"format": MODEL_FORMAT}
        for f in fields(self):
            value = getattr(self, f.name)
            unset = value is None or value == {}
            if f.name != "extra" and (not unset or f.name in ALWAYS_WRITTEN):
                data[f.name] = value  # an unset field is left out, as older files did
        data["preprocessing"] = self.preprocessing.to_dict()
        data["views"] = list(self.views)
        data["classes"] = list(self.classes)
        return {**data, **self.extra}

    @classmethod
    def from_dict(cls, meta: dict[str, Any]) -> ModelCard:
        """Any version's ``model.json`` content: unknown fields are kept in ``extra``."""
        known = {f.name for f in fields(cls)} - {"extra"}
        values = {k: v for k, v in meta.items() if k in known}
        values["preprocessing"] = Preprocessing.from_dict(meta["preprocessing"])
        values["views"] = tuple(meta.get("views") or ("identity",))
        values["classes"] = [str(c) for c in meta["classes"]]
        values["multi_label"] = bool(meta.get("multi_label", False))
        values.setdefault("schema", 0)
        for name in ("head", "training", "metrics", "timings", "split", "versions"):
            values[name] = values.get(name) or {}
        extra = {k: v for k, v in meta.items() if k not in known and k != "format"}
        return cls(**values, extra=extra)


def read_card(folder: str | Path) -> ModelCard:
    """The card of a saved model folder (checked like every model folder: no torch, no
    pickle; :class:`~cvlib.errors.ModelFormatError` for one that is not a model)."""
    return ModelCard.from_dict(read_model_meta(folder))
