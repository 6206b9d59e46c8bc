#!/usr/bin/env bash
# Install everything (first time only) and start the studio on http://localhost:8501.
# Extra arguments go to `streamlit run`, e.g. --server.port 8600.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh requirements.txt
exec .venv/bin/python -m streamlit run app.py "$@"
