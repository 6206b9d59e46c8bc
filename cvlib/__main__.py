"""``python -m cvlib``: the studio's command line (see :mod:`cvlib.cli`)."""

import os
import sys

from cvlib.cli import flush_tracking, main

status = main()
flush_tracking()
# Every file a command writes is complete (atomic, fsynced) before main() returns, MLflow
# has ended its run (flush_tracking), and the output is flushed here; ending without
# tearing torch's modules down saves most of a second per command on a laptop CPU.
sys.stdout.flush()
sys.stderr.flush()
os._exit(status)
