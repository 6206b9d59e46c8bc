"""Data: the user's photos and labels, read, checked, split, annotated and fixed.

Everything here works on files and labels only (torch-free): loading the documented
layouts (:mod:`~cvlib.data.dataset`, :mod:`~cvlib.data.labels_csv`), safe zips
(:mod:`~cvlib.data.archive`), decoding any image (:mod:`~cvlib.data.images`), splitting
(:mod:`~cvlib.data.splits`), health checks, annotation, captures and label fixes.
"""

from typing import TYPE_CHECKING

from cvlib._lazy import attach

if TYPE_CHECKING:
    from cvlib.data.annotations import (
        AnnotationStore,
        Suggestion,
        clean_class_name,
        is_tutorial_file,
        list_images,
        read_tutorial_annotations,
        suggest,
        unpack_upload,
    )
    from cvlib.data.archive import ExtractReport, ZipScan, content_root, extract_zip, scan_zip
    from cvlib.data.captures import captures_dir, list_captures, save_capture
    from cvlib.data.dataset import Dataset, DatasetSummary, fingerprint, load_dataset, summarize
    from cvlib.data.files import (
        Item,
        find_labels_csv,
        images_under,
        is_hidden,
        is_visible_image,
        subfolders,
    )
    from cvlib.data.fixes import CsvFixes, Fix, FixStore, FolderFixes, fixes_for
    from cvlib.data.health import (
        Finding,
        HealthReport,
        ImageStats,
        check_health,
        duplicate_groups,
        extra_copies,
        image_stats,
    )
    from cvlib.data.images import (
        check_image,
        image_size,
        is_image_name,
        load_image,
        load_images_report,
        thumbnail,
    )
    from cvlib.data.labels_csv import read_labels_csv
    from cvlib.data.splits import sample_per_class, split

__getattr__, __dir__, __all__ = attach(__name__, __file__)
