"""Running long work: progress that can be cancelled, background jobs, the hardware.

Nothing here knows what the work is: training, sweeps and deployments report through
:class:`~cvlib.runtime.progress.Progress` and run as :class:`~cvlib.runtime.jobs.Job` objects, so
every surface (pages, CLI) shows and stops them the same way.  Torch-free.
"""

from typing import TYPE_CHECKING

from cvlib._lazy import attach

if TYPE_CHECKING:
    from cvlib.runtime.hardware import Hardware, detect
    from cvlib.runtime.jobs import Job, JobManager
    from cvlib.runtime.progress import Progress, child_progress

__getattr__, __dir__, __all__ = attach(__name__, __file__)
