"""Exceptions whose messages are written for the person using the studio.

Every error raised on purpose by cvlib derives from :class:`StudioError`, so the UI and the
command line can show ``str(error)`` as it is, and let anything else surface as a bug.
"""

from __future__ import annotations


class StudioError(Exception):
    """An expected problem with the user's input or environment, with a readable message."""


class BadImageError(StudioError):
    """One image that cannot be used; names the file and the reason."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


class DatasetError(StudioError):
    """A dataset that cannot be trained on as it is (layout, labels, too few images)."""


class ArchiveError(StudioError):
    """An uploaded archive that was refused (unsafe paths, bombs, limits)."""


class ModelFormatError(StudioError):
    """A model folder that is missing, incomplete or not in the studio's format."""


class Cancelled(StudioError):
    """Long work stopped because the user asked it to."""
