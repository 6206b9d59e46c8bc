"""Wall time of a 24-run quick-mode grid on this CPU: cold feature cache, warm, and stored.

    .venv/bin/python bench/sweep.py [--data ../shared/data/groceries4]

The grid is EfficientNet-Lite0 with 4 weight decays × 3 label smoothings × 2 image sizes
(192 and 224 px): 24 cells, each a distinct run.  *Cold* starts from an empty studio home
(features computed for both sizes), *warm* runs the same grid again with an empty result
store but the feature cache kept (the target: at most 60 s), *stored* runs it a third time
with everything stored (a resume).  A fresh temporary studio home is used, never yours.
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


def main() -> None:
    """Run the grid three times and print the wall times and their ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "groceries4"))
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    os.environ["CVLIB_HOME"] = str(home)

    import torch  # noqa: F401 - imported before timing: neither run should pay for it

    from cvlib.training.sweep import Grid, SweepStore, best_setting, run_sweep

    grid = Grid.from_dict(GRID, [args.data])
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
    print(f"CPU threads: {os.cpu_count()}, load average: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
