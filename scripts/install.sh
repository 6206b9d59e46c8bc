#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv, install the pinned stack, then
# this checkout itself in editable mode (so `import cvlib` works from any folder).
# Usage: bash scripts/install.sh [requirements-file]   (default: requirements.txt)
# Re-running is cheap: each step is skipped while its stamp in .venv still matches.
set -euo pipefail
cd "$(dirname "$0")/.."
req="${1:-requirements.txt}"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    echo "Creating .venv with $($python --version)" >&2
    "$python" -m venv .venv
fi

# Runs the rest of the command line unless the stamp file $1 already holds the digest $2;
# records the digest once the command has succeeded.
unless_stamped() {
    local stamp="$1" digest="$2"
    shift 2
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
        return 0
    fi
    "$@"
    echo "$digest" > "$stamp"
}

install_requirements() {
    echo "Installing $req into .venv (first time: about 4 minutes, 6-7 GB)..." >&2
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r "$req"
}

install_checkout() {
    echo "Installing this checkout ($(pwd -P)) into .venv in editable mode..." >&2
    .venv/bin/python -m pip install --quiet --no-deps -e .
}

unless_stamped ".venv/.installed-$(basename "$req")" \
    "$(cat "$req" requirements.txt | sha256sum | cut -c1-16)" install_requirements
# Its own stamp: a .venv installed before the project was installable gets it too, and a
# changed pyproject.toml or a moved checkout installs it again.
unless_stamped ".venv/.installed-checkout" \
    "$( (pwd -P; cat pyproject.toml) | sha256sum | cut -c1-16)" install_checkout
echo "Dependencies installed ($req)." >&2
