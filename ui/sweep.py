"""Widgets for comparisons and sweeps: a background-job panel, the grid editor, result plots.

Sweeps and preset comparisons run as :mod:`cvlib.runtime.jobs` jobs; :func:`ui.common.job_monitor`
polls one from a fragment (progress, Stop, a live view), so reruns never restart the work.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import streamlit as st

from cvlib.models.registry import list_models
from cvlib.training.presets import WORKSHOP_GRID, WORKSHOP_GRID_FIXED
from cvlib.training.sweep import QUICK_IGNORED, Grid, HeatmapData, aggregate, heatmap_data, swept

CHOICES: dict[str, list[Any]] = {
    "weight_decay": [0.0, 1e-4, 1e-3, 1e-2, 1e-1],
    "label_smoothing": [0.0, 0.05, 0.1, 0.2],
    "image_size": [160, 192, 224, 240, 260, 288],
    "architecture": list_models(),
    "lr": [1e-5, 3e-5, 1e-4, 2e-4, 5e-4, 1e-3, 3e-3, 1e-2],
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


def grid_editor(page: str, workshop: bool) -> tuple[dict[str, list[Any]], dict[str, Any], int]:
    """Choose the values of each setting to sweep; returns ``(axes, fixed, repeats)``."""
    from cvlib.training.config import TrainConfig

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

    The colour bar spans the data's own range (accuracy within 0-1), so equal cells are one
    colour and the scale never runs past what can happen.
    """
    text = [[_cell_text(m, s, n, metric) for m, s, n in zip(mr, sr, nr, strict=True)]
            for mr, sr, nr in zip(data.mean, data.std, data.count, strict=True)]
    zmin, zmax = _colour_range([v for row in data.mean for v in row if v is not None], metric)
    y_title = LABELS.get(data.y, data.y) if data.y else ""
    fig = go.Figure(go.Heatmap(
        z=data.mean, x=[_format_value(v) for v in data.x_values],
        y=[_format_value(v) for v in data.y_values], text=text, texttemplate="%{text}",
        colorscale="Viridis" if metric == "accuracy" else "Viridis_r", zmin=zmin, zmax=zmax,
        colorbar={"title": metric, "tickformat": ".0%" if metric == "accuracy" else ""},
        hovertemplate=f"{data.x} %{{x}}, {data.y or 'runs'} %{{y}}: %{{text}}<extra></extra>"))
    fig.update_layout(height=140 + 50 * len(data.y_values), margin={"t": 30, "b": 30},
                      xaxis={"title": _axis_title(data.x), "type": "category"},
                      yaxis={"title": y_title, "type": "category"})
    return fig


def _colour_range(values: list[float], metric: str) -> tuple[float | None, float | None]:
    """The data's range for the colour bar; a flat grid gets a thin band around its value."""
    if not values:
        return None, None
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - 0.01, high + 0.01
    if metric == "accuracy":
        low, high = max(0.0, low), min(1.0, high)
    return low, high


def _axis_title(name: str) -> str:
    """A setting's label; settings tried in powers of ten say their steps are even in log."""
    label = LABELS.get(name, name)
    return f"{label} (log scale)" if name in LOG_SCALE else label


def _cell_text(mean: float | None, std: float | None, n: int, metric: str) -> str:
    """``0.912 ± 0.020 (4)`` or empty when nothing has run there yet."""
    if mean is None:
        return ""
    fmt = ".1%" if metric == "accuracy" else ".3f"
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
    fig.update_layout(height=300, margin={"t": 30, "b": 30}, yaxis_title=metric,
                      xaxis={"title": _axis_title(name), "type": "log" if log else "category"})
    if metric == "accuracy":
        fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    return fig


def heatmap_panel(page: str, rows: list[dict[str, Any]]) -> None:
    """Pick two settings and a metric; draw the heatmap and one box plot per setting."""
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
    metric = c3.selectbox("Metric", ["accuracy", "loss", "train_s"], key=f"{page}:hm")
    st.plotly_chart(heatmap_figure(heatmap_data(rows, x, y, metric), metric),
                    key=f"{page}:heatmap")
    st.caption("Each square averages every run with that pair of values (the other "
               "settings and the repeats); ± is the standard deviation, (n) the number of "
               "runs. A row or column of equal squares means that setting did not matter.")
    for name in names:
        st.plotly_chart(box_figure(rows, name, metric), key=f"{page}:box:{name}")


def _label(name: str) -> str:
    """A setting's readable name for the axis pickers."""
    return LABELS.get(name, name)


def results_table(rows: list[dict[str, Any]], best: dict[str, Any] | None) -> None:
    """Every cell's settings and metrics; the rows of the best setting highlighted."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    winners = {k: v for k, v in (best or {}).get("settings", {}).items()}

    def highlight(row: pd.Series) -> list[str]:
        hit = bool(winners) and all(row.get(k) == v for k, v in winners.items())
        return ["background-color: rgba(46, 160, 67, 0.25)" if hit else ""] * len(row)

    st.dataframe(frame.style.apply(highlight, axis=1), height=260)
