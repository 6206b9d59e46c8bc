"""Clickable errors and run history: the data-centric loop on one page.

Pick a recorded run, click a confusion-matrix cell (or choose it in the list), look at those
images worst first with Grad-CAM on demand, fix their labels, retrain on the fixed data and
compare the matrices before and after.  The history lists every run, lines two up side by
side, and re-runs one exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import streamlit as st

from ui import plots
from ui.common import current_job, guarded, key, start_job
from ui.training import training_monitor

if TYPE_CHECKING:
    from cvlib.training.runs import RunRecord

TILES = 12
ALL = "All validation images, worst first"


def run_label(record: RunRecord) -> str:
    """A run in one line: when, what, on which data, how well."""
    data = (record.dataset.root or "?").rstrip("/").split("/")[-1]
    settings = record.settings
    accuracy = record.metrics.get("accuracy")
    score = f" · acc {accuracy:.1%}" if isinstance(accuracy, float) else ""
    return (f"{record.id} · {data} · {settings.get('architecture', record.kind)} "
            f"{settings.get('mode', '')}{score}")


def run_picker(page: str) -> RunRecord | None:
    """Choose a recorded training run (newest first); None when there is none yet."""
    from cvlib.training.runs import list_runs

    runs = list_runs("train")
    if not runs:
        st.info("No training run is recorded yet: train a model on page 01 (the workshop "
                "preset takes seconds), then come back.")
        st.page_link("pages/01_Training_introduction.py", label="Go to 01 Training introduction",
                     icon="🎓")
        return None
    by_id = {r.id: r for r in runs}
    chosen = st.selectbox("Run", list(by_id), format_func=lambda i: run_label(by_id[i]),
                          key=key(page, "run"))
    return by_id[chosen]


def predictions_panel(page: str, record: RunRecord):
    """Compute (in the background) and return the run's validation predictions."""
    job = f"errors-{page}-{record.id}"
    if current_job(job) is None and st.button("🔍 Look at this run's mistakes", type="primary",
                                               key=key(page, "analyse")):
        from cvlib.training.workflow import validation_predictions

        def work(progress):
            return validation_predictions(record)

        start_job(job, work, what="predicting the validation images")
    return training_monitor(job) if current_job(job) is not None else None


def cell_options(predictions) -> list[tuple[str, int | None, int | None]]:
    """The choices of what to look at: everything, then each non-empty confusion cell."""
    options: list[tuple[str, int | None, int | None]] = [(ALL, None, None)]
    if predictions.multi_label:
        return options
    preds = predictions.probs.argmax(1)
    classes = predictions.classes
    for t in range(len(classes)):
        for p in range(len(classes)):
            n = int(((predictions.targets == t) & (preds == p)).sum())
            if n:
                verdict = "right" if t == p else "mistaken"
                options.append((f"actual {classes[t]} → predicted {classes[p]} ({n}, {verdict})",
                                t, p))
    return options


def confusion_picker(page: str, predictions, metrics: dict[str, Any]):
    """The clickable confusion matrix and the list it drives; returns the chosen cell."""
    options = cell_options(predictions)
    labels = [o[0] for o in options]
    cell_key = key(page, "cell")
    if "confusion" in metrics:
        st.markdown("**Click a cell** (rows: the truth, columns: the prediction) to see "
                    "its images, worst first.")
        event = st.plotly_chart(clickable_confusion_matrix(metrics["confusion"],
                                                           predictions.classes),
                                on_select="rerun", selection_mode="points",
                                key=key(page, "cm"), config={"displayModeBar": False})
        clicked = _clicked_cell(event, predictions.classes)
        match = next((o[0] for o in options if (o[1], o[2]) == clicked), None)
        if match and st.session_state.get(key(page, "last-click")) != clicked:
            st.session_state[key(page, "last-click")] = clicked
            st.session_state[cell_key] = match
    if st.session_state.get(cell_key) not in labels:
        mistakes = [o[0] for o in options if o[1] is not None and o[1] != o[2]]
        st.session_state[cell_key] = mistakes[0] if mistakes else ALL
    chosen = st.selectbox("Images to look at", labels, key=cell_key)
    return options[labels.index(chosen)]


def clickable_confusion_matrix(matrix: list[list[int]], classes: list[str]):
    """The confusion matrix with one invisible square marker over each cell's centre.

    A click on a Plotly heatmap sends Streamlit no selection event, but a click on a
    scatter marker does: the markers, as large as the cells and fully transparent, make
    every cell clickable, and carry the cell's hover text in place of the heatmap's.
    """
    import plotly.graph_objects as go

    fig = plots.confusion_matrix(matrix, classes)
    fig.update_traces(hoverinfo="skip", hovertemplate=None, selector={"type": "heatmap"})
    fig.add_trace(go.Scatter(
        x=[predicted for _ in classes for predicted in classes],
        y=[actual for actual in classes for _ in classes],
        customdata=[n for row in matrix for n in row], mode="markers", showlegend=False,
        marker={"symbol": "square", "size": 40, "opacity": 0},
        hovertemplate="actual %{y}, predicted %{x}: %{customdata} (click to see them)"
                      "<extra></extra>"))
    fig.update_layout(clickmode="event+select", dragmode=False, hovermode="closest")
    return fig


