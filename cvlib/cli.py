"""The command line: the same library calls the pages make, for scripts and CI.

With ``--json`` every command prints one JSON document on stdout; progress and warnings go
to stderr, so ``python -m cvlib train ... --json | jq .accuracy`` works.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from cvlib.errors import StudioError

_START = time.perf_counter()


def _err(message: str) -> None:
    """Progress and warnings: stderr, so stdout stays parseable."""
    print(message, file=sys.stderr, flush=True)


def _emit(result: dict[str, Any], as_json: bool, lines: list[str]) -> None:
    """Print the result as JSON or as readable lines."""
    if as_json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print("\n".join(lines))


def _mlflow_logger():
    """Per-epoch ``valid_accuracy`` to MLflow when a tracking server is set (Azure ML jobs).

    Azure ML sets ``MLFLOW_TRACKING_URI`` inside jobs; a sweep's early-termination policy
    reads these metrics.  Elsewhere this is a no-op.
    """
    import os

    if not os.environ.get("MLFLOW_TRACKING_URI"):
        return None
    try:
        import mlflow
    except ImportError:
        _err("warning: MLFLOW_TRACKING_URI is set but mlflow is not installed")
        return None

    def log(record: dict[str, Any]) -> None:
        mlflow.log_metric("valid_accuracy", record["accuracy"], step=int(record["epoch"]))

    return log


def _stderr_progress():
    """A Progress that echoes stage changes, epochs and messages to stderr."""
    from cvlib.runtime.progress import Progress

    seen = {"stage": None, "records": 0, "messages": 0}
    metric_logger = _mlflow_logger()

    def echo(p: Progress) -> None:
        if p.stage != seen["stage"]:
            seen["stage"] = p.stage
            _err(f"[{time.perf_counter() - _START:6.1f}s] {p.stage}")
        for record in p.history[seen["records"]:]:
            if metric_logger is not None and "accuracy" in record:
                metric_logger(record)
            _err("    " + ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                                    for k, v in record.items()))
        for message in p.messages[seen["messages"]:]:
            _err(f"    {message}")
        seen["records"], seen["messages"] = len(p.history), len(p.messages)

    return Progress(on_update=echo)


def _default_model_dir(data: str, architecture: str, mode: str) -> Path:
    from cvlib.storage.home import studio_home

    stamp = time.strftime("%Y%m%d-%H%M%S")
    return studio_home() / "models" / f"{Path(data).stem}-{architecture}-{mode}-{stamp}"


def cmd_train(args: argparse.Namespace) -> dict[str, Any]:
    """Train on a dataset and save the model folder."""
    from cvlib.data.dataset import load_dataset
    from cvlib.training.config import TrainConfig, with_overrides
    from cvlib.training.workflow import save_trained, train_and_record

    dataset = load_dataset(args.data)
    for name, reason in dataset.problems:
        _err(f"warning: {name}: {reason}")
    config = with_overrides(TrainConfig(), mode=args.mode, architecture=args.arch,
                            image_size=args.image_size, epochs=args.epochs, lr=args.lr,
                            batch_size=args.batch_size, seed=args.seed,
                            valid_pct=args.valid_pct,
                            augment=False if args.no_augment else None)
    result = train_and_record(dataset, config, surface="cli", progress=_stderr_progress())
    out = Path(args.out) if args.out else _default_model_dir(args.data, config.architecture,
                                                             config.mode)
    choice = _tune_thresholds(result) if dataset.multi_label else None
    save_trained(result, out, thresholds=None if choice is None else choice.threshold)
    tuned = None if choice is None else choice.to_dict()
    from cvlib.evaluation.metrics import summary

    headline = summary(result.card.metrics)
    wall = time.perf_counter() - _START
    report = {"model": str(out), "mode": config.mode, "architecture": config.architecture,
              "image_size": result.config.backbone_size, "regions": result.config.layout,
              **headline, **result.estimate.as_fields(),
              "estimate": result.estimate.to_dict(),
              "classes": dataset.classes, "n_train": len(result.train_paths),
              "n_valid": len(result.valid_paths), "stopped_early": result.stopped_early,
              "run": result.card.run_id,
              "timings": {**result.timings, "wall_s": round(wall, 2)}}
    measure = "exact match at 0.5" if dataset.multi_label else "accuracy"
    lines = [f"saved {out}", f"validation {measure} {headline['accuracy']:.3f} "
             f"on {len(result.valid_paths)} images, {wall:.1f} s",
             f"expected on new photos: {result.estimate.describe()}"]
    if result.test_metrics is not None:
        report["test_accuracy"] = result.test_metrics["accuracy"]
        report["n_test"] = result.test_metrics["n"]
        lines.append(f"test {measure} {report['test_accuracy']:.3f} on {report['n_test']} "
                     "images (test/, scored once at the end)")
    if tuned is not None:
        report["thresholds"] = tuned
        at = tuned["at_threshold"]
        lines.append(f"tuned threshold {tuned['threshold']:.2f} (saved): exact match "
                     f"{at['exact_match']:.3f}, hamming accuracy {at['hamming_accuracy']:.3f}")
    _emit(report, args.json, lines)
    return report


def _tune_thresholds(result):
    """Multi-label: choose the decision threshold on validation (saved with the model).

    The choice holds the figures at 0.5, at the tuned global threshold and at per-class
    thresholds.
    """
    from cvlib.evaluation.thresholds import tune

    return tune(result.valid_probs, result.valid_targets, result.card.classes)


def cmd_evaluate(args: argparse.Namespace) -> dict[str, Any]:
    """Evaluate a saved model on any labelled dataset."""
    from cvlib.data.dataset import load_dataset
    from cvlib.evaluation.metrics import summary
    from cvlib.models.inference import Predictor, evaluate_model

    dataset = load_dataset(args.data)
    if dataset.test is not None:
        _err(f"note: {args.data} has a test/ folder: scoring its {len(dataset.test)} photos")
        dataset = dataset.test
    predictor = Predictor.load(args.model, args.engine)
    start = time.perf_counter()
    metrics, _ = evaluate_model(predictor, [p for p, _ in dataset.items],
                                [labs for _, labs in dataset.items])
    report = {"model": args.model, "data": args.data, "engine": args.engine,
              **summary(metrics), "per_class": metrics["per_class"],
              "confusion": metrics.get("confusion"),
              "timings": {"predict_s": round(time.perf_counter() - start, 2),
                          "wall_s": round(time.perf_counter() - _START, 2)}}
    _emit(report, args.json, [f"accuracy {metrics['accuracy']:.3f} on {metrics['n']} images"])
    return report


def cmd_predict(args: argparse.Namespace) -> dict[str, Any]:
    """Predict images with a saved model; unreadable images get an error entry."""
    from cvlib.data.images import load_image
    from cvlib.errors import BadImageError
    from cvlib.models.inference import Predictor
    from cvlib.models.preprocess import top_k

    predictor = Predictor.load(args.model, args.engine)
    results = []
    for path in args.images:
        try:
            probs = predictor.predict_proba([load_image(path)])
        except BadImageError as exc:
            results.append({"image": path, "error": str(exc)})
            _err(f"warning: {exc}")
            continue
        results.append({"image": path, "labels": predictor.decide(probs)[0],
                        "top": [{"label": c, "probability": round(p, 6)}
                                for c, p in top_k(probs[0], predictor.classes, args.top_k)]})
    report = {"model": args.model, "engine": args.engine, "predictions": results,
              "timings": {"wall_s": round(time.perf_counter() - _START, 2)}}
    lines = [f"{r['image']}: " + (r.get("error") or
             ", ".join(f"{t['label']} {t['probability']:.3f}" for t in r["top"]))
             for r in results]
    _emit(report, args.json, lines)
    return report


def cmd_export(args: argparse.Namespace) -> dict[str, Any]:
    """Export to ONNX; with ``--data``, check parity with PyTorch on those images."""
    from cvlib.models.inference import export_onnx, parity

    path = export_onnx(args.model, force=True)
    report: dict[str, Any] = {"model": args.model, "onnx": str(path),
                              "size_mb": round(path.stat().st_size / 1e6, 2)}
    if args.data:
        from cvlib.data.dataset import load_dataset
        from cvlib.data.images import load_image

        dataset = load_dataset(args.data)
        report["parity"] = parity(args.model, [load_image(p) for p, _ in dataset.items]
                                  ).to_dict()
    lines = [f"wrote {path}"]
    if "parity" in report:
        lines.append(f"label agreement {report['parity']['label_agreement']:.3f}, max prob "
                     f"diff {report['parity']['max_abs_prob_diff']:.2e}")
    _emit(report, args.json, lines)
    return report


def cmd_sweep(args: argparse.Namespace) -> dict[str, Any]:
    """Run a grid of settings (YAML or JSON file) on one or more datasets; skip stored runs."""
    from cvlib.training.sweep import best_setting, load_grid, run_sweep

    grid = load_grid(args.grid, args.data or ())
    if args.repeats:
        grid.repeats = args.repeats
    ignored = grid.quick_ignored()
    if ignored:
        _err(f"note: in quick mode {', '.join(ignored)} cannot change the result; "
             "cells differing only in those share one run")
    result = run_sweep(grid, progress=_stderr_progress())
    best = best_setting(result.rows)
    report = {"grid": grid.to_dict(), "n_cells": len(result.rows), "n_runs": result.n_runs,
              "n_trained": result.n_trained, "best": best, "rows": result.rows,
              "timings": {"sweep_s": result.wall_s,
                          "wall_s": round(time.perf_counter() - _START, 2)}}
    lines = [f"{len(result.rows)} cells, {result.n_runs} distinct runs, {result.n_trained} "
             f"trained now, {result.wall_s:.1f} s"]
    if best is not None:
        lines.append(f"best: {best['settings']} accuracy {best['mean']:.3f} "
                     f"± {best['std']:.3f} ({best['n']} runs)")
    _emit(report, args.json, lines)
    return report


def build_parser() -> argparse.ArgumentParser:
    """All subcommands and their options."""
    parser = argparse.ArgumentParser(prog="python -m cvlib", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a classifier and save it")
    train.add_argument("--data", required=True, help="class folders, labels.csv folder or .zip")
    train.add_argument("--mode", choices=["quick", "full"])
    train.add_argument("--arch", help="backbone (see the README's model table)")
    train.add_argument("--image-size", type=int)
    train.add_argument("--epochs", type=int)
    train.add_argument("--lr", type=float)
    train.add_argument("--batch-size", type=int)
    train.add_argument("--seed", type=int)
    train.add_argument("--valid-pct", type=float)
    train.add_argument("--no-augment", action="store_true")
    train.add_argument("--out", help="model folder to write (default: under the studio home)")
    train.set_defaults(func=cmd_train)

    evaluate = sub.add_parser("evaluate", help="evaluate a saved model on a labelled dataset")
    evaluate.add_argument("--model", required=True)
    evaluate.add_argument("--data", required=True)
    evaluate.add_argument("--engine", choices=["torch", "onnx"], default="torch")
    evaluate.set_defaults(func=cmd_evaluate)

    predict = sub.add_parser("predict", help="predict images with a saved model")
    predict.add_argument("--model", required=True)
    predict.add_argument("--engine", choices=["torch", "onnx"], default="torch")
    predict.add_argument("--top-k", type=int, default=3)
    predict.add_argument("images", nargs="+")
    predict.set_defaults(func=cmd_predict)

    export = sub.add_parser("export", help="export a saved model to ONNX")
    export.add_argument("--model", required=True)
    export.add_argument("--data", help="check ONNX/PyTorch parity on these images")
    export.set_defaults(func=cmd_export)

    sweep = sub.add_parser("sweep", help="train a grid of settings and compare them")
    sweep.add_argument("--grid", required=True, help="YAML or JSON grid file")
    sweep.add_argument("--data", action="append",
                       help="dataset to sweep over (repeat for several)")
    sweep.add_argument("--repeats", type=int, help="override the grid's repeats")
    sweep.set_defaults(func=cmd_sweep)

    from cvlib.serving.server import add_serve_parser

    add_serve_parser(sub)
    for command in sub.choices.values():
        command.add_argument("--json", action="store_true", help="print JSON on stdout")
    return parser


def flush_tracking() -> None:
    """Finish what MLflow would finish at a normal exit, before ``os._exit`` skips it.

    ``os._exit`` runs no ``atexit`` hook, and MLflow ends its run (and drains its
    asynchronous logging queue) in one: without this, an Azure ML job's last metrics could be
    lost and its run left open.  Nothing happens when no command imported MLflow.
    """
    mlflow = sys.modules.get("mlflow")
    if mlflow is None:
        return
    flush = getattr(mlflow, "flush_async_logging", None)
    if flush is not None:
        flush()
    if mlflow.active_run() is not None:
        mlflow.end_run()


def main(argv: list[str] | None = None) -> int:
    """Entry point; expected problems print one clear line and exit with status 2."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except StudioError as exc:
        _err(f"error: {exc}")
        return 2
    return 0
