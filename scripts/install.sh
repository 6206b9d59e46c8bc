#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install the pinned stack.
# Usage: bash scripts/install.sh [requirements-file]   (default: requirements.txt)
# Re-running is cheap: pip is skipped when the requirements file has not changed.
set -euo pipefail
cd "$(dirname "$0")/.."
req="${1:-requirements.txt}"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "Creating .venv with $($python --version)" >&2
    "$python" -m venv .venv
fi
stamp=".venv/.installed-$(basename "$req")"
digest="$(cat "$req" requirements.txt | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
    echo "Dependencies already installed ($req)." >&2
    exit 0
fi
echo "Installing $req into .venv (first time: about 4 minutes, 6-7 GB)..." >&2
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r "$req"
echo "$digest" > "$stamp"
