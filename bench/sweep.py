"""Wall time of local grids on this CPU: a 24-run quick grid, or page 11's workshop grid.

    .venv/bin/python bench/sweep.py [--data ../shared/data/groceries4]
    .venv/bin/python bench/sweep.py --workshop [--repeats 3] [--data sample_data/fridge4 ...]

The quick grid is EfficientNet-Lite0 with 4 weight decays × 3 label smoothings × 2 image
sizes (192 and 224 px): 24 cells, each a distinct run.  *Cold* starts from an empty studio
home (features computed for both sizes), *warm* runs the same grid again with an empty
result store but the feature cache kept (the target: at most 60 s), *stored* runs it a
third time with everything stored (a resume).

``--workshop`` runs page 11's workshop grid (``WORKSHOP_GRID`` × ``WORKSHOP_GRID_FIXED``:
full training at three learning rates) once per dataset from a cold cache, as a learner's
first click does, and prints per learning rate what the training did: the starting quick
head, the last epoch (validation accuracy and loss, training loss), the worst validation
loss on the way, the kept model's accuracy, and whether the kept model is the starting
head; then the grid's wall time.  Default data: the sample data and, when present,
``../shared/data/groceries4``.

A fresh temporary studio home is used, never yours.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
GRID = {"grid": {"weight_decay": [1e-4, 1e-3, 1e-2, 1e-1], "label_smoothing": [0.0, 0.1, 0.2],
                 "image_size": [192, 224]},
        "fixed": {"mode": "quick", "architecture": "efficientnet_lite0"}}
GROCERIES = REPO.parent / "shared" / "data" / "groceries4"


def quick_grid(data: str, home: Path) -> None:
    """Run the quick grid three times and print the wall times and their ratios."""
    from cvlib.training.sweep import Grid, SweepStore, best_setting, run_sweep

    grid = Grid.from_dict(GRID, [data])
    timings = {}
    for phase, store in (("cold", "store-cold"), ("warm", "store-warm"), ("stored", "store-warm")):
        start = time.perf_counter()
        result = run_sweep(grid, store=SweepStore(home / store))
        timings[phase] = time.perf_counter() - start
        print(f"{phase:>6}: {len(result.rows)} cells, {result.n_trained} trained, "
              f"{timings[phase]:7.1f} s ({timings[phase] / len(result.rows):.2f} s/cell)")
    best = best_setting(result.rows)
    print(f"best: {best['settings']} accuracy {best['mean']:.3f}")
    print(f"cold / warm: {timings['cold'] / timings['warm']:.1f}x; "
          f"warm target <= 60 s: {'met' if timings['warm'] <= 60 else 'missed'}")


def workshop_grid(data: str, home: Path, repeats: int) -> None:
    """Page 11's workshop grid on one dataset: what each learning rate did, and the time.

    With repeats, each line is the mean over the seeded splits (seed 42 is the page's), and
    the last column lists each split's last-epoch accuracy: how much of it is luck.
    """
    from cvlib.training.presets import WORKSHOP_GRID, WORKSHOP_GRID_FIXED
    from cvlib.training.sweep import Grid, SweepStore, run_sweep, training_effects

    grid = Grid.from_dict({"grid": WORKSHOP_GRID, "fixed": WORKSHOP_GRID_FIXED,
                           "repeats": repeats}, [data])
    start = time.perf_counter()
    result = run_sweep(grid, store=SweepStore(home / f"store-{Path(data).name}"))
    wall = time.perf_counter() - start
    print(f"{Path(data).name}: workshop grid {WORKSHOP_GRID_FIXED}")
    print("  lr      start acc/loss   last acc/valid loss/train loss   worst valid loss"
          "   kept acc   kept the start   verdict        last acc per split")
    for e in training_effects(result.rows, ["lr"]):
        splits = [r["last_accuracy"] for r in result.rows if r["lr"] == e.settings["lr"]]
        print(f"  {e.settings['lr']:<7.0e} {e.start_accuracy:6.1%} {e.start_valid_loss:6.3f}"
              f"     {e.last_accuracy:6.1%} {e.last_valid_loss:6.3f} {e.last_train_loss:6.3f}"
              f"           {e.peak_valid_loss:7.3f}        {e.kept_accuracy:6.1%}"
              f"     {f'{e.kept_start} of {e.n}':<14}   {e.verdict:<14} "
              f"{', '.join(f'{a:.0%}' for a in splits)}")
    print(f"  {len(result.rows)} cells in {wall:.1f} s ({wall / len(result.rows):.1f} s per "
          "cell, features included)")


def main() -> None:
    """Run the chosen grid and print its figures with the machine's load."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", action="append", help="dataset folder (repeatable)")
    parser.add_argument("--workshop", action="store_true", help="page 11's workshop grid")
    parser.add_argument("--repeats", type=int, default=1,
                        help="workshop grid: seeded splits per learning rate (seeds 42, 43...)")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    os.environ["CVLIB_HOME"] = str(home)

    import torch  # noqa: F401 - imported before timing: no run should pay for it

    if args.workshop:
        defaults = [str(REPO / "sample_data" / "fridge4")]
        defaults += [str(GROCERIES)] if GROCERIES.is_dir() else []
        for data in args.data or defaults:
            workshop_grid(data, home, args.repeats)
    else:
        quick_grid((args.data or [str(GROCERIES)])[0], home)
    print(f"CPU threads: {os.cpu_count()}, load average: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
