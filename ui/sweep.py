"""Widgets for comparisons and sweeps: a background-job panel, the grid editor, result plots.

Sweeps and preset comparisons run as :mod:`cvlib.runtime.jobs` jobs; :func:`ui.common.job_monitor`
polls one from a fragment (progress, Stop, a live view), so reruns never restart the work.
"""

from __future__ import annotations

import math
from typing import Any

import plotly.graph_objects as go
import streamlit as st

from cvlib.models.registry import list_models
from cvlib.training.config import TrainConfig
from cvlib.training.presets import WORKSHOP_GRID, WORKSHOP_GRID_FIXED
from cvlib.training.sweep import (
    ACCURACIES,
    CURVE_METRICS,
    QUICK_IGNORED,
    Grid,
    HeatmapData,
    TrainingEffect,
    aggregate,
    heatmap_data,
    swept,
    training_effects,
)

CHOICES: dict[str, list[Any]] = {
    # The default is always a choice: the editor starts around it (_default_values).
    "weight_decay": sorted({0.0, 1e-4, 1e-3, 1e-2, 1e-1, TrainConfig.weight_decay}),
    "label_smoothing": [0.0, 0.05, 0.1, 0.2],
    "image_size": [96, 128, 160, 192, 224, 240, 260, 288],
    "architecture": list_models(),
    "lr": [1e-5, 3e-5, 1e-4, 2e-4, 5e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1],
    "epochs": [1, 2, 3, 5, 8],
    "batch_size": [8, 16, 32],
    "augment": [True, False],
    "dropout": [0.0, 0.2, 0.5],
    "schedule": ["one_cycle", "flat"],
}
"""The values the grid editor offers for each setting (the CLI accepts any)."""

LABELS = {"weight_decay": "Weight decay", "label_smoothing": "Label smoothing",
          "image_size": "Image size (px)", "architecture": "Backbone", "lr": "Learning rate",
          "epochs": "Epochs", "batch_size": "Batch size", "augment": "Augmentation",
          "dropout": "Dropout", "schedule": "LR schedule"}

HELP = {
    "weight_decay": "Pulls the weights towards zero: larger values give a simpler, smoother "
                    "decision; too large and it cannot fit at all. Matters in both modes.",
    "label_smoothing": "Trains towards 90 % instead of 100 % sure: less over-confident "
                       "probabilities. Matters in both modes.",
    "image_size": "More pixels show more detail and cost time (new features to compute).",
    "architecture": "The pretrained network that turns images into features.",
}

LOG_SCALE = ("lr", "weight_decay")
"""Settings whose values are tried in powers of ten: plotted on a logarithmic axis."""

METRIC_LABELS = {
    "accuracy": "Kept model's accuracy",
    "loss": "Kept model's validation loss",
    "last_accuracy": "Last epoch's validation accuracy",
    "last_valid_loss": "Last epoch's validation loss",
    "peak_valid_loss": "Worst epoch's validation loss",
    "last_train_loss": "Last epoch's training loss",
    "train_s": "Training time (s)",
}
"""The metrics a heatmap can show, in the order offered; the curve ones need full training."""

SHOWN_FIRST = "last_accuracy"
"""The metric a full-training grid opens with: where the training ended, which the kept model
(possibly the untouched starting head) can hide."""


def grid_editor(page: str, workshop: bool) -> tuple[dict[str, list[Any]], dict[str, Any], int]:
    """Choose the values of each setting to sweep; returns ``(axes, fixed, repeats)``."""
    defaults = TrainConfig()
    mode = st.radio("Training mode for every cell", ["quick", "full"], horizontal=True,
                    key=f"{page}:mode", disabled=workshop,
                    help="Quick fits the last layer on cached features (about a second per "
                         "cell); full fine-tunes the whole network (minutes per cell).")
    mode = WORKSHOP_GRID_FIXED["mode"] if workshop else mode
    axes: dict[str, list[Any]] = {}
    columns = st.columns(2)
    for i, (name, options) in enumerate(CHOICES.items()):
        default = WORKSHOP_GRID.get(name) if workshop else _default_values(name, defaults)
        ignored = mode == "quick" and name in QUICK_IGNORED
        label = LABELS[name] + (" (no effect in quick mode)" if ignored else "")
        chosen = columns[i % 2].multiselect(
            label, options, default=default or [], key=f"{page}:grid:{name}:{workshop}",
            help=HELP.get(name), format_func=_format_value)
        if chosen:
            axes[name] = chosen
    repeats = int(st.number_input("Repeats (each with another seed and validation split)",
                                  1, 10, 1 if workshop else 2, key=f"{page}:repeats:{workshop}"))
    fixed = {**WORKSHOP_GRID_FIXED} if workshop else {"mode": mode}
    fixed = {k: v for k, v in fixed.items() if k not in axes}
    if "architecture" not in axes:
        fixed.setdefault("architecture", "efficientnet_lite0")
    return axes, fixed, repeats


