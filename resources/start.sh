#!/usr/bin/env bash
# Install Event Explorer into a virtual environment next to the checkout and start it.
# Arguments go to `event-explorer` (none: the bundled demo data opens).
# Installs only what is missing: a second start runs no installer and needs no network.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${EVENT_EXPLORER_VENV:-.venv}"

# Qt's shared libraries, on a fresh Debian/Ubuntu (a desktop has them already).
need=()
if command -v dpkg >/dev/null; then
  for pkg in libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 \
             libglib2.0-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
fi
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing system libraries Qt needs: ${need[*]}" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# The project is installed again only when its dependencies changed (or it never was).
stamp="$VENV/.installed"
want="$(python3 -c 'import hashlib,sys; print(hashlib.sha256(open("pyproject.toml","rb").read()).hexdigest())')"
if [ ! -x "$VENV/bin/event-explorer" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
  log="$VENV/install.log"
  echo "installing Event Explorer into $VENV (once) ..." >&2
  if ! { "$VENV/bin/python" -m pip install -q --upgrade pip &&
         "$VENV/bin/python" -m pip install -q -e .; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "installing Event Explorer failed (log: $log)" >&2
    exit 1
  fi
  echo "$want" > "$stamp"
fi
exec "$VENV/bin/event-explorer" "$@"
