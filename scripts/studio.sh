#!/usr/bin/env bash
# Install everything (first time only) and start the studio on http://localhost:8501.
# It listens on 127.0.0.1 only (.streamlit/config.toml). `--network` serves it on every
# interface instead: then anyone who can reach this machine's port can use the app, and after
# page 20's Connect, act in Azure with the identity you signed in with (deploy, delete, spend).
# Do that only on a network you trust, or behind an authenticating HTTPS proxy.
# Other arguments go to `streamlit run`, e.g. --server.port 8600.
set -euo pipefail
cd "$(dirname "$0")/.."
args=()
for arg in "$@"; do
  if [[ "$arg" == "--network" ]]; then
    echo "Serving on every network interface: anyone who reaches this port can act as your" \
         "Azure identity once page 20 is connected." >&2
    args+=(--server.address 0.0.0.0)
  else
    args+=("$arg")
  fi
done
bash scripts/install.sh requirements.txt
exec .venv/bin/python -m streamlit run app.py "${args[@]}"
