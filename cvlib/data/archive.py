"""Unpacking uploaded zip files without trusting them.

A zip can name files outside the folder it is unpacked into (``../../.bashrc``, ``/etc/x``,
``C:\\x``), carry symbolic links, lie about its sizes, or expand a few kilobytes into
gigabytes.  :func:`extract_zip` looks at every entry before writing anything, refuses the whole
archive when it is hostile (a bomb, too big, too many files, not a zip), sets aside single
entries that cannot be unpacked safely (each with a reason the user can read), and writes into
a temporary folder that is renamed into place only when everything succeeded.
"""

from __future__ import annotations

import io
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from cvlib.errors import ArchiveError

MAX_TOTAL_BYTES = 2 * 1024**3
MAX_FILES = 20_000
MAX_RATIO = 100
RATIO_MIN_BYTES = 1024**2
"""Entries smaller than this are not judged by their compression ratio: a tiny flat-colour
BMP or a text file legitimately compresses 100:1, and small entries cannot be bombs alone
(their total is bounded by ``max_total_bytes``)."""

CHUNK_BYTES = 1024**2

FOLDER_ENTRY = "folder entry (folders are created as needed)"
HIDDEN_FILE = "hidden or operating-system file"
NESTED_ARCHIVE = "nested archive not extracted"
QUIET_REASONS = frozenset({FOLDER_ENTRY, HIDDEN_FILE})
"""Reasons for skipping that are routine housekeeping, not worth telling the user about."""

_ARCHIVE_SUFFIXES = frozenset({".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar"})
_OS_JUNK = frozenset({"__macosx", ".ds_store", "thumbs.db", "desktop.ini"})
_DRIVE = re.compile(r"^[A-Za-z]:")

ZipSource = Path | str | bytes | BinaryIO


