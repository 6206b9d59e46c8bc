"""Where the studio keeps things, and how it writes them so that nothing is ever half-saved.

:func:`~cvlib.storage.home.studio_home` is the one folder; :mod:`cvlib.storage.persist`
writes files and model folders atomically and reads them back without unpickling.
Torch-free.
"""

from typing import TYPE_CHECKING

from cvlib._lazy import attach

if TYPE_CHECKING:
    from cvlib.storage.home import studio_home
    from cvlib.storage.persist import (
        atomic_write_bytes,
        atomic_write_json,
        atomic_write_text,
        list_model_folders,
        read_json,
        read_model_meta,
        recover_all,
        recover_folder,
        remove_orphan_temp_files,
        safe_name,
        save_by_content,
        staged_folder,
    )

__getattr__, __dir__, __all__ = attach(__name__, __file__)
