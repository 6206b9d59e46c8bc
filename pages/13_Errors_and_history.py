"""Page 13: clicking into a model's mistakes, fixing the data, and the history of runs."""

from __future__ import annotations

import streamlit as st

from cvlib.data.dataset import load_dataset
from cvlib.training.runs import RunRecord
from ui.common import guarded, next_step, page_header
from ui.errors import (
    chosen_indices,
    confusion_picker,
    error_tiles,
    fixes_summary,
    history_panel,
    predictions_panel,
    retrain_panel,
    run_picker,
)

PAGE = "p13"

page_header("13 · Errors and history",
            "See why a model fails, fix the data where it fails, retrain, and compare runs.",
            "🔬")
st.markdown(
    "**Data-centric improvement.** Once the model is reasonable, most of the remaining "
    "accuracy is in the data: wrong labels, photos of nothing, copies, classes that look "
    "alike. The confusion matrix says *which* classes are confused; clicking a cell shows "
    "*which photos*, sorted by **loss** (how surprised the model was by the label: a "
    "confident wrong answer costs most, and a very high loss often means the *label* is "
    "wrong, not the model). **Grad-CAM** colours where the evidence for the prediction lies: "
    "a model looking at the background has learned a shortcut. Fix what you find, retrain "
    "with the same settings, and compare before and after on the same validation photos."
)

st.header("1 · Pick a run")
record = run_picker(PAGE)


@guarded
def mistakes_section(record: RunRecord) -> None:
    """Predictions of the run, the clickable matrix, the images, fixes and retraining."""
    predictions = predictions_panel(PAGE, record)
    if predictions is None:
        return
    from cvlib.evaluation.metrics import evaluate

    metrics = evaluate(predictions.probs, predictions.targets, predictions.classes,
                       multi_label=predictions.multi_label)
    dataset = load_dataset(record.dataset.root)
    st.header("2 · Click into the mistakes")
    st.metric("Validation accuracy of this run", f"{metrics['accuracy']:.1%}")
    cell = confusion_picker(PAGE, predictions, metrics)
    error_tiles(PAGE, record, predictions, chosen_indices(predictions, cell), dataset)
    st.header("3 · Retrain on the fixed data")
    st.markdown("Each fix moves a file (relabel: to the right class folder; remove: to "
                "`_removed/` next to the dataset; hard negative: to `_hard_negatives/`), so "
                "it is undoable. When you are done, retrain with this run's settings.")
    fixes_summary(PAGE, dataset)
    retrain_panel(PAGE, record, metrics)


if record is not None:
    mistakes_section(record)

st.header("4 · Run history")
st.markdown(
    "Every training leaves a record: the data's fingerprint, the validation files, the seed, "
    "every setting, library versions, metrics and timings. Two records side by side show "
    "what changed between them; re-running one proves the result is reproducible."
)
guarded(history_panel)(PAGE)

next_step("pages/13_Errors_and_history.py", [
    "Flip a label on purpose (move a photo into the wrong folder), train on page 01 and find "
    "it here: which cell is it in, and how high is its loss?",
    "Use the dataset health check on page 01 to find likely label errors before training.",
    "Compare a quick and a full run of the same data in the history: what changed besides "
    "the accuracy?",
])
