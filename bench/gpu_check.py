"""GPU path check, sized to finish in under 5 minutes on a lent GPU.

Runs quick training (feature extraction batched on the GPU) and a short full training
(mixed precision, channels-last) on real photos, and prints the device, the times and the
accuracies.  On a machine without CUDA it says so and exits 0 after the CPU quick run, so
it doubles as a smoke test.

Usage: .venv/bin/python bench/gpu_check.py [--data ../shared/data/groceries4] [--epochs 2]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=str(REPO.parent / "shared/data/groceries4"))
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()

    import torch

    from cvlib.data import load_dataset
    from cvlib.train import train
    from cvlib.train_config import TrainConfig

    cuda = torch.cuda.is_available()
    print(f"torch {torch.__version__}; CUDA available: {cuda}"
          + (f" ({torch.cuda.get_device_name(0)})" if cuda else ""))
    dataset = load_dataset(args.data)
    for mode in ("quick", "full") if cuda else ("quick",):
        config = TrainConfig(mode=mode, epochs=args.epochs)
        start = time.perf_counter()
        result = train(dataset, config)
        print(f"{mode:5} on {'cuda' if cuda else 'cpu'}: accuracy "
              f"{result.metrics['accuracy']:.3f} in {time.perf_counter() - start:.1f} s "
              f"({config.architecture} at {config.preprocessing().image_size} px)")
    if cuda:
        print(f"peak GPU memory: {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB")
    else:
        print("no CUDA device: the GPU path (mixed precision, channels-last) was not run")


if __name__ == "__main__":
    main()
