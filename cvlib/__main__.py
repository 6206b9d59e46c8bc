"""``python -m cvlib``: the studio's command line (see :mod:`cvlib.cli`)."""

import os
import sys

from cvlib.cli import main

status = main()
# Every file a command writes is complete (atomic, fsynced) before main() returns, and
# its output is flushed here; ending without tearing torch's modules down saves most of
# a second per command on a laptop CPU.
sys.stdout.flush()
sys.stderr.flush()
os._exit(status)