def _clicked_cell(event: Any, classes: list[str]) -> tuple[int, int] | None:
    """(actual, predicted) of the clicked heatmap cell, from Plotly's selection event."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if not points:
        return None
    point = points[0]
    try:
        return classes.index(point["y"]), classes.index(point["x"])
    except (KeyError, ValueError):
        return None


def chosen_indices(predictions, cell: tuple[str, int | None, int | None]) -> list[int]:
    """Validation images in the chosen cell, highest loss first."""
    from cvlib.evaluation.metrics import per_sample_loss

    losses = per_sample_loss(predictions.probs, predictions.targets, predictions.multi_label)
    rows = np.arange(len(losses))
    _, actual, predicted = cell
    if actual is not None:
        preds = predictions.probs.argmax(1)
        rows = rows[(predictions.targets == actual) & (preds == predicted)]
    return sorted(rows.tolist(), key=lambda i: -losses[i])


def error_tiles(page: str, record: RunRecord, predictions, indices: list[int],
                dataset) -> None:
    """Tiles of the chosen images with loss, Grad-CAM on demand and fixes."""
    from cvlib.evaluation.metrics import per_sample_loss

    losses = per_sample_loss(predictions.probs, predictions.targets, predictions.multi_label)
    classes = predictions.classes
    cols = st.columns(4)
    for n, i in enumerate(indices[:TILES]):
        path = predictions.paths[i]
        name = dataset.name_of(path)
        with cols[n % 4], st.container(border=True):
            _tile_image(page, record, predictions, i)
            probs = predictions.probs[i]
            if predictions.multi_label:
                st.caption(f"{name} · loss {losses[i]:.2f}")
            else:
                p, t = int(np.argmax(probs)), int(predictions.targets[i])
                st.caption(f"{name} · actual **{classes[t]}** · predicted **{classes[p]}** "
                           f"{probs[p]:.0%} · loss {losses[i]:.2f}")
            if path.exists():
                _tile_fixes(page, dataset, name, classes)
            else:
                st.caption("✔️ fixed (moved)")
    if len(indices) > TILES:
        st.caption(f"{len(indices) - TILES} more not shown: fix these, then look again.")


def _tile_image(page: str, record: RunRecord, predictions, i: int) -> None:
    """The photo, or its Grad-CAM overlay when asked for (saved models only)."""
    from cvlib.data.images import load_image, thumbnail

    path = predictions.paths[i]
    if not path.exists():
        return
    image = load_image(path)
    model_dir = record.model_dir
    if model_dir and st.toggle("Grad-CAM", key=key(page, f"cam-{path}"),
                               help="Where the evidence for the predicted class lies."):
        image = _grad_cam(model_dir, image, int(np.argmax(predictions.probs[i])))
    st.image(thumbnail(image, 224), width="stretch")


@st.cache_resource(max_entries=2)
def _grad_cam_for(model_dir: str):
    """One Grad-CAM explainer per saved model (loading the network is the slow part)."""
    from cvlib.models.explain import GradCam

    return GradCam.load(model_dir)


def _grad_cam(model_dir: str, image, class_index: int):
    """The image with the Grad-CAM heatmap of ``class_index`` blended over it."""
    from cvlib.models.explain import overlay_heatmap

    cam = _grad_cam_for(model_dir)
    return overlay_heatmap(image, cam.heatmap(image, class_index), cam.preprocessing)


def _tile_fixes(page: str, dataset, name: str, classes: list[str]) -> None:
    """Relabel, set aside, or mark as a hard negative: undoable file moves."""
    current = name.split("/")[0] if dataset.kind == "folder" else None
    choice = st.selectbox("Relabel as", ["—", *[c for c in classes if c != current]],
                          key=key(page, f"to-{name}"), label_visibility="collapsed")
    left, right = st.columns(2)
    if choice != "—" and st.button(f"Relabel as {choice}", key=key(page, f"re-{name}")):
        _fix(dataset, "relabel", name, choice)
    if left.button("Remove", key=key(page, f"rm-{name}"), help="Set aside in _removed/"):
        _fix(dataset, "drop", name, None)
    if right.button("Hard negative", key=key(page, f"hn-{name}"),
                    help="None of the classes: kept in _hard_negatives/ for page 12."):
        _fix(dataset, "hard_negative", name, None)


@guarded
def _fix(dataset, action: str, name: str, label: str | None) -> None:
    """Apply one fix through the dataset's fix store and refresh."""
    from cvlib.data.fixes import fixes_for

    fixes_for(dataset).apply(action, name, label)
    st.rerun()


