"""What machine the studio runs on, found without importing torch (the home page is fast).

Training uses the GPU automatically when PyTorch sees one; this module only describes the
machine to the user: CPU model and cores, memory, and NVIDIA GPUs reported by ``nvidia-smi``.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import dataclass, field


@dataclass
class Hardware:
    """A plain description of the machine for the home page and run records."""

    cpu: str
    cores: int
    memory_gb: float
    gpus: list[str] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """One line: GPU if any, else CPU."""
        if self.gpus:
            return f"GPU: {', '.join(self.gpus)} (training uses it with mixed precision)"
        return f"CPU only: {self.cpu}, {self.cores} cores, {self.memory_gb:.0f} GB RAM"


def _cpu_name() -> str:
    """The CPU's marketing name from /proc/cpuinfo, else what platform knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float:
    """Physical memory in GB (0 when the platform does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError, AttributeError):
        return 0.0


def _nvidia_gpus() -> list[str]:
    """GPU names from ``nvidia-smi`` (empty without an NVIDIA driver)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run([exe, "--query-gpu=name,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=5, check=True).stdout
    except (subprocess.SubprocessError, OSError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def detect() -> Hardware:
    """Describe this machine."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return Hardware(_cpu_name(), cores or 1, _memory_gb(), _nvidia_gpus())
