#!/usr/bin/env bash
# Install everything napari-heatmap needs on a Debian machine: the Debian packages for
# Xvfb and Qt, then a virtualenv in .venv with the plugin (editable) and its test tools.
# Safe to run again: what is already there is kept, and pip is skipped while the installed
# plugin is current (a stamp in .venv holds a hash of pyproject.toml and the version).
# `bash scripts/setup.sh --force` reinstalls anyway.
set -euo pipefail
cd "$(dirname "$0")/.."

FORCE=0
[ "${1:-}" = "--force" ] && FORCE=1
STAMP=.venv/.napari-heatmap-installed
step() { echo "setup: $*"; }

DEBS=(xvfb xauth libgl1-mesa-dri libegl1 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4
      libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0
      libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0 libdbus-1-3 libfontconfig1 libglib2.0-0)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${DEBS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
PY=${PYTHON:-python3}
if ! "$PY" -c "import venv, ensurepip" >/dev/null 2>&1; then missing+=(python3-venv); fi
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  step "installing Debian packages (apt-get): ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  step "Debian packages present"
fi

if [ ! -x .venv/bin/python ]; then
  step "creating the virtualenv .venv"
  "$PY" -m venv .venv
fi

# What the installed distribution was built from: its metadata (dependencies, entry points,
# the version read from __init__.py). The code itself is an editable install: always current.
wanted=$( { cat pyproject.toml; grep -E '^__version__' src/napari_heatmap/__init__.py; } \
          | sha256sum | cut -d' ' -f1)
installed_from=$(.venv/bin/python -c \
  'import napari_heatmap, os; print(os.path.realpath(napari_heatmap.__file__))' 2>/dev/null \
  || true)
here=$(realpath src/napari_heatmap/__init__.py)
if [ "$FORCE" -eq 0 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$wanted" ] \
   && [ "$installed_from" = "$here" ]; then
  step "napari-heatmap in .venv is current (pyproject.toml unchanged): pip skipped"
  exit 0
fi

rm -f "$STAMP"
PIP=(.venv/bin/python -m pip --disable-pip-version-check)
step "upgrading pip"
"${PIP[@]}" install --progress-bar on --upgrade pip
step "installing napari-heatmap (editable) with its test and lint tools; this takes a few minutes"
"${PIP[@]}" install --progress-bar on -e ".[dev]"
echo "$wanted" > "$STAMP"
step "done"