def fixes_summary(page: str, dataset) -> int:
    """The fixes made so far, with an undo button; returns how many there are."""
    from cvlib.data.fixes import fixes_for

    store = fixes_for(dataset)
    history = store.history()
    if history:
        st.markdown(f"**{len(history)} fix(es) applied** (newest last): " + ", ".join(
            f"{f.name} → {f.label_after or f.action}" for f in history[-6:]))
        if st.button("↩️ Undo the last fix", key=key(page, "undo")):
            guarded(store.undo)()
            st.rerun()
    return len(history)


def retrain_panel(page: str, record: RunRecord, before: dict[str, Any]) -> None:
    """Retrain with the run's settings on the fixed data; matrices before and after."""
    job = f"retrain-{page}-{record.id}"
    if st.button("🔁 Retrain on the fixed data", key=key(page, "retrain")):
        start_job(job, _retrain_work(record), what="retraining on the fixed data")
    if current_job(job) is None:
        return
    after = training_monitor(job)
    if after is None:
        return
    left, right = st.columns(2)
    for col, title, metrics, classes in (
            (left, "Before", before, record.dataset.classes),
            (right, "After the fixes", after.metrics, after.card.classes)):
        with col:
            st.metric(title, f"{metrics['accuracy']:.1%}")
            if "confusion" in metrics:
                st.plotly_chart(plots.confusion_matrix(metrics["confusion"], classes),
                                key=key(page, f"cm-{title}"))
    st.caption("Both are measured on the run's validation images (minus those set aside, "
               "with their corrected labels after): fixing labels changes both the model "
               "and the answer key, so compare per class, not only the headline.")


def _retrain_work(record: RunRecord):
    """Background work: the run's settings on its data as fixed since, recorded."""

    def work(progress):
        from cvlib.training.workflow import retrain_with_fixes

        return retrain_with_fixes(record, progress=progress)

    return work


def history_panel(page: str) -> None:
    """Every run in a table; two side by side; one re-run exactly."""
    import pandas as pd

    from cvlib.training.runs import compare_runs, list_runs

    runs = list_runs()
    if not runs:
        st.info("No runs yet.")
        return
    st.dataframe(pd.DataFrame([_history_row(r) for r in runs]), width="stretch",
                 hide_index=True)
    trainings = {r.id: r for r in runs if r.kind == "train"}
    if len(trainings) >= 2:
        ids = list(trainings)
        c1, c2 = st.columns(2)
        a = c1.selectbox("Run A", ids, index=1, key=key(page, "cmp-a"),
                         format_func=lambda i: run_label(trainings[i]))
        b = c2.selectbox("Run B", ids, index=0, key=key(page, "cmp-b"),
                         format_func=lambda i: run_label(trainings[i]))
        table = pd.DataFrame(compare_runs(trainings[a], trainings[b]))
        table[["a", "b"]] = table[["a", "b"]].astype(str)
        only_diff = st.toggle("Only what differs", True, key=key(page, "cmp-diff"))
        st.dataframe(table[~table["same"]] if only_diff else table, width="stretch",
                     hide_index=True)
    if trainings:
        rerun_panel(page, trainings)


def _history_row(record: RunRecord) -> dict[str, Any]:
    """One line of the history table."""
    return {"id": record.id, "kind": record.kind, "created": record.created,
            "surface": record.page, "data": record.dataset.root,
            "architecture": record.settings.get("architecture"),
            "mode": record.settings.get("mode"), "accuracy": record.metrics.get("accuracy"),
            "re-run of": record.rerun_of, "model": record.model_dir}


def rerun_panel(page: str, trainings: dict[str, RunRecord]) -> None:
    """Re-run one training exactly and say whether the metrics came out the same."""
    st.markdown("**Re-run exactly**: same files (checked by fingerprint), same validation "
                "images, same seed and settings. Quick training is deterministic, so the "
                "numbers must match to the last digit; a difference means something changed.")
    chosen = st.selectbox("Run to repeat", list(trainings), key=key(page, "rerun-id"),
                          format_func=lambda i: run_label(trainings[i]))
    job = f"rerun-{page}"
    if st.button("▶ Re-run it", key=key(page, "rerun")):
        from cvlib.training.workflow import rerun

        def work(progress):
            return rerun(trainings[chosen], progress=progress)[1]

        start_job(job, work, what="re-running the training")
    if current_job(job) is None:
        return
    new = training_monitor(job)
    if new is not None:
        from cvlib.training.runs import load_run, same_metrics

        original = load_run(new.rerun_of)
        if same_metrics(original, new):
            st.success(f"Re-run {new.id} reproduced {original.id}: accuracy "
                       f"{new.metrics['accuracy']:.4f}, identical metrics.")
        else:
            st.warning(f"Re-run {new.id} differs from {original.id}: accuracy "
                       f"{new.metrics.get('accuracy')} vs "
                       f"{original.metrics.get('accuracy')} (full training on a GPU is "
                       "not bit-for-bit deterministic).")
