"""Render docs/images/demo.png (the demo window with the dock and a click marker) and
docs/images/analysis.png (a heavy-tailed density under the log norm, a threshold and the dock's
histogram).

Run it where there is a display, or headless with
``xvfb-run -a -s "-screen 0 1400x1000x24" .venv/bin/python scripts/make_screenshots.py``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from napari_heatmap._launcher import open_viewer
from napari_heatmap._qt._screenshot import process_events, save_window

ROOT = Path(__file__).resolve().parent.parent
#: Centre of the demo's first blob, in world (= mask pixel) coordinates.
CLICK = (133.0, 200.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "demo.png")
    parser.add_argument(
        "--analysis-out", type=Path, default=ROOT / "docs" / "images" / "analysis.png"
    )
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
    path = analysis(args.analysis_out, tuple(args.size))
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def heavy_tailed(background: np.ndarray) -> np.ndarray:
    """A density over the demo's background whose values span four decades (counts, say)."""
    h, w = background.shape[:2]
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[:h, :w]
    field = np.zeros((h, w))
    for _ in range(40):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        peak, width = 10 ** rng.uniform(0, 4), rng.uniform(6, 40)
        field += peak * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * width**2))
    return field + rng.exponential(0.05, (h, w))


def analysis(out: Path, size: tuple[int, int]) -> Path:
    """The analysis picture: log norm, robust limits, a threshold, the dock's histogram."""
    from napari_heatmap import demo_data

    background, _ = demo_data()
    viewer, hm = open_viewer(background, heavy_tailed(background), widget=True)
    try:
        hm.colormap = "turbo"
        hm.norm = "log"
        hm.percentiles = (1, 99.9)
        hm.threshold = 3.0
        hm.opacity = 85
        viewer.layers.selection.active = hm.heatmap_layer
        process_events(0.5)
        return save_window(viewer, out, size=size)
    finally:
        viewer.close()


if __name__ == "__main__":
    main()