def _default_values(name: str, defaults) -> list[Any]:
    """What the editor starts with outside the workshop: weight decay around the default."""
    if name == "weight_decay":
        return list(dict.fromkeys([1e-4, 1e-3, defaults.weight_decay]))
    if name == "label_smoothing":
        return [0.0, 0.1]
    return []


def _format_value(value: Any) -> str:
    """Numbers in a compact, readable form (1e-04, 0.1, 224)."""
    if isinstance(value, float) and value and (abs(value) < 1e-2 or abs(value) >= 1e4):
        return f"{value:.0e}"
    return str(value)


def quick_notice(grid: Grid, n_runs: int) -> None:
    """Say when quick mode makes some swept settings irrelevant, and what that saves."""
    ignored = grid.quick_ignored()
    if ignored:
        st.info(f"In quick mode only the last layer is trained, on fixed features: "
                f"{', '.join(LABELS.get(n, n) for n in ignored)} cannot change the result. "
                f"The {grid.n_cells()} cells therefore need only {n_runs} distinct runs; "
                "cells that differ only in those settings share one.")


def heatmap_figure(data: HeatmapData, metric: str) -> go.Figure:
    """Mean metric per pair of settings; each cell's text shows mean ± spread (runs).

    The colour bar spans the data's own range (accuracy within 0-1, losses and times from 0
    up), so equal cells are one colour and the scale never runs past what can happen.
    Learning rate and weight decay sit on a logarithmic axis, so 1e-3 lies halfway between
    1e-5 and 1e-1, as the steps that were tried really are.
    """
    text = [[_cell_text(m, s, n, metric) for m, s, n in zip(mr, sr, nr, strict=True)]
            for mr, sr, nr in zip(data.mean, data.std, data.count, strict=True)]
    zmin, zmax = _colour_range([v for row in data.mean for v in row if v is not None], metric)
    x, x_axis = _heatmap_axis(data.x, data.x_values)
    y, y_axis = _heatmap_axis(data.y, data.y_values)
    label = METRIC_LABELS.get(metric, metric)
    fig = go.Figure(go.Heatmap(
        z=data.mean, x=x, y=y, text=text, texttemplate="%{text}",
        customdata=[[f"{_format_value(a)}, {_format_value(b)}" for a in data.x_values]
                    for b in data.y_values],
        colorscale="Viridis" if metric in ACCURACIES else "Viridis_r", zmin=zmin, zmax=zmax,
        colorbar={"title": label.replace("'s ", "'s<br>"),
                  "tickformat": ".0%" if metric in ACCURACIES else ""},
        hovertemplate=f"{data.x}, {data.y or 'runs'} = %{{customdata}}: %{{text}}"
                      "<extra></extra>"))
    fig.update_layout(height=140 + 50 * len(data.y_values), margin={"t": 30, "b": 30},
                      xaxis=x_axis, yaxis=y_axis)
    return fig


def _heatmap_axis(name: str, values: list[Any]) -> tuple[list[Any], dict[str, Any]]:
    """Positions and layout of one heatmap axis: powers of ten at their logarithm, labelled
    with the values themselves; anything else (or a value of 0) as categories."""
    title = _axis_title(name) if name else ""
    if name in LOG_SCALE and values and all(_positive_number(v) for v in values):
        where = [math.log10(v) for v in values]
        return where, {"title": title, "type": "linear", "tickvals": where,
                       "ticktext": [_setting_text(name, v) for v in values], "showgrid": False}
    return [_format_value(v) for v in values], {"title": title, "type": "category"}


def _setting_text(name: str, value: Any) -> str:
    """A setting's value as its axis shows it: powers of ten as ``1e-03``, others compactly."""
    if name in LOG_SCALE and _positive_number(value):
        return f"{value:.0e}"
    return _format_value(value)


