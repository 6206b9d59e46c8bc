"""The recipe benchmark on a lent GPU: the same recipes and data sets as ``bench/recipes.py``,
with features and fine-tuning on CUDA in mixed precision (autocast for features, fastai's
``to_fp16`` for fine-tuning, channels-last both).

    .venv/bin/python bench/gpu_check.py [--recipes default] [--modes quick,full]
                                        [--datasets g4,g15,c10s,c10] [--quick]

Prints the device, then one line per recipe, mode and data set (held-out accuracy, the
estimate shown to the user, training wall time, peak GPU memory) and the Markdown table of
``bench/recipes.py``.  On a machine without CUDA it says so and runs only quick mode on
``g4``, so it doubles as a smoke test.  Sized for a few minutes of an H200: quick mode is
seconds, full mode on ``c10`` (3,068 photos, 3 epochs) about a minute.
"""

from __future__ import annotations

import argparse
import json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--recipes", default="default")
    parser.add_argument("--modes", default="quick,full")
    parser.add_argument("--datasets", default="g4,g15,c10s,c10")
    parser.add_argument("--quick", action="store_true", help="as bench/recipes.py --quick")
    args = parser.parse_args()

    import recipes
    import torch

    cuda = torch.cuda.is_available()
    print(f"torch {torch.__version__}; CUDA available: {cuda}"
          + (f" ({torch.cuda.get_device_name(0)})" if cuda else ""), flush=True)
    modes = args.modes.split(",") if cuda else ["quick"]
    names = args.datasets.split(",") if cuda else ["g4"]
    for mode in modes:
        rows = []
        for recipe in args.recipes.split(","):
            for name in names:
                if cuda:
                    torch.cuda.reset_peak_memory_stats()
                row = recipes.run_cell(recipe, name, mode, args.quick)
                if cuda:
                    row["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
                rows.append(row)
                print(json.dumps(row), flush=True)
        print(f"\n{mode} mode on {'cuda' if cuda else 'cpu'} (peak memory column: the "
              "process's RAM)\n")
        print(recipes.table(rows, names), flush=True)
    if not cuda:
        print("no CUDA device: the GPU path (mixed precision, channels-last) was not run")


if __name__ == "__main__":
    main()