@dataclass
class ZipScan:
    """What an archive would unpack to, decided from its directory alone.

    ``members`` maps each entry that will be written to its safe relative path; ``skipped``
    lists ``(entry name, reason)`` for the others; ``total_bytes`` is the declared unpacked
    size of the members.
    """

    members: list[tuple[zipfile.ZipInfo, PurePosixPath]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    total_bytes: int = 0


@dataclass
class ExtractReport:
    """The outcome of :func:`extract_zip`.

    ``root`` is where the data starts: ``dest`` itself, or the single top-level folder when
    everything in the archive sits in one (people zip the folder, not its contents).
    """

    dest: Path
    extracted: list[Path]
    skipped: list[tuple[str, str]]
    root: Path


def extract_zip(source: ZipSource, dest: Path, *, max_total_bytes: int = MAX_TOTAL_BYTES,
                max_files: int = MAX_FILES, max_ratio: float = MAX_RATIO) -> ExtractReport:
    """Safely unpack a zip into ``dest``, which must not exist yet (or be an empty folder).

    Parameters
    ----------
    source : the zip as a path, its bytes, or an open binary file (e.g. an upload).
    dest : the folder to create; nothing is ever written outside it.
    max_total_bytes : refuse archives that unpack to more than this.
    max_files : refuse archives with more entries than this.
    max_ratio : refuse archives with an entry (of at least ``RATIO_MIN_BYTES``) that expands
        more than this many times: the signature of a zip bomb.

    Returns
    -------
    An :class:`ExtractReport` listing what was written and what was skipped and why.

    Raises
    ------
    ArchiveError : not a zip or corrupt, or over a limit; ``dest`` is then left untouched.
    FileExistsError : ``dest`` already holds files.

    Examples
    --------
    >>> report = extract_zip(Path("upload.zip"), Path("/tmp/dataset"))
    >>> report.root, report.skipped
    (PosixPath('/tmp/dataset/groceries'), [('__MACOSX/', 'hidden or operating-system file')])
    """
    dest = Path(dest)
    _check_destination(dest)
    with _open_zip(source) as archive:
        scan = _scan(archive, max_total_bytes=max_total_bytes, max_files=max_files,
                     max_ratio=max_ratio)
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
        try:
            _write_members(archive, scan, staging, max_total_bytes)
            _move_into_place(staging, dest)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    extracted = [dest.joinpath(*relative.parts) for _, relative in scan.members]
    return ExtractReport(dest, extracted, scan.skipped, content_root(dest))


def scan_zip(source: ZipSource, *, max_total_bytes: int = MAX_TOTAL_BYTES,
             max_files: int = MAX_FILES, max_ratio: float = MAX_RATIO) -> ZipScan:
    """Check an archive and plan its extraction without writing anything.

    Useful to preview an upload, or to recover the skipped-entry list of an archive that
    was unpacked earlier.  Raises :class:`ArchiveError` exactly when :func:`extract_zip`
    would refuse the archive from its directory.
    """
    with _open_zip(source) as archive:
        return _scan(archive, max_total_bytes=max_total_bytes, max_files=max_files,
                     max_ratio=max_ratio)


def content_root(folder: Path) -> Path:
    """``folder``, or its only sub-folder when that is all it holds (hidden files aside).

    A zip made by compressing a folder holds ``mydata/class/x.jpg``; the data starts in
    ``mydata``.
    """
    visible = [entry for entry in folder.iterdir() if not _is_junk(entry.name)]
    if len(visible) == 1 and visible[0].is_dir():
        return visible[0]
    return folder


@contextmanager
def _open_zip(source: ZipSource) -> Iterator[zipfile.ZipFile]:
    """Open the archive, turning every flavour of "this is not a readable zip" into one error."""
    stream = io.BytesIO(source) if isinstance(source, bytes) else source
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise ArchiveError(f"not a zip file, or the archive is corrupt ({exc})") from exc
    except OSError as exc:
        raise ArchiveError(f"cannot read the archive ({exc.strerror or exc})") from exc
    with archive:
        yield archive


def _check_destination(dest: Path) -> None:
    """Refuse to mix an archive into a folder that already has files in it."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise FileExistsError(f"{dest} already exists and is not an empty folder")


def _scan(archive: zipfile.ZipFile, *, max_total_bytes: int, max_files: int,
          max_ratio: float) -> ZipScan:
    """Decide for every entry whether to write it (and where) or skip it (and why)."""
    infos = archive.infolist()
    if len(infos) > max_files:
        raise ArchiveError(f"too many files: the archive has {len(infos):,} entries, "
                           f"the limit is {max_files:,}")
    scan = ZipScan()
    paths = _PathBook()
    for info in infos:
        _check_ratio(info, max_ratio)
        reason = _skip_reason(info)
        relative = None if reason else _safe_relative(info.filename)
        reason = reason or (paths.clash(relative) if relative else "unsafe path")
        if reason or relative is None:
            scan.skipped.append((info.filename, reason or "unsafe path"))
        else:
            paths.add(relative)
            scan.members.append((info, relative))
            scan.total_bytes += info.file_size
    if scan.total_bytes > max_total_bytes:
        raise ArchiveError(f"too large: the archive unpacks to {_size(scan.total_bytes)}, "
                           f"the limit is {_size(max_total_bytes)}")
    return scan


class _PathBook:
    """The files and folders already planned, compared case-insensitively.

    Two entries that differ only in case would overwrite each other on macOS and Windows,
    and a file named like a folder another entry needs cannot be written at all.
    """

    def __init__(self) -> None:
        self.files: set[str] = set()
        self.folders: set[str] = set()

    def clash(self, relative: PurePosixPath) -> str | None:
        """Why ``relative`` cannot join the planned paths, if it cannot."""
        key = str(relative).casefold()
        if key in self.files:
            return "duplicate name (first copy kept)"
        if key in self.folders or any(parent in self.files for parent in _parents(relative)):
            return "name clashes with a folder of the same name (first kept)"
        return None

    def add(self, relative: PurePosixPath) -> None:
        """Plan ``relative`` as a file, and its parents as folders."""
        self.files.add(str(relative).casefold())
        self.folders.update(_parents(relative))


def _parents(relative: PurePosixPath) -> list[str]:
    """The folders above a relative path, case-folded (``a/b/c`` -> ``a/b``, ``a``)."""
    return [str(parent).casefold() for parent in relative.parents][:-1]


def _check_ratio(info: zipfile.ZipInfo, max_ratio: float) -> None:
    """Refuse the archive when one entry expands like a zip bomb."""
    if info.is_dir() or info.file_size < RATIO_MIN_BYTES:
        return
    ratio = info.file_size / max(info.compress_size, 1)
    if ratio > max_ratio:
        raise ArchiveError(f"refused as a likely zip bomb: {info.filename} expands "
                           f"{ratio:,.0f} times ({_size(info.compress_size)} to "
                           f"{_size(info.file_size)}), the limit is {max_ratio:g} times")


def _skip_reason(info: zipfile.ZipInfo) -> str | None:
    """Why an entry must not be written, judged from its name and attributes."""
    name = info.filename.replace("\\", "/")
    parts = [part for part in name.split("/") if part]
    if name.startswith("/"):
        return "absolute path not allowed"
    if _DRIVE.match(name):
        return "drive letter in path not allowed"
    if ".." in parts:
        return "path escapes the archive ('..')"
    if any(_is_junk(part) for part in parts):
        return HIDDEN_FILE
    if info.is_dir() or name.endswith("/"):
        return FOLDER_ENTRY
    if stat.S_ISLNK(info.external_attr >> 16):
        return "symbolic link not extracted"
    if info.flag_bits & 0x1:
        return "encrypted (password-protected) file"
    if PurePosixPath(name).suffix.lower() in _ARCHIVE_SUFFIXES:
        return NESTED_ARCHIVE
    return None


def _is_junk(part: str) -> bool:
    """Hidden files and the litter macOS and Windows add to archives."""
    hidden = part.startswith(".") and part != "."
    return hidden or part.casefold() in _OS_JUNK


def _safe_relative(name: str) -> PurePosixPath | None:
    """The entry's path relative to the destination, or None if nothing safe is left."""
    parts = [part for part in name.replace("\\", "/").split("/") if part not in ("", ".")]
    return PurePosixPath(*parts) if parts else None


def _write_members(archive: zipfile.ZipFile, scan: ZipScan, staging: Path,
                   max_total_bytes: int) -> None:
    """Stream every planned entry into ``staging``, counting the bytes really unpacked."""
    base = staging.resolve()
    written = 0
    for info, relative in scan.members:
        target = base.joinpath(*relative.parts)
        if not target.resolve().is_relative_to(base):
            raise ArchiveError(f"refused: {info.filename} would be written outside the folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        written += _copy_member(archive, info, target, max_total_bytes - written)


def _copy_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path,
                 budget: int) -> int:
    """Copy one entry in chunks, refusing it as soon as it outgrows its header or the budget."""
    written = 0
    try:
        with archive.open(info) as member, target.open("xb") as out:
            while chunk := member.read(CHUNK_BYTES):
                written += len(chunk)
                if written > info.file_size or written > budget:
                    raise ArchiveError(f"refused: {info.filename} unpacks to more than its "
                                       "header says (a tampered archive)")
                out.write(chunk)
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError) as exc:
        raise ArchiveError(f"the archive is corrupt: {info.filename} cannot be read "
                           f"({exc})") from exc
    return written


def _move_into_place(staging: Path, dest: Path) -> None:
    """Rename the finished folder to ``dest`` in one step (an empty ``dest`` is replaced)."""
    if dest.is_dir():
        dest.rmdir()
    staging.rename(dest)


def _size(n_bytes: float) -> str:
    """Bytes in the unit people read: ``52428800`` -> ``"50.0 MB"``."""
    value, unit = float(n_bytes), "bytes"
    for bigger in ("KB", "MB", "GB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    return f"{value:,.0f} bytes" if unit == "bytes" else f"{value:,.1f} {unit}"
