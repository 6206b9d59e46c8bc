"""Safe zip extraction: hostile archives are refused or defused, never written outside the
destination, and a refused archive leaves nothing behind.

Every archive is built here, in memory or in ``tmp_path``.
"""

from __future__ import annotations

import io
import stat
import struct
import warnings
import zipfile
from pathlib import Path

import pytest

from cvlib.data.archive import (
    FOLDER_ENTRY,
    HIDDEN_FILE,
    NESTED_ARCHIVE,
    QUIET_REASONS,
    content_root,
    extract_zip,
    scan_zip,
)
from cvlib.errors import ArchiveError, StudioError
from tests.samples import FRIDGE4

JPEG_BYTES = b"\xff\xd8\xff\xe0 pretend jpeg"


def make_zip(*entries: tuple[str | zipfile.ZipInfo, bytes],
             compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip holding ``(name or ZipInfo, data)`` entries in order, duplicates allowed."""
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", compression) as archive:
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name" is the point
        for name, data in entries:
            archive.writestr(name, data)
    return buffer.getvalue()


def symlink_entry(name: str) -> zipfile.ZipInfo:
    """A zip entry marked as a Unix symbolic link (its data is the link target)."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix, so the mode bits in external_attr count
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def refused(source, dest: Path, **limits) -> str:
    """The message of the ArchiveError ``extract_zip`` raises."""
    with pytest.raises(ArchiveError) as info:
        extract_zip(source, dest, **limits)
    return str(info.value)


def all_files(folder: Path) -> list[str]:
    """Every file under ``folder``, relative, sorted."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


class TestSkipsUnsafeEntries:
    def test_absolute_paths_escapes_and_drive_letters(self, tmp_path):
        dest = tmp_path / "work" / "out"
        data = make_zip(("good/a.jpg", JPEG_BYTES), ("/etc/evil.txt", b"x"),
                        ("../../escaped.txt", b"x"), ("good/../../escaped2.txt", b"x"),
                        ("..\\windows_escape.txt", b"x"), ("C:\\evil.txt", b"x"),
                        ("\\rooted.txt", b"x"))
        report = extract_zip(data, dest)
        assert all_files(dest) == ["good/a.jpg"]
        assert report.extracted == [dest / "good" / "a.jpg"]
        assert report.skipped == [
            ("/etc/evil.txt", "absolute path not allowed"),
            ("../../escaped.txt", "path escapes the archive ('..')"),
            ("good/../../escaped2.txt", "path escapes the archive ('..')"),
            ("..\\windows_escape.txt", "path escapes the archive ('..')"),
            ("C:\\evil.txt", "drive letter in path not allowed"),
            ("\\rooted.txt", "absolute path not allowed"),
        ]
        assert all_files(tmp_path) == ["work/out/good/a.jpg"]

    def test_symlink_member_is_not_created(self, tmp_path):
        data = make_zip((symlink_entry("cls/link.jpg"), b"/etc/passwd"), ("cls/a.jpg", JPEG_BYTES))
        report = extract_zip(data, tmp_path / "out")
        assert report.skipped == [("cls/link.jpg", "symbolic link not extracted")]
        assert not (tmp_path / "out" / "cls" / "link.jpg").exists()

    def test_duplicate_names_keep_the_first_copy(self, tmp_path):
        data = make_zip(("a/x.jpg", b"first"), ("a/x.jpg", b"second"), ("a/X.JPG", b"third"))
        report = extract_zip(data, tmp_path / "out")
        assert (tmp_path / "out" / "a" / "x.jpg").read_bytes() == b"first"
        assert report.skipped == [("a/x.jpg", "duplicate name (first copy kept)"),
                                  ("a/X.JPG", "duplicate name (first copy kept)")]

    def test_a_file_named_like_a_folder_is_skipped(self, tmp_path):
        report = extract_zip(make_zip(("a", b"file"), ("a/b.jpg", JPEG_BYTES)), tmp_path / "out")
        assert report.skipped == [("a/b.jpg",
                                   "name clashes with a folder of the same name (first kept)")]

    def test_nested_archives_are_listed_not_extracted(self, tmp_path):
        inner = make_zip(("inner.jpg", JPEG_BYTES))
        report = extract_zip(make_zip(("data/more.zip", inner), ("data/a.jpg", JPEG_BYTES)),
                             tmp_path / "out")
        assert report.skipped == [("data/more.zip", NESTED_ARCHIVE)]
        assert NESTED_ARCHIVE == "nested archive not extracted"
        assert all_files(tmp_path / "out") == ["data/a.jpg"]

    def test_folders_hidden_files_and_os_junk_are_quietly_skipped(self, tmp_path):
        data = make_zip(("photos/", b""), ("photos/a.jpg", JPEG_BYTES),
                        ("__MACOSX/photos/._a.jpg", b"junk"), ("photos/.DS_Store", b"junk"),
                        ("photos/Thumbs.db", b"junk"), ("photos/.hidden.jpg", b"junk"))
        report = extract_zip(data, tmp_path / "out")
        assert all_files(tmp_path / "out") == ["photos/a.jpg"]
        assert report.skipped == [("photos/", FOLDER_ENTRY),
                                  ("__MACOSX/photos/._a.jpg", HIDDEN_FILE),
                                  ("photos/.DS_Store", HIDDEN_FILE),
                                  ("photos/Thumbs.db", HIDDEN_FILE),
                                  ("photos/.hidden.jpg", HIDDEN_FILE)]
        assert {reason for _, reason in report.skipped} <= QUIET_REASONS

    def test_encrypted_member_is_skipped(self, tmp_path):
        data = bytearray(make_zip(("secret.jpg", b"??"), ("open.jpg", JPEG_BYTES)))
        for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # flag bits
            data[data.index(signature) + offset] |= 0x1
        report = extract_zip(bytes(data), tmp_path / "out")
        assert report.skipped == [("secret.jpg", "encrypted (password-protected) file")]


class TestRefusesHostileArchives:
    def test_not_a_zip(self, tmp_path):
        message = refused(b"this is a text file", tmp_path / "out")
        assert message.startswith("not a zip file, or the archive is corrupt")
        fake = tmp_path / "photos.zip"
        fake.write_text("hello")
        assert refused(fake, tmp_path / "out").startswith("not a zip file")
        assert not (tmp_path / "out").exists()

    def test_truncated_zip(self, tmp_path):
        data = make_zip(("a.jpg", JPEG_BYTES * 100))
        assert refused(data[: len(data) // 2], tmp_path / "out").startswith("not a zip file")

    def test_corrupt_member_data_leaves_nothing(self, tmp_path):
        data = bytearray(make_zip(("a.jpg", JPEG_BYTES), ("b.bin", bytes(range(256)) * 40)))
        start = data.index(b"b.bin") + len("b.bin")  # local header name, then the data
        data[start + 10: start + 60] = b"\xff" * 50
        message = refused(bytes(data), tmp_path / "out")
        assert message.startswith("the archive is corrupt: b.bin cannot be read")
        assert list(tmp_path.iterdir()) == []

    def test_zip_bomb_by_compression_ratio(self, tmp_path):
        bomb = make_zip(("photos/zeros.jpg", bytes(50 * 1024**2)))
        assert len(bomb) < 1024**2
        message = refused(bomb, tmp_path / "out")
        assert message.startswith("refused as a likely zip bomb: photos/zeros.jpg expands")
        assert "the limit is 100 times" in message
        assert list(tmp_path.iterdir()) == []

    def test_too_many_files(self, tmp_path):
        data = make_zip(*[(f"c/{i}.jpg", JPEG_BYTES) for i in range(6)])
        message = refused(data, tmp_path / "out", max_files=5)
        assert message == "too many files: the archive has 6 entries, the limit is 5"

    def test_total_size_over_the_limit(self, tmp_path):
        data = make_zip(("a.jpg", bytes(600)), ("b.jpg", bytes(600)))
        message = refused(data, tmp_path / "out", max_total_bytes=1000)
        assert message == ("too large: the archive unpacks to 1.2 KB, "
                           "the limit is 1,000 bytes")

    def test_a_header_that_understates_the_size_is_refused(self, tmp_path):
        data = bytearray(make_zip(("big.jpg", bytes(range(256)) * 16),
                                  compression=zipfile.ZIP_STORED))
        for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
            at = data.index(signature) + offset
            data[at: at + 4] = struct.pack("<I", 100)  # claims 100 bytes, holds 4096
        assert zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("big.jpg").file_size == 100
        message = refused(bytes(data), tmp_path / "out")
        assert "big.jpg" in message
        assert list(tmp_path.iterdir()) == []

    def test_refusals_are_studio_errors(self, tmp_path):
        with pytest.raises(StudioError):
            extract_zip(b"", tmp_path / "out")


class TestWhereThingsGo:
    def test_single_top_level_folder_becomes_the_root(self, tmp_path):
        data = make_zip(("mydata/juice/a.jpg", JPEG_BYTES), ("mydata/milk/b.jpg", JPEG_BYTES),
                        ("__MACOSX/mydata/._a.jpg", b"junk"))
        report = extract_zip(data, tmp_path / "out")
        assert report.dest == tmp_path / "out"
        assert report.root == tmp_path / "out" / "mydata"

    def test_several_top_level_entries_keep_dest_as_root(self, tmp_path):
        data = make_zip(("juice/a.jpg", JPEG_BYTES), ("milk/b.jpg", JPEG_BYTES))
        assert extract_zip(data, tmp_path / "out").root == tmp_path / "out"

    def test_existing_empty_dest_is_used_and_a_full_one_refused(self, tmp_path):
        dest = tmp_path / "out"
        dest.mkdir()
        extract_zip(make_zip(("a.jpg", JPEG_BYTES)), dest)
        with pytest.raises(FileExistsError):
            extract_zip(make_zip(("b.jpg", JPEG_BYTES)), dest)
        assert all_files(dest) == ["a.jpg"]

    def test_sources_path_str_bytes_and_open_file(self, tmp_path):
        path = tmp_path / "upload.zip"
        path.write_bytes(make_zip(("c/a.jpg", JPEG_BYTES)))
        sources = [path, str(path), path.read_bytes()]
        for n, source in enumerate(sources):
            assert extract_zip(source, tmp_path / f"out{n}").root == tmp_path / f"out{n}" / "c"
        with path.open("rb") as upload:
            extract_zip(upload, tmp_path / "out_file")
        assert (tmp_path / "out_file" / "c" / "a.jpg").read_bytes() == JPEG_BYTES

    def test_content_root_ignores_hidden_siblings(self, tmp_path):
        (tmp_path / "data" / "cls").mkdir(parents=True)
        (tmp_path / ".DS_Store").write_bytes(b"")
        assert content_root(tmp_path) == tmp_path / "data"
        (tmp_path / "notes.txt").write_text("hi")
        assert content_root(tmp_path) == tmp_path

    def test_scan_previews_without_writing(self, tmp_path):
        data = make_zip(("d/a.jpg", b"12345"), ("../x.jpg", b"x"))
        scan = scan_zip(data)
        assert [str(relative) for _, relative in scan.members] == ["d/a.jpg"]
        assert scan.skipped == [("../x.jpg", "path escapes the archive ('..')")]
        assert scan.total_bytes == 5
        assert list(tmp_path.iterdir()) == []


def test_photos_round_trip_byte_for_byte(tmp_path):
    photos = sorted(FRIDGE4.glob("*/*.jpg"))[::30]
    data = make_zip(*[(f"fridge/{p.parent.name}/{p.name}", p.read_bytes()) for p in photos])
    report = extract_zip(data, tmp_path / "out")
    assert report.root == tmp_path / "out" / "fridge"
    assert len(report.extracted) == len(photos) == 4 and report.skipped == []
    for photo, written in zip(photos, report.extracted, strict=True):
        assert written.read_bytes() == photo.read_bytes()
