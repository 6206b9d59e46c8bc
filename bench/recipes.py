"""Training recipes measured on real photos the training never saw: how the defaults are chosen.

    nice -n 15 .venv/bin/python bench/recipes.py [--quick] [--datasets g4,g15,c10s,c10]
                                                 [--recipes today,default] [--mode quick]

Data sets (``../shared/data``, see its README):

* ``g4``: ``groceries4`` (4 classes, 160 photos), repeated stratified 5-fold: each recipe
  trains on four fifths and is scored on the fifth it never saw;
* ``g15``: ``groceries15/train`` (30 a class) -> ``groceries15/test`` (1,815 photos);
* ``c10s``: a seeded 30-a-class sample of ``clothing10/train`` -> ``clothing10/validation``;
* ``c10``: all of ``clothing10/train`` (3,068) -> ``clothing10/validation`` (341): more data.

The first three are the *small-data* sets (what most users bring); a recipe is chosen on
their mean, never on one split.  For every recipe and data set the table gives the accuracy
on the held-out photos, the estimate the studio shows the user (and its error against the
held-out accuracy), the wall time of training and the peak memory.  Each cell runs in its own
process, so its peak memory is its own; the feature cache is shared (``$CVLIB_HOME``), so the
first recipe to use a feature setting pays for the features and later ones do not: run a
recipe alone on a fresh ``CVLIB_HOME`` for cold-cache times.  ``--quick`` runs one repeat of
``g4`` and scores ``g15`` on a seeded 40-a-class sample of its test photos.

A recipe is a small declarative entry in :data:`RECIPES`: a name and the
:class:`cvlib.training.config.TrainConfig` settings it changes.  ``today`` pins the defaults
before this benchmark existed, so the "before" row can always be re-run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATA = next((d for d in (REPO.parent / "shared" / "data", REPO.parent.parent / "shared" / "data")
             if d.is_dir()), REPO.parent / "shared" / "data")
"""``../shared/data`` beside the checkout (or beside its worktree folder)."""
SMALL = ("g4", "g15", "c10s")
DATASETS = {"g4": "groceries4 5-fold", "g15": "groceries15 train->test",
            "c10s": "clothing10 30/class->validation", "c10": "clothing10 all->validation"}

TODAY = {"architecture": "efficientnet_lite2", "image_size": 260, "views": ["identity"],
         "weight_decay": 1e-2, "fit_on_all": False, "estimate_folds": 0,
         "train_views": ["identity"]}
"""The quick-mode defaults before this benchmark (README, "Choosing the defaults")."""

ALL = {**TODAY, "fit_on_all": True, "estimate_folds": 5}
"""Today's features, the final head fitted on every photo, the estimate cross-validated."""
FLIP = ["identity", "hflip"]
AUG4 = ["identity", "hflip", "zoom", "zoom_hflip"]

RECIPES: dict[str, dict[str, Any]] = {
    "today": TODAY,
    "default": {},
    "all": ALL,
    "all-aug2": {**ALL, "train_views": FLIP},
    "all-aug4": {**ALL, "train_views": AUG4},
    "all-aug4-wd3e-2": {**ALL, "train_views": AUG4, "weight_decay": 3e-2},
    "all-aug4-wd3e-3": {**ALL, "train_views": AUG4, "weight_decay": 3e-3},
    "all-aug4-wd1e-3": {**ALL, "train_views": AUG4, "weight_decay": 1e-3},
    "all-aug2-wd3e-3": {**ALL, "train_views": FLIP, "weight_decay": 3e-3},
    "all-aug2-wd1e-3": {**ALL, "train_views": FLIP, "weight_decay": 1e-3},
    "all-flip-aug4": {**ALL, "views": FLIP, "train_views": AUG4},
    "all-300-aug2": {**ALL, "image_size": 300, "train_views": FLIP},
    "all-lite0-aug4": {**ALL, "architecture": "efficientnet_lite0", "image_size": 224,
                       "train_views": AUG4},
}
"""Recipe name -> the TrainConfig settings it sets (``default`` is TrainConfig() as it is)."""


