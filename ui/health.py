"""The dataset health gate: one widget every data page shows before training.

It lists what :func:`cvlib.data.health.check_health` found, with the images and one-click fixes
(set copies aside, relabel as suggested), all undoable; and on demand it looks for likely
label errors with cross-validated quick heads (:mod:`cvlib.training.label_errors`), as a background
job so the page stays responsive.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cvlib.data.dataset import Dataset
from cvlib.data.health import DROP, PROBLEM, HealthReport, check_health, extra_copies
from ui.common import current_job, guarded, key, start_job
from ui.datasets import image_grid

SHOWN = 8
"""Thumbnails per finding: enough to see the pattern, few enough to stay fast."""
BULK_DROP = {"duplicate": "Keep one copy, set the others aside",
             "leakage": "Keep one copy, set the others aside",
             "conflicting_labels": "Keep the first copy, set the others aside",
             "unreadable": "Set these files aside",
             "tiny": "Set these images aside", "huge": "Set these images aside",
             "aspect": "Set these images aside", "dark": "Set these images aside",
             "bright": "Set these images aside", "blurry": "Set these images aside"}


@st.cache_data(show_spinner="Checking the data's health…", max_entries=16)
def _report(root: str, listing: tuple[tuple[str, int], ...], labels: tuple[tuple[str, ...], ...],
            valid_pct: float, seed: int, _dataset: Dataset) -> HealthReport:
    """Cached per file listing, modification times and labels: a fix changes the key."""
    return check_health(_dataset, valid_pct=valid_pct, seed=seed)


def health_report(dataset: Dataset, valid_pct: float = 0.2, seed: int = 42) -> HealthReport:
    """The (cached) health report of a dataset, as training will split it."""
    listing = tuple((str(item.path), item.path.stat().st_mtime_ns if item.path.exists() else 0)
                    for item in dataset.items)
    return _report(str(dataset.root), listing, tuple(item.labels for item in dataset.items),
                   valid_pct, seed, dataset)


def health_gate(page: str, dataset: Dataset, *, valid_pct: float = 0.2,
                seed: int = 42) -> HealthReport:
    """Show the dataset's health with images and fixes; returns the report.

    Call it right after the dataset summary; ``valid_pct`` and ``seed`` must be the ones
    training will use, so leakage is judged on the real split.
    """
    report = health_report(dataset, valid_pct, seed)
    label_findings = _label_error_findings(page, dataset)
    findings = [*label_findings, *report.findings]
    n_problems = sum(f.severity == PROBLEM for f in findings)
    title = (f"🩺 Dataset health: {n_problems} problem(s), {len(findings) - n_problems} "
             "warning(s)" if findings else "🩺 Dataset health: nothing to fix found")
    with st.expander(title, expanded=bool(n_problems)):
        st.markdown(
            "Before training, every image is read once: identical and near-identical copies "
            "(perceptual hashes), copies on both sides of the validation split (*leakage*: "
            "validation would grade the model on photos it learned from), unreadable files, "
            "small or imbalanced classes, odd sizes, and dark, bright or blurry photos.")
        for n, finding in enumerate(findings):
            _show_finding(page, dataset, finding, n)
        _label_error_search(page, dataset)
        _undo_button(page, dataset)
    return report


def _show_finding(page: str, dataset: Dataset, finding, n: int) -> None:
    """One finding: its words, its first images, and the fixes that fit it."""
    icon = "🛑" if finding.severity == PROBLEM else "⚠️"
    st.markdown(f"{icon} **{finding.title}**: {finding.message}")
    shown = finding.items[:SHOWN]
    if shown:
        captions = [f"{name} → {finding.suggestions[name]}" if name in finding.suggestions
                    else name for name in shown]
        image_grid([dataset.root / name for name in shown], captions, columns=SHOWN)
    if finding.check == "label_error":
        _relabel_buttons(page, dataset, finding)
    elif finding.check in BULK_DROP and DROP in finding.fixes:
        names = extra_copies(finding) if finding.check in (
            "duplicate", "leakage", "conflicting_labels") else finding.items
        if st.button(f"{BULK_DROP[finding.check]} ({len(names)})",
                     key=key(page, f"health-fix-{n}")):
            _apply(dataset, [("drop", name, None) for name in names])


def _relabel_buttons(page: str, dataset: Dataset, finding) -> None:
    """Per suspect image: relabel as the models suggest, or set it aside."""
    for name in finding.items[:SHOWN]:
        suggestion = finding.suggestions.get(name, "")
        cols = st.columns([3, 2, 2])
        cols[0].caption(name)
        if suggestion and "+" not in suggestion and suggestion != "none" and cols[1].button(
                f"Relabel as {suggestion}", key=key(page, f"relabel-{name}")):
            _apply(dataset, [("relabel", name, suggestion)])
        if cols[2].button("Set aside", key=key(page, f"drop-{name}")):
            _apply(dataset, [("drop", name, None)])


@guarded
def _apply(dataset: Dataset, changes: list[tuple[str, str, str | None]]) -> None:
    """Apply fixes through the dataset's fix store, then rerun so every view updates."""
    from cvlib.data.fixes import fixes_for

    store = fixes_for(dataset)
    for action, name, label in changes:
        store.apply(action, name, label)
    st.toast(f"{len(changes)} fix(es) applied; 'Undo the last fix' takes them back one by one.")
    st.rerun()


def _undo_button(page: str, dataset: Dataset) -> None:
    """Undo the most recent fix on this dataset (files come back where they were)."""
    from cvlib.data.fixes import fixes_for

    history = guarded(lambda: fixes_for(dataset).history())() or []
    if history and st.button(f"↩️ Undo the last fix ({len(history)} applied)",
                             key=key(page, "health-undo")):
        guarded(lambda: fixes_for(dataset).undo())()
        st.rerun()


def _job_name(page: str, dataset: Dataset) -> str:
    return f"label-errors-{page}-{dataset.root.name}"


def _label_error_search(page: str, dataset: Dataset) -> None:
    """A button that starts the cross-validated label-error search in the background."""
    st.markdown(
        "**Likely label errors** need a model's opinion, and an honest one: each image is "
        "judged by a quick head trained *without* it (5-fold cross-validation on cached "
        "features), and `cleanlab` flags labels those heads do not believe.")
    if st.button("🔎 Find likely label errors", key=key(page, "find-label-errors")):
        start_job(_job_name(page, dataset), _label_error_work(dataset),
                  what="cross-validating quick heads")


def _label_error_work(dataset: Dataset):
    """The background work: cross-validated probabilities, then cleanlab's ranking."""

    def work(progress):
        from cvlib.training.config import TrainConfig
        from cvlib.training.label_errors import find_label_errors

        config = TrainConfig(architecture="efficientnet_lite0", image_size=224)
        return find_label_errors(dataset, config, progress=progress)

    return work


def _label_error_findings(page: str, dataset: Dataset) -> list:
    """The finished search's findings (empty before a search, or while it runs)."""
    from ui.training import training_monitor

    if current_job(_job_name(page, dataset)) is None:
        return []
    issues = training_monitor(_job_name(page, dataset))
    if issues is None:
        return []
    from cvlib.training.label_errors import label_error_finding

    present = {dataset.name_of(item.path) for item in dataset.items}
    still_there = [issue for issue in issues if issue.name in present
                   and Path(issue.path).exists()]
    if not issues:
        st.success("No likely label errors: cross-validated models agree with every label.")
    return label_error_finding(still_there)
