"""Render docs/images/demo.png: the demo window with the dock widget and a click marker.

Run it where there is a display, or headless with
``xvfb-run -a -s "-screen 0 1400x1000x24" .venv/bin/python scripts/make_screenshots.py``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from napari_heatmap._launcher import open_viewer
from napari_heatmap._qt._screenshot import process_events, save_window

ROOT = Path(__file__).resolve().parent.parent
#: Centre of the demo's first blob, in world (= mask pixel) coordinates.
CLICK = (133.0, 200.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "demo.png")
    parser.add_argument(
        "--size", type=int, nargs=2, default=(1500, 850), metavar=("WIDTH", "HEIGHT")
    )
    args = parser.parse_args()
    viewer, hm = open_viewer(widget=True)
    try:
        hm.click_at(CLICK)
        viewer.layers.selection.active = hm.heatmap_layer
        process_events(0.2)
        path = save_window(viewer, args.out, size=tuple(args.size))
    finally:
        viewer.close()
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    main()
