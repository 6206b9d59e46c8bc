#!/usr/bin/env bash
# Install everything (first time only) and run the whole test suite.
# Browser tests need Debian's chromium (apt-get install -y chromium); without it they skip.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh requirements-dev.txt
.venv/bin/python -m ruff check .
.venv/bin/python -m mypy
exec .venv/bin/python -m pytest "$@"
