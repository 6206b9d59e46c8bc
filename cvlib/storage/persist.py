"""Atomic storage: everything the studio writes survives a kill at any moment.

Files are written to a temporary sibling, flushed with ``fsync`` and renamed over the target,
so a reader sees either the old or the new version, never half of one.  Model folders are
swapped in whole, keeping the previous version until the new one is in place.  Leftovers of
a killed writer carry its process id in their names, so recovery cleans up after dead
writers only and never pulls the floor from under a save still running (another browser
session, or the command line).  This module is torch-free so the app can list models
without importing torch.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cvlib.errors import ModelFormatError

MODEL_FORMAT = "cvlib-model/1"
WEIGHTS_FILE = "model.safetensors"
META_FILE = "model.json"
ONNX_FILE = "model.onnx"
_STAGING = ".saving-"
_RETIRED = ".old-"
_TEMP_SUFFIX = ".tmp"


def _fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (POSIX needs the directory synced too)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that a crash leaves either the old or the new file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}-",
                               suffix=_TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """UTF-8 text version of :func:`atomic_write_bytes`."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | Path, obj: Any) -> Path:
    """Write JSON atomically, pretty-printed so people can read and diff it."""
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def read_json(path: str | Path) -> Any:
    """Read a JSON file written by :func:`atomic_write_json`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


@contextlib.contextmanager
def staged_folder(target: str | Path) -> Iterator[Path]:
    """Yield an empty staging folder that replaces ``target`` as a whole when the block ends.

    If the block raises (or the process dies), ``target`` is untouched and the staging
    folder is removed (or left under a hidden name that :func:`recover_folder` cleans up).
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent,
                                    prefix=f"{target.name}{_STAGING}{os.getpid()}-"))
    try:
        yield staging
        for child in staging.iterdir():
            _fsync_file(child)
        _swap_in(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _fsync_file(path: Path) -> None:
    """Flush one file's data to disk before it becomes visible under its final name."""
    if path.is_file():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())


def _swap_in(staging: Path, target: Path) -> None:
    """Replace ``target`` by ``staging``; the old version stays until the new one is in."""
    retired = None
    if target.exists():
        retired = target.with_name(f"{target.name}{_RETIRED}{os.getpid()}-{time.time_ns()}")
        os.rename(target, retired)
    os.rename(staging, target)
    _fsync_dir(target.parent)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)


def _leftover_owner(name: str, marker: str) -> tuple[int | None, int]:
    """``(writer's pid, sort key)`` from a leftover's name (``<name><marker><pid>-<rest>``).

    Names from before pids were recorded give ``None``: their writer is long gone.
    """
    pid, _, rest = name.rsplit(marker, 1)[-1].partition("-")
    key = int(rest) if rest.isdigit() else 0
    return (int(pid), key) if pid.isdigit() and rest else (None, key)


def _writer_alive(pid: int | None) -> bool:
    """Whether the process that left something behind may still be writing it."""
    if pid is None:
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive, and not ours to judge
    return True


def _orphans(parent: Path, pattern: str, marker: str) -> list[Path]:
    """Leftovers matching ``pattern`` whose writer has died, oldest first."""
    found = [(p, *_leftover_owner(p.name.removesuffix(_TEMP_SUFFIX), marker))
             for p in parent.glob(pattern)]
    return [p for p, pid, _ in sorted(found, key=lambda f: f[2]) if not _writer_alive(pid)]


def recover_folder(target: str | Path) -> None:
    """Undo what a kill during :func:`staged_folder` left: restore or drop the leftovers.

    A kill between the two renames of :func:`_swap_in` leaves only the retired copy, which
    is put back; unfinished staging folders are removed.  Leftovers of a process that is
    still running are its save in progress, and are left alone.
    """
    target = Path(target)
    parent = target.parent
    if not parent.is_dir():
        return
    retired = _orphans(parent, f"{target.name}{_RETIRED}*", _RETIRED)
    if not target.exists() and retired:
        os.rename(retired.pop(), target)
    for leftover in [*retired, *_orphans(parent, f"{target.name}{_STAGING}*", _STAGING)]:
        shutil.rmtree(leftover, ignore_errors=True)


def remove_orphan_temp_files(folder: str | Path) -> list[Path]:
    """Delete the temporary files of :func:`atomic_write_bytes` calls that were killed.

    Returns what was removed.  A temporary file of a running process is kept: it is about
    to be renamed into place.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for leftover in _orphans(folder, f".*{_TEMP_SUFFIX}", "."):
        with contextlib.suppress(FileNotFoundError):
            leftover.unlink()
            removed.append(leftover)
    return removed


def recover_all(parent: str | Path) -> None:
    """Run :func:`recover_folder` for every folder that has leftovers in ``parent``, and
    remove orphaned temporary files there."""
    parent = Path(parent)
    if not parent.is_dir():
        return
    remove_orphan_temp_files(parent)
    names = {p.name.split(_STAGING)[0].split(_RETIRED)[0] for p in parent.iterdir()
             if _STAGING in p.name or _RETIRED in p.name}
    for name in names:
        recover_folder(parent / name)


def read_model_meta(folder: str | Path) -> dict[str, Any]:
    """Read and check a model folder's ``model.json`` (no weights, no torch)."""
    folder = Path(folder)
    meta_path = folder / META_FILE
    if not meta_path.is_file():
        raise ModelFormatError(f"{folder}: not a studio model folder (no {META_FILE})")
    try:
        meta = read_json(meta_path)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFormatError(f"{meta_path}: unreadable model description ({exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != MODEL_FORMAT:
        raise ModelFormatError(f"{meta_path}: unknown model format (expected {MODEL_FORMAT})")
    for key in ("architecture", "classes", "preprocessing"):
        if key not in meta:
            raise ModelFormatError(f"{meta_path}: missing {key!r}")
    if not (folder / WEIGHTS_FILE).is_file():
        raise ModelFormatError(f"{folder}: weights file {WEIGHTS_FILE} is missing")
    return meta


def list_model_folders(parent: str | Path) -> list[Path]:
    """Saved models under ``parent``, newest first; incomplete ones are skipped."""
    parent = Path(parent)
    recover_all(parent)
    found = []
    for child in parent.iterdir() if parent.is_dir() else []:
        if _STAGING in child.name or _RETIRED in child.name:
            continue  # a save in progress in another session or process
        try:
            read_model_meta(child)
        except ModelFormatError:
            continue
        found.append(child)
    return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)


def safe_name(name: str, default: str = "model") -> str:
    """A user-typed name made safe as one folder name (no separators, no dot-dot, no junk)."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in name.strip())
    cleaned = cleaned.strip(".-") or default
    return cleaned[:80]


def save_by_content(data: bytes, folder: str | Path, suffix: str) -> Path:
    """Store uploaded bytes under a name made from their hash, never from the upload's name.

    The same upload twice is stored once, and no user-chosen name ever becomes a path.
    """
    import hashlib

    target = Path(folder) / f"{hashlib.sha256(data).hexdigest()[:16]}{suffix}"
    if not target.exists():
        atomic_write_bytes(target, data)
    return target
