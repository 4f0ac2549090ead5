"""Lazy (dask) masks in a real napari window under Xvfb: they show, and a click is exact."""

from __future__ import annotations

import os

import dask.array as da
import numpy as np
import pytest

from _canvas import canvas_shot, click_canvas, shot_pixel
from napari_heatmap import Heatmap, colormap_lut, mask_to_rgba

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


STACK = (3, 1500, 2000)


def log_stack() -> np.ndarray:
    """Three slices of values 1..1000 rising in log10 (slice 0 left to right, slice 1 right
    to left, slice 2 top to bottom), each with a NaN band of its own rows."""
    k, h, w = STACK
    ramp_x = np.logspace(0, 3, w, dtype=np.float32)
    ramp_y = np.logspace(0, 3, h, dtype=np.float32)
    mask = np.empty(STACK, np.float32)
    mask[0] = ramp_x
    mask[1] = ramp_x[::-1]
    mask[2] = ramp_y[:, None]
    for i in range(k):
        mask[i, 200 + 400 * i : 300 + 400 * i] = np.nan
    return mask


def move_slider(viewer, qtbot, axis: int, value: int) -> None:
    """Move napari's dimension slider of ``axis`` as its widget does."""
    slider = viewer.window._qt_viewer.dims.slider_widgets[axis].slider
    slider.setValue(value)
    qtbot.waitUntil(lambda: viewer.dims.current_step[axis] == value, timeout=2000)


def test_a_lazy_stack_under_the_log_norm_follows_the_slider_and_clicks_exactly(shown, qtbot):
    mask = log_stack()
    lazy = da.from_array(mask, chunks=(1, 512, 512))
    hm = Heatmap(heatmap_mask=lazy, viewer=shown, stack=True, norm="log", vmin=1, vmax=1000)
    hm.opacity = 100
    layer = hm.heatmap_layer
    assert layer.multiscale and len(layer.data) > 1
    assert shown.dims.nsteps[0] == 3
    picture = mask_to_rgba(mask, "jet", vmin=1, vmax=1000, norm="log", stack=True)
    calls: list[tuple[int, int, float]] = []
    hm.click(lambda y, x, v: calls.append((y, x, v)))
    shown.reset_view()
    qtbot.wait(100)
    folder = os.environ.get("HEATMAP_SHOTS")
    for step in (2, 0, 1):
        move_slider(shown, qtbot, 0, step)
        qtbot.wait(100)
        shot = canvas_shot(shown)
        if folder:  # for a person to look at
            from imageio.v3 import imwrite

            imwrite(os.path.join(folder, f"lazy_stack_log_{step}.png"), shot)
        for yx in [(1300, 100), (1300, 1000), (1300, 1900), (100, 1000), (1450, 1000)]:
            want = picture[step, yx[0], yx[1], :3].astype(int)
            got = shot_pixel(shown, shot, (float(yx[0]), float(yx[1])))
            assert np.abs(got - want).max() <= 12, (step, yx, got, want)
        assert layer.data_level > 0  # zoomed out: a coarse level of the normed pyramid
        band = (250.0 + 400 * step, 1000.0)  # this slice's NaN band: the canvas shows through
        outside = shot_pixel(shown, shot, (-200.0, 1000.0))
        assert np.abs(shot_pixel(shown, shot, band) - outside).max() <= 2
        click_canvas(shown, (1300.0, 1500.0))  # outside every slice's NaN band
        y, x, value = calls[-1]
        assert abs(y - 1300) <= 8 and abs(x - 1500) <= 8  # a screen pixel is a few mask pixels
        assert value == float(mask[step, y, x])
        assert hm.click_index == (step, y, x)
    assert len(calls) == 3


def test_the_dock_shows_a_lazy_stack_under_a_norm(make_napari_viewer, qtbot):
    from napari_heatmap import HeatmapWidget

    viewer = make_napari_viewer(strict_qt="raise")
    rng = np.random.default_rng(3)
    data = (rng.random((3, 96, 128)) * 100).astype(np.float32)
    hm = Heatmap(
        heatmap_mask=da.from_array(data, chunks=(1, 32, 32)),
        stack=True,
        viewer=viewer,
        norm="log",
        threshold=20.0,
    )
    widget = HeatmapWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.bind(hm)
    view = widget.histogram_panel.view
    qtbot.waitUntil(lambda: view.has_data, timeout=10_000)
    counts, edges = hm.histogram(len(view.counts))
    np.testing.assert_array_equal(view.counts, counts)
    centres = np.sqrt(edges[:-1] * edges[1:])  # the log axis: geometric centres
    np.testing.assert_array_equal(view.colours, hm.colours_of(centres))
    assert "mean" in widget.statistics.value
    widget.norm.value = "symlog"  # the dock drives the lazy heatmap
    assert hm.norm == "symlog"
    viewer.dims.set_current_step(0, 2)
    hm.click_at((10.0, 20.0))
    assert widget.click_readout.value.startswith("slice 2: y=10, x=20")
