"""Plotly figures shared by the pages: training curves, confusion matrix, ROC / PR curves."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

CURVE_KEYS = {("training", "loss"): "train_loss", ("validation", "loss"): "valid_loss",
              ("training", "accuracy"): "train_accuracy", ("validation", "accuracy"): "accuracy"}
"""Where each curve's values are in a history record (see ``cvlib.training.train.epoch_record``)."""
CURVE_STYLE = {"training": ("#1f77b4", "solid"), "validation": ("#ff7f0e", "dot")}


def training_curves(history: list[dict[str, Any]], total_epochs: int = 0,
                    multi_label: bool = False) -> go.Figure:
    """Loss (left) and accuracy (right) per epoch, training and validation, as they arrive.

    Epoch 0 is the quick head that fine-tuning starts from.  A quick run has only that
    point and no epochs: it is drawn as bars (training vs validation), not as a lone dot
    on an empty time axis.  For multi-label data "accuracy" is the exact match.
    """
    accuracy = "exact match" if multi_label else "accuracy"
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Loss (lower is better)",
                                                        f"{accuracy.capitalize()} "
                                                        "(higher is better)"))
    quick = total_epochs == 0 and all(r["epoch"] == 0 for r in history)
    for (label, metric), name in CURVE_KEYS.items():
        points = [(r["epoch"], r[name]) for r in history if r.get(name) is not None]
        if not points:
            continue
        colour, dash = CURVE_STYLE[label]
        col, first = (1, True) if metric == "loss" else (2, False)
        if quick:
            trace = go.Bar(x=[label], y=[points[-1][1]], name=label, legendgroup=label,
                           marker_color=colour, showlegend=first,
                           text=[f"{points[-1][1]:.2f}"], textposition="auto")
        else:
            trace = go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points],
                               name=label, legendgroup=label, showlegend=first,
                               mode="lines+markers", line={"dash": dash, "color": colour})
        fig.add_trace(trace, row=1, col=col)
    losses = [r[k] for r in history for k in ("train_loss", "valid_loss")
              if r.get(k) is not None]
    fig.update_yaxes(range=[0, 1.1 * max(losses, default=1.0) or 1.0], row=1, col=1,
                     title_text="loss")
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", row=1, col=2, title_text=accuracy)
    if not quick:
        last = max([total_epochs, *[r["epoch"] for r in history]])
        fig.update_xaxes(range=[-0.2, last + 0.2], dtick=1,
                         title_text="epoch (0 = the quick head)")
    fig.update_layout(height=320, margin={"t": 70, "b": 40},
                      legend={"orientation": "h", "y": 1.25, "x": 0})
    return fig


def confusion_matrix(matrix: list[list[int]], classes: list[str]) -> go.Figure:
    """Rows are the true class, columns the prediction; the diagonal is what went right."""
    fig = go.Figure(go.Heatmap(z=matrix, x=classes, y=classes, colorscale="Blues",
                               text=matrix, texttemplate="%{text}", showscale=False,
                               hovertemplate="actual %{y}, predicted %{x}: %{z}<extra></extra>"))
    fig.update_layout(height=120 + 45 * len(classes), margin={"t": 30, "b": 30},
                      xaxis_title="predicted", yaxis_title="actual",
                      yaxis={"autorange": "reversed"})
    return fig


def roc_pr_curves(metrics: dict[str, Any]) -> go.Figure:
    """ROC (left) and precision-recall (right) per class and micro-averaged."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("ROC", "Precision-recall"))
    for name, roc in metrics.get("roc", {}).items():
        fig.add_trace(go.Scatter(x=roc["fpr"], y=roc["tpr"], mode="lines",
                                 name=f"{name} (AUC {roc['auc']:.3f})", legendgroup=name),
                      row=1, col=1)
    for name, pr in metrics.get("pr", {}).items():
        fig.add_trace(go.Scatter(x=pr["recall"], y=pr["precision"], mode="lines",
                                 name=f"{name} (AP {pr['ap']:.3f})", legendgroup=name,
                                 showlegend=False), row=1, col=2)
    fig.update_xaxes(title_text="false positive rate", row=1, col=1)
    fig.update_yaxes(title_text="true positive rate", row=1, col=1)
    fig.update_xaxes(title_text="recall", row=1, col=2)
    fig.update_yaxes(title_text="precision", row=1, col=2)
    fig.update_layout(height=360, margin={"t": 40, "b": 30})
    return fig


def lr_finder(lrs: list[float], losses: list[float], suggestion: float) -> go.Figure:
    """Loss against learning rate (log scale) with the suggested rate marked."""
    fig = go.Figure(go.Scatter(x=lrs, y=losses, mode="lines", name="loss"))
    fig.add_vline(x=suggestion, line_dash="dash",
                  annotation_text=f"suggested {suggestion:.1e}")
    fig.update_layout(height=280, xaxis_type="log", xaxis_title="learning rate",
                      yaxis_title="training loss", margin={"t": 30, "b": 30})
    return fig


def top_k_bars(pairs: list[tuple[str, float]]) -> go.Figure:
    """Horizontal bars of the top-k classes, most probable on top."""
    labels = [p[0] for p in pairs][::-1]
    values = [p[1] for p in pairs][::-1]
    fig = go.Figure(go.Bar(x=values, y=labels, orientation="h",
                           text=[f"{v:.1%}" for v in values], textposition="auto"))
    fig.update_layout(height=60 + 40 * len(pairs), xaxis={"range": [0, 1]},
                      margin={"t": 10, "b": 10, "l": 10, "r": 10})
    return fig


def accuracy_vs_latency(rows: list[dict[str, Any]], front: list[str]) -> go.Figure:
    """Each model as a point (accuracy against ms per image); the Pareto front as a line.

    ``rows`` need ``preset``, ``accuracy``, ``ms_per_image`` and ``size_mb``; ``front`` names
    the presets on the front, fastest first.  Marker size grows with size on disk.
    """
    on_front = [r for name in front for r in rows if r["preset"] == name]
    fig = go.Figure()
    fig.add_trace(go.Scatter(
        x=[r["ms_per_image"] for r in on_front], y=[r["accuracy"] for r in on_front],
        mode="lines", name="Pareto front", line={"dash": "dot", "color": "gray"}))
    fig.add_trace(go.Scatter(
        x=[r["ms_per_image"] for r in rows], y=[r["accuracy"] for r in rows],
        mode="markers+text", text=[r["preset"] for r in rows], textposition="top center",
        marker={"size": [10 + 2 * r["size_mb"] for r in rows],
                "color": ["#2ca02c" if r["preset"] in front else "#d62728" for r in rows]},
        name="models",
        hovertemplate="%{text}: %{y:.1%} at %{x:.1f} ms/image<extra></extra>"))
    fig.update_layout(height=380, margin={"t": 30, "b": 30}, showlegend=False,
                      xaxis_title="milliseconds per image (batch 1, this machine)",
                      yaxis_title="validation accuracy", yaxis={"tickformat": ".0%"})
    return fig
