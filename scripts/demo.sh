#!/usr/bin/env bash
# Open napari with the heatmap demo and the dock widget. Without a display, render the
# same window to heatmap-demo.png and exit (the launcher re-runs itself under Xvfb).
# Extra arguments go to the launcher, e.g. `bash scripts/demo.sh --background img.png --mask m.npy`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec .venv/bin/napari-heatmap "$@"
fi
echo "demo: no display; rendering under Xvfb to heatmap-demo.png"
exec .venv/bin/napari-heatmap --screenshot heatmap-demo.png "$@"
