"""Real-window tests: a shown napari viewer under Xvfb, screenshots and Qt mouse clicks."""

from __future__ import annotations

import numpy as np
import pytest

from _canvas import canvas_point, canvas_shot, click_canvas, shot_pixel
from napari_heatmap import Heatmap, colormap_lut
from napari_heatmap._sample import DEMO_SETTINGS, demo_data

pytestmark = pytest.mark.gui

JET = colormap_lut("jet")


def camera(viewer):
    scene = getattr(viewer, "scene", None)  # napari >= 0.9 moved the camera there
    return scene.camera if scene is not None else viewer.camera


@pytest.fixture
def shown(make_napari_viewer):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(900, 700)
    return viewer


def blend(top, bottom, alpha):
    return np.asarray(top) * alpha + np.asarray(bottom) * (1 - alpha)


def test_demo_screenshot_colours(shown, qtbot):
    bg, mask = demo_data()
    hm = Heatmap(bg, mask, viewer=shown, **DEMO_SETTINGS)
    hm.opacity = 70
    shown.reset_view()
    shot = canvas_shot(shown)
    # the first blob's centre: value 255 -> JET's top colour at 70 % over the background
    centre = (400 // 3, 600 // 3)
    top = JET[255]
    expected = blend(top, bg[centre], 0.7)
    assert np.abs(shot_pixel(shown, shot, centre) - expected).max() <= 6
    # a corner far from both blobs is transparent (transparent_low): background only
    corner = (5, 595)
    assert mask[corner] < 1
    assert np.abs(shot_pixel(shown, shot, corner) - bg[corner]).max() <= 6
    # colormap and opacity changes redraw at once
    hm.colormap = "hot"
    hm.opacity = 100
    shot = canvas_shot(shown)
    assert np.abs(shot_pixel(shown, shot, centre) - colormap_lut("hot")[255]).max() <= 6
    hm.transparent_low = False
    hm.vmin = 100
    shot = canvas_shot(shown)
    assert np.abs(shot_pixel(shown, shot, corner) - colormap_lut("hot")[0]).max() <= 6


def test_gpu_colours_are_exactly_lut_at_floor_255t_plus_half(shown, qtbot):
    # columns k + 0.3 and k + 0.7 across the range: the screen must switch colour at k + 0.5
    ks = np.array([0, 1, 2, 3, 63, 64, 127, 200, 253, 254])
    vals = np.stack([ks + 0.3, ks + 0.7], axis=1).ravel()
    mask = np.tile(vals, (3, 1))
    hm = Heatmap(heatmap_mask=mask, vmin=0, vmax=255, blur_ksize=None, viewer=shown)
    hm.opacity = 100
    shown.reset_view()
    shot = canvas_shot(shown)
    for j, v in enumerate(vals):
        idx = int(np.floor(v + 0.5))
        got = shot_pixel(shown, shot, (1.0, j))
        assert np.abs(got - JET[idx]).max() <= 2, (v, got, JET[idx])
    # transparent_low hides t < 1/255 (value < 1 here) and nothing more
    bg = np.full((3, len(vals), 3), 255, np.uint8)
    hm.set_background(bg)
    hm.transparent_low = True
    shot = canvas_shot(shown)
    for j, v in enumerate(vals):
        got = shot_pixel(shown, shot, (1.0, j))
        want = np.array([255, 255, 255]) if v < 1 else JET[int(np.floor(v + 0.5))]
        assert np.abs(got - want).max() <= 2, (v, got, want)


def test_clicks_on_canvas_with_any_layer_selected(shown, qtbot):
    bg = np.zeros((400, 600, 3), np.uint8)
    mask = np.arange(20, dtype=np.float32).reshape(4, 5)  # smaller than its background
    hm = Heatmap(bg, mask, blur_ksize=None, viewer=shown)
    calls = []
    hm.click(lambda y, x, v: calls.append((y, x, v)))
    shown.reset_view()
    qtbot.wait(50)

    click_canvas(shown, (250.0, 550.0))
    assert calls == [(2, 4, 14.0)]
    assert (hm.click_y, hm.click_x, hm.click_value) == (2, 4, 14.0)
    assert hm.marker_layer is not None

    shown.layers.selection.active = hm.background_layer
    click_canvas(shown, (50.0, 50.0))
    assert calls[-1] == (0, 0, 0.0)
    assert shown.layers.selection.active is hm.background_layer

    # a drag pans the view and reports nothing
    center = tuple(camera(shown).center)
    click_canvas(shown, (150.0, 300.0), drag_to=(60, 40))
    assert len(calls) == 2
    assert tuple(camera(shown).center) != center

    # outside the frame: nothing
    shown.reset_view()
    qtbot.wait(20)
    click_canvas(shown, (-40.0, 300.0))
    assert len(calls) == 2


def test_marker_is_drawn_where_clicked(shown, qtbot):
    mask = np.zeros((100, 100), np.float32)
    hm = Heatmap(heatmap_mask=mask, blur_ksize=None, viewer=shown)
    hm.opacity = 100
    shown.reset_view()
    before = canvas_shot(shown)
    click_canvas(shown, (50.0, 50.0))
    after = canvas_shot(shown)
    got = shot_pixel(shown, after, (50.0, 50.0))
    assert tuple(shot_pixel(shown, before, (50.0, 50.0))) == tuple(JET[128])
    assert got.min() > 200  # white marker face


def test_closing_viewer_leaves_nothing(qtbot):
    import napari

    viewer = napari.Viewer(show=True)
    hm = Heatmap(heatmap_mask=np.eye(5), viewer=viewer)
    _, widget = viewer.window.add_plugin_dock_widget("napari-heatmap", "Heatmap")
    hm.click_at((2, 2))
    viewer.close()  # the window's close button does this
    qtbot.wait(10)
    assert hm.viewer is None and Heatmap.instances() == []
    assert widget.heatmap is None and widget._closed


def test_nan_is_transparent_on_screen(shown, qtbot):
    bg = np.full((4, 8, 3), 200, np.uint8)
    mask = np.ones((4, 8))
    mask[:, :4] = np.nan
    hm = Heatmap(bg, mask, blur_ksize=None, viewer=shown)
    hm.opacity = 100
    shown.reset_view()
    shot = canvas_shot(shown)
    assert tuple(shot_pixel(shown, shot, (1.5, 1.0))) == (200, 200, 200)
    assert tuple(shot_pixel(shown, shot, (1.5, 6.0))) == tuple(JET[128])  # constant: middle


def test_hover_shows_raw_value_in_status_bar(shown, qtbot):
    from qtpy.QtCore import QPoint
    from qtpy.QtTest import QTest

    mask = np.arange(20, dtype=np.float32).reshape(4, 5) * 1.5
    Heatmap(heatmap_mask=mask, blur_ksize=(3, 3), viewer=shown)
    shown.reset_view()
    qtbot.wait(50)
    widget = shown.window._qt_viewer.canvas.native
    x, y = canvas_point(shown, (2.0, 3.0))
    QTest.mouseMove(widget, QPoint(int(x) - 3, int(y)))
    QTest.mouseMove(widget, QPoint(int(x), int(y)))
    # raw (unblurred) mask value 19.5 at row 2, column 3
    qtbot.waitUntil(lambda: "Heatmap mask[2, 3] = 19.5" in str(shown.status), timeout=3000)
