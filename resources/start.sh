#!/usr/bin/env bash
# Install Event Explorer into a virtual environment next to the checkout and start it.
# Arguments go to `event-explorer` (none: the bundled demo data opens).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${EVENT_EXPLORER_VENV:-.venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
log="$VENV/install.log"
if ! { "$VENV/bin/python" -m pip install -q --upgrade pip &&
       "$VENV/bin/python" -m pip install -q -e .; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "installing Event Explorer failed (log: $log)" >&2
  exit 1
fi
exec "$VENV/bin/event-explorer" "$@"