def tasks(name: str, quick: bool) -> list[tuple[Any, Any]]:
    """``(training data, held-out data)`` pairs for one benchmark data set."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    from cvlib.data.dataset import load_dataset
    from cvlib.data.splits import sample_per_class

    if name == "g4":
        data = load_dataset(DATA / "groceries4")
        folds = RepeatedStratifiedKFold(n_splits=5, n_repeats=1 if quick else 2, random_state=0)
        return [(data.subset(tr), data.subset(te))
                for tr, te in folds.split(data.targets(), data.targets())]
    if name == "g15":
        test = load_dataset(DATA / "groceries15" / "test")
        return [(load_dataset(DATA / "groceries15" / "train"),
                 sample_per_class(test, 40, seed=0) if quick else test)]
    train = load_dataset(DATA / "clothing10" / "train")
    valid = load_dataset(DATA / "clothing10" / "validation")
    return [(sample_per_class(train, 30, seed=0) if name == "c10s" else train, valid)]


def held_out_accuracy(result, held_out) -> float:
    """Accuracy of a trained result on photos it never saw (features cached like training)."""
    import numpy as np

    from cvlib.training.features import FeatureSpec, extract_features
    from cvlib.training.quick_train import head_logits

    if result.fine_tuned is not None:
        from cvlib.models.inference import Predictor, evaluate_model
        from cvlib.storage.home import studio_home

        folder = result.save(studio_home() / "bench-model")
        metrics, _ = evaluate_model(Predictor.load(folder, "onnx"),
                                    [p for p, _ in held_out.items],
                                    [labels for _, labels in held_out.items])
        return float(metrics["accuracy"])
    spec = FeatureSpec.of(result.config, held_out.multi_label)
    feats, _ = extract_features([p for p, _ in held_out.items], spec)
    column = {name: j for j, name in enumerate(result.meta["classes"])}
    truth = np.array([column[labels[0]] for _, labels in held_out.items])
    return float((head_logits(result.head, feats).argmax(1) == truth).mean())


def config_of(recipe: str, mode: str = "quick"):
    """The :class:`cvlib.training.config.TrainConfig` a recipe trains with."""
    from cvlib.training.config import TrainConfig, with_overrides

    settings = {k: tuple(v) if isinstance(v, list) else v for k, v in RECIPES[recipe].items()}
    return with_overrides(TrainConfig(mode=mode), **settings)


def run_cell(recipe: str, name: str, mode: str, quick: bool) -> dict[str, Any]:
    """Train the recipe on every task of one data set; held-out accuracy, estimate, time."""
    from cvlib.training.train import train

    config = config_of(recipe, mode)
    accs, estimates, seconds = [], [], 0.0
    for training, held_out in tasks(name, quick):
        start = time.perf_counter()
        result = train(training, config)
        seconds += time.perf_counter() - start
        accs.append(held_out_accuracy(result, held_out))
        estimates.append(result.meta.get("estimate", {}).get("accuracy",
                                                              result.metrics["accuracy"]))
    return {"recipe": recipe, "data": name, "accuracy": statistics.mean(accs),
            "estimate": statistics.mean(estimates), "train_s": seconds / len(accs),
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "n_tasks": len(accs)}


def _cell(cell: dict[str, Any] | None) -> str:
    """One table cell: held-out accuracy (estimate, its error; time, memory), or "-"."""
    if cell is None:
        return "-"
    return (f"{cell['accuracy']:.3f} (est {cell['estimate']:.3f}, err "
            f"{cell['estimate'] - cell['accuracy']:+.3f}; {cell['train_s']:.0f} s, "
            f"{cell['peak_mb'] / 1024:.1f} GB)")


def table(rows: list[dict[str, Any]], names: list[str]) -> str:
    """The Markdown table: one row per recipe, held-out accuracy per data set and the mean."""
    small = [n for n in names if n in SMALL]
    head = "| recipe | " + " | ".join(DATASETS[n] for n in names)
    head += " | small-data mean |" if small else " |"
    lines = [head, "| --- " * (len(names) + 1 + bool(small)) + "|"]
    for recipe in dict.fromkeys(r["recipe"] for r in rows):
        cells = {r["data"]: r for r in rows if r["recipe"] == recipe}
        parts = [_cell(cells.get(n)) for n in names]
        have = [cells[n]["accuracy"] for n in small if n in cells]
        mean = [f"{statistics.mean(have):.3f}" if len(have) == len(small) else "-"] \
            if small else []
        lines.append(f"| {recipe} | " + " | ".join(parts + mean) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--recipes", default="today,default")
    parser.add_argument("--mode", choices=["quick", "full"], default="quick")
    parser.add_argument("--quick", action="store_true",
                        help="one repeat of g4, a 40-a-class sample of g15's test photos")
    parser.add_argument("--rows", nargs="+", metavar="LOG",
                        help="print the table from the JSON lines of earlier runs' output")
    parser.add_argument("--cell", nargs=2, metavar=("RECIPE", "DATA"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cell:
        print(json.dumps(run_cell(*args.cell, args.mode, args.quick)))
        return
    names = args.datasets.split(",")
    if args.rows:
        rows = [json.loads(line) for log in args.rows for line in Path(log).read_text()
                .splitlines() if line.startswith("{")]
        print(table(rows, names))
        return
    os.environ.setdefault("CVLIB_HOME", str(Path.home() / ".cvlib-studio"))
    rows = []
    for recipe in args.recipes.split(","):
        for name in names:
            command = [sys.executable, __file__, "--cell", recipe, name, "--mode", args.mode]
            done = subprocess.run(command + ["--quick"] * args.quick, capture_output=True,
                                  text=True, check=False)
            if done.returncode:
                print(done.stderr[-3000:], file=sys.stderr)
                raise SystemExit(f"{recipe} on {name} failed")
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(rows[-1]), flush=True)
    print(f"\n{args.mode} mode{' (--quick)' if args.quick else ''}; each cell: held-out "
          "accuracy (the estimate shown to the user, its error; training wall time, peak "
          "memory)\n")
    print(table(rows, names))


if __name__ == "__main__":
    main()