def _positive_number(value: Any) -> bool:
    """A number above zero (booleans are not numbers here): can go on a log axis."""
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _colour_range(values: list[float], metric: str) -> tuple[float | None, float | None]:
    """The data's range for the colour bar; a flat grid gets a thin band around its value.

    Accuracies stay within 0-1 and losses and times at 0 or above: a band around a flat
    value must not reach a figure no run can have.
    """
    if not values:
        return None, None
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 0.01, high + 0.01
    low = max(0.0, low)
    if metric in ACCURACIES:
        high = min(1.0, high)
    return low, high


def _axis_title(name: str) -> str:
    """A setting's label; settings tried in powers of ten say their steps are even in log."""
    label = LABELS.get(name, name)
    return f"{label} (log scale)" if name in LOG_SCALE else label


def _cell_text(mean: float | None, std: float | None, n: int, metric: str) -> str:
    """``0.912 ± 0.020 (4)`` or empty when nothing has run there yet."""
    if mean is None:
        return ""
    fmt = ".1%" if metric in ACCURACIES else ".3f"
    return f"{mean:{fmt}} ± {std:{fmt}} ({n})"


def box_figure(rows: list[dict[str, Any]], name: str, metric: str) -> go.Figure:
    """Every run's metric per value of one setting: the box is the spread, the line the median.

    Learning rate and weight decay go on a logarithmic axis (their values are powers of
    ten; on a linear one 1e-4 and 1e-2 would sit on top of each other); other settings on
    a category axis, so numbers like 160 or 0.1 are not spaced as numbers.
    """
    groups = sorted(aggregate(rows, [name], metric), key=lambda g: (str(type(g[name])),
                                                                   g[name]))
    log = name in LOG_SCALE and all(isinstance(g[name], int | float) and g[name] > 0
                                    for g in groups)
    fig = go.Figure()
    for group in groups:
        values = [r[metric] for r in rows if r.get(name) == group[name]
                  and r.get(metric) is not None]
        position = group[name] if log else _format_value(group[name])
        fig.add_trace(go.Box(y=values, x=[position] * len(values),
                             name=_format_value(group[name]), boxpoints="all", jitter=0.3,
                             showlegend=False))
    fig.update_layout(height=300, margin={"t": 30, "b": 30},
                      yaxis_title=METRIC_LABELS.get(metric, metric),
                      xaxis={"title": _axis_title(name), "type": "log" if log else "category"})
    if metric in ACCURACIES:
        fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    else:
        fig.update_yaxes(rangemode="tozero")
    return fig


def heatmap_panel(page: str, rows: list[dict[str, Any]]) -> None:
    """Pick two settings and a metric; draw the heatmap, what the training did, box plots."""
    names = swept(rows)
    if not names:
        st.info("Only one setting value was tried: nothing to compare yet.")
        return
    c1, c2, c3 = st.columns(3)
    x = c1.selectbox("Across (x)", names, key=f"{page}:hx", format_func=_label)
    y_options = [n for n in names if n != x]
    y = (c2.selectbox("Down (y)", y_options, key=f"{page}:hy", format_func=_label)
         if y_options else None)
    if y is None:
        c2.caption("One setting was swept: one row, every run averaged.")
    choices = metric_choices(rows)
    metric = c3.selectbox("Metric", choices, key=f"{page}:hm", format_func=METRIC_LABELS.get,
                          index=choices.index(SHOWN_FIRST) if SHOWN_FIRST in choices else 0,
                          help="The kept model is the epoch with the lowest validation loss, "
                               "the starting quick head included; the last epoch is where "
                               "the training itself ended up.")
    st.plotly_chart(heatmap_figure(heatmap_data(rows, x, y, metric), metric),
                    key=f"{page}:heatmap")
    st.caption("Each square averages every run with that pair of values (the other "
               "settings and the repeats); ± is the standard deviation, (n) the number of "
               "runs. A row or column of equal squares means that setting did not matter.")
    effects = training_effects(rows, [x] if y is None else [x, y])
    if effects:
        st.caption(training_caption(effects))
    for name in names:
        st.plotly_chart(box_figure(rows, name, metric), key=f"{page}:box:{name}")


