"""A lazy (dask) mask in a real napari window under Xvfb: it shows, and a click is exact."""

from __future__ import annotations

import os

import dask.array as da
import numpy as np
import pytest

from _canvas import canvas_shot, click_canvas, shot_pixel
from napari_heatmap import Heatmap, colormap_lut

pytestmark = pytest.mark.gui

JET = colormap_lut("jet")
SHAPE = (3000, 4000)


def gradient_mask() -> np.ndarray:
    """Values 0..255 rising left to right (a linear ramp stays itself under the blur), with a
    NaN band across the middle rows."""
    mask = np.tile(np.linspace(0, 255, SHAPE[1], dtype=np.float32), (SHAPE[0], 1))
    mask[1400:1600] = np.nan
    return mask


@pytest.fixture
def shown(make_napari_viewer):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(900, 700)
    return viewer


def test_a_lazy_heatmap_shows_as_a_pyramid_and_a_click_reports_the_mask_value(shown, qtbot):
    mask = gradient_mask()
    lazy = da.from_array(mask, chunks=(512, 512))
    hm = Heatmap(heatmap_mask=lazy, viewer=shown, vmin=0, vmax=255)
    hm.opacity = 100
    layer = hm.heatmap_layer
    assert layer.multiscale and len(layer.data) > 1
    calls: list[tuple[int, int, float]] = []
    hm.click(lambda y, x, v: calls.append((y, x, v)))
    shown.reset_view()
    qtbot.wait(100)
    assert layer.data_level > 0  # zoomed out: napari shows a coarse level, not the base

    shot = canvas_shot(shown)
    folder = os.environ.get("HEATMAP_SHOTS")
    if folder:  # for a person to look at
        from imageio.v3 import imwrite

        imwrite(os.path.join(folder, "lazy_heatmap.png"), shot)
    for column in (400, 2000, 3600):
        want = JET[int(np.floor(mask[100, column] + 0.5))]
        got = shot_pixel(shown, shot, (100.0, float(column)))
        assert np.abs(got - want).max() <= 12, (column, got, want)  # a few columns per pixel
    # the NaN band is transparent: the canvas background shows through
    band = shot_pixel(shown, shot, (1500.0, 2000.0))
    assert np.abs(band - shot_pixel(shown, shot, (-200.0, 2000.0))).max() <= 2

    click_canvas(shown, (2500.0, 1000.0))
    assert len(calls) == 1
    y, x, value = calls[0]
    assert abs(y - 2500) <= 8 and abs(x - 1000) <= 8  # a screen pixel is ~5 mask pixels
    assert value == float(mask[y, x])
    assert hm.click_value == value
