"""``python -m cvlib``: the studio's command line (see :mod:`cvlib.cli`)."""

from cvlib.cli import main

raise SystemExit(main())
