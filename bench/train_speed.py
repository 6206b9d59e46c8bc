"""Time to a validated model: quick (cold and warm feature cache) vs full, on real photos.

Each run is a fresh ``python -m cvlib train ... --json`` process, so the wall time includes
process start and imports, as a user meets it.  Peak memory is the child's max RSS.

Usage: .venv/bin/python bench/train_speed.py [--data ../shared/data/groceries4] [--skip-full]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run_cli(args: list[str], home: Path) -> dict:
    """Run the CLI once; return its JSON plus wall seconds and peak RSS (MB)."""
    env = {**os.environ, "CVLIB_HOME": str(home)}
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out_file, tempfile.TemporaryFile() as err_file:
        proc = subprocess.Popen([sys.executable, "-m", "cvlib", *args, "--json"], cwd=REPO,
                                env=env, stdout=out_file, stderr=err_file)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        out_file.seek(0)
        err_file.seek(0)
        out, err = out_file.read(), err_file.read().decode(errors="replace")
    if proc.returncode != 0:
        raise SystemExit(f"command failed: {' '.join(args)}\n{err[-2000:]}")
    if not out.strip():
        raise SystemExit(f"no output: {err[-3000:]}")
    report = json.loads(out[out.index(b"{"):] if b"{" in out else out)
    report["bench_wall_s"] = round(wall, 1)
    report["peak_rss_mb"] = round(usage.ru_maxrss / 1024)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(REPO.parent / "shared/data/groceries4"))
    parser.add_argument("--skip-full", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as home:
        train = ["train", "--data", args.data]
        rows.append(("quick, cold cache", run_cli([*train, "--mode", "quick"], Path(home))))
        rows.append(("quick, warm cache", run_cli([*train, "--mode", "quick"], Path(home))))
        if not args.skip_full:
            rows.append(("full (from the quick head)",
                         run_cli([*train, "--mode", "full"], Path(home))))
    print(f"data: {args.data}  ({rows[0][1]['n_train']} train / {rows[0][1]['n_valid']} valid,"
          f" {rows[0][1]['architecture']} at {rows[0][1]['image_size']} px)")
    print(f"{'run':30} {'wall s':>7} {'accuracy':>9} {'peak MB':>8} {'cache hits':>10}")
    for name, r in rows:
        print(f"{name:30} {r['bench_wall_s']:7.1f} {r['accuracy']:9.3f} {r['peak_rss_mb']:8d} "
              f"{r['timings']['cache_hits']:10d}")
    cold, warm = rows[0][1]["bench_wall_s"], rows[1][1]["bench_wall_s"]
    print(f"cold / warm cache wall-time ratio: {cold / warm:.1f}x")
    if len(rows) > 2:
        print(f"full / quick(cold) wall-time ratio: {rows[2][1]['bench_wall_s'] / cold:.1f}x")


if __name__ == "__main__":
    main()