def metric_choices(rows: list[dict[str, Any]]) -> list[str]:
    """The metrics these results have: the training-curve ones only where some run kept its
    curve (full training, stored since sweeps record it)."""
    return [m for m in METRIC_LABELS
            if m not in CURVE_METRICS or any(r.get(m) is not None for r in rows)]


VERDICT_WORDS = {
    "barely moved": "**barely moved** (too small a step)",
    "helped": "**helped**",
    "diverged": "**diverged** (too large a step: it wrecked what ImageNet taught)",
    "no better": "**moved, but got no better**",
}
"""How the caption names each :func:`cvlib.training.sweep.verdict`."""

MAX_EFFECTS = 9
"""Heatmap cells the caption describes one by one; a larger grid is summed up after them."""


def training_caption(effects: list[TrainingEffect]) -> str:
    """Plain words on the learner's own grid: what the training did in each cell (from the
    quick head's validation loss to the last epoch's), and when the kept model hides it."""
    lines = ["**What the training did**, cell by cell (validation loss from the starting "
             "quick head to the last epoch):"]
    lines += [f"- {_effect_line(e)}" for e in effects[:MAX_EFFECTS]]
    if len(effects) > MAX_EFFECTS:
        lines.append(f"- ...and {len(effects) - MAX_EFFECTS} more cells.")
    return "\n".join(lines) + "\n\n" + _hidden_by_kept_model(effects)


def _effect_line(effect: TrainingEffect) -> str:
    """One cell: its settings, its verdict, and the figures the verdict comes from."""
    where = ", ".join(f"{_label(k)} {_setting_text(k, v)}" for k, v in effect.settings.items())
    figures = {
        "diverged": f"validation loss jumped from {effect.start_valid_loss:.3f} to "
                    f"{effect.peak_valid_loss:.3f} "
                    f"({effect.peak_valid_loss / effect.start_valid_loss:.0f}×)",
        "helped": f"validation loss {effect.start_valid_loss:.3f} → "
                  f"{effect.best_valid_loss:.3f} at its best epoch",
    }.get(effect.verdict, f"validation loss {effect.start_valid_loss:.3f} → "
                          f"{effect.last_valid_loss:.3f}")
    return (f"{where}: {VERDICT_WORDS[effect.verdict]}: {figures}; accuracy "
            f"{_percent(effect.start_accuracy)} at the start, "
            f"{_percent(effect.last_accuracy)} at the last epoch.")


def _percent(share: float) -> str:
    """87.5% or 100%: one decimal, since one photo of 24 is 4.2 points, but no ``.0``."""
    return f"{share:.1%}".replace(".0%", "%")


def _hidden_by_kept_model(effects: list[TrainingEffect]) -> str:
    """Why the kept model's accuracy can look the same everywhere: say where it is the head."""
    kept = [e for e in effects if e.kept_start]
    if not kept:
        return ("Every kept model comes from a trained epoch (the one with the lowest "
                "validation loss); the last epoch shows where the training ended up.")
    where = ", ".join(", ".join(_setting_text(k, v) for k, v in e.settings.items())
                      for e in kept)
    accuracies = " / ".join(dict.fromkeys(_percent(e.kept_accuracy) for e in kept))
    return (f"**Why the kept model can hide this:** the studio keeps the epoch with the "
            f"lowest validation loss, the starting quick head included. At {where} no epoch "
            "beat that head, so the kept model *is* the head and its accuracy "
            f"({accuracies}) is quick mode's, whatever the learning rate did. "
            "The last epoch's figures show the training itself.")


def _label(name: str) -> str:
    """A setting's readable name for the axis pickers."""
    return LABELS.get(name, name)


def results_table(rows: list[dict[str, Any]], best: dict[str, Any] | None) -> None:
    """Every cell's settings and metrics; the rows of the best setting highlighted."""
    import pandas as pd

    frame = pd.DataFrame(rows).dropna(axis=1, how="all")  # no empty curve columns (quick)
    winners = {k: v for k, v in (best or {}).get("settings", {}).items()}

    def highlight(row: pd.Series) -> list[str]:
        hit = bool(winners) and all(row.get(k) == v for k, v in winners.items())
        return ["background-color: rgba(46, 160, 67, 0.25)" if hit else ""] * len(row)

    st.dataframe(frame.style.apply(highlight, axis=1), height=260)
