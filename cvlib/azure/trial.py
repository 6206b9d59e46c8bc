"""What runs inside an Azure ML training job, around ``python -m cvlib train``.

``preflight`` runs first and stops a GPU job at once when torch sees no CUDA device (a driver
too old for the wheel's CUDA 13, or a GPU older than compute capability 7.5), instead of
training for hours on the CPU at GPU prices.  ``finish`` runs last: it reports the *saved*
model's validation accuracy as the job's final metric (training keeps the best epoch, so the
last epoch's figure is not the model's), then copies the model folder into the job's output.
The output is a read-write mount: files are copied into it, never renamed onto it (a mount
point cannot be renamed, and a staged save beside it would land outside the mount).

Usage inside a job: ``python -m cvlib.azure.trial preflight`` and
``python -m cvlib.azure.trial finish --model model --out ${{outputs.model}}``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

#: Set on jobs that run on a GPU size: there, no CUDA is an error, not a fallback.
REQUIRE_CUDA = "CVLIB_REQUIRE_CUDA"
PRIMARY_METRIC = "valid_accuracy"
NO_CUDA_EXIT = 3


def preflight() -> int:
    """Exit non-zero with a plain reason when the job needs CUDA and torch has none."""
    import torch

    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        major, minor = torch.cuda.get_device_capability(0)
        print(f"CUDA {torch.version.cuda}: {name} (compute capability {major}.{minor})",
              flush=True)
        return 0
    if os.environ.get(REQUIRE_CUDA) != "1":
        print("no CUDA device: training on the CPU", flush=True)
        return 0
    print(f"error: this job runs on a GPU size but torch {torch.__version__} (CUDA "
          f"{torch.version.cuda}) sees no usable GPU. The wheel needs an NVIDIA driver >= 580 "
          "and a GPU of compute capability 7.5 or newer (T4, A10, A100, H100; not V100, P100 "
          "or K80). Pick such a VM size for the cluster; the job stops now instead of "
          "training on the CPU at GPU prices.", file=sys.stderr, flush=True)
    return NO_CUDA_EXIT


def saved_accuracy(model_dir: Path) -> float:
    """The validation accuracy recorded with the saved model (the epoch that was kept)."""
    meta = json.loads((model_dir / "model.json").read_text(encoding="utf-8"))
    return float(meta["metrics"]["accuracy"])


def report_final_metric(value: float) -> None:
    """Log ``valid_accuracy`` once more, as the job's last value (what the sweep ranks by)."""
    if not os.environ.get("MLFLOW_TRACKING_URI"):
        return
    import mlflow

    mlflow.log_metric(PRIMARY_METRIC, value, step=10**6)
    mlflow.log_metric("saved_model_accuracy", value)
    if mlflow.active_run():
        mlflow.end_run()


def copy_into(model_dir: Path, out: Path) -> Path:
    """Copy the model folder's files into ``out`` (which exists and may be a mount point)."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copytree(model_dir, out, dirs_exist_ok=True)
    if not (out / "model.json").is_file():
        raise SystemExit(f"error: {out} has no model.json after the copy")
    return out


def finish(model_dir: Path, out: Path) -> int:
    """Report the saved model's accuracy, then put the model where Azure ML collects it."""
    accuracy = saved_accuracy(model_dir)
    print(f"saved model's validation accuracy: {accuracy:.4f}", flush=True)
    report_final_metric(accuracy)
    copy_into(model_dir, out)
    print(f"model copied into {out}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    """``preflight`` or ``finish --model DIR --out DIR``."""
    parser = argparse.ArgumentParser(prog="python -m cvlib.azure.trial")
    sub = parser.add_subparsers(dest="step", required=True)
    sub.add_parser("preflight", help="stop a GPU job at once when CUDA is unusable")
    end = sub.add_parser("finish", help="report the saved model's metric, copy it out")
    end.add_argument("--model", required=True, type=Path)
    end.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    if args.step == "preflight":
        return preflight()
    return finish(args.model, args.out)


if __name__ == "__main__":
    sys.exit(main())
