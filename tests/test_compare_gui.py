"""Comparing heatmaps in a real window under Xvfb: one click for several heatmaps, the
difference's colours, side by side on screen, and the dock's Compare panel (behaviour §12)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from qtpy.QtCore import QPoint
from qtpy.QtTest import QTest

from _canvas import canvas_point, canvas_shot, click_canvas, shot_pixel
from napari_heatmap import Heatmap, colormap_lut, difference, mask_to_rgba, side_by_side

pytestmark = pytest.mark.gui

#: Screenshots land here when NAPARI_HEATMAP_SHOTS names a folder (to look at them).
SHOTS = os.environ.get("NAPARI_HEATMAP_SHOTS")


def keep(shot, name):
    if SHOTS:
        import imageio.v3 as iio

        os.makedirs(SHOTS, exist_ok=True)
        iio.imwrite(os.path.join(SHOTS, f"{name}.png"), shot)


@pytest.fixture
def shown(make_napari_viewer):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(900, 700)
    return viewer


def close(got, want, tol=3):
    return np.abs(np.asarray(got, int) - np.asarray(want, int)).max() <= tol


def test_two_heatmaps_answer_one_real_click_each_with_its_pixel(shown, qtbot):
    a = Heatmap(heatmap_mask=np.arange(20.0).reshape(4, 5), blur_ksize=None, viewer=shown)
    b = Heatmap(
        heatmap_mask=np.array([[100.0, 101.0, 102.0], [110.0, 111.0, 112.0]]),
        blur_ksize=None,
        viewer=shown,
        origin=(1.5, 2.5),
        width=6,
        height=4,
    )
    got_a, got_b = [], []
    a.click(lambda *c: got_a.append(c))
    b.click(lambda *c: got_b.append(c))
    shown.reset_view()
    qtbot.wait(50)
    click_canvas(shown, (2.2, 3.2))  # both: a's pixel (2, 3), b's (0, 0)
    assert got_a == [(2, 3, 13.0)] and got_b == [(0, 0, 100.0)]
    shot = canvas_shot(shown)
    keep(shot, "two_heatmaps_one_click")
    assert shot_pixel(shown, shot, (2.2, 3.2)).min() > 200  # the white marker is drawn
    click_canvas(shown, (4.6, 7.5))  # only b: row 3.1 / 2 -> 1, column 5 / 2 -> 2
    assert got_a == [(2, 3, 13.0)] and got_b[-1] == (1, 2, 112.0)
    click_canvas(shown, (0.2, 0.2))  # only a
    assert got_a[-1] == (0, 0, 0.0) and len(got_b) == 2
    # hovering where both are: the status bar names each heatmap's raw value
    canvas = shown.window._qt_viewer.canvas.native
    x, y = canvas_point(shown, (2.2, 3.2))
    QTest.mouseMove(canvas, QPoint(int(x) - 3, int(y)))
    QTest.mouseMove(canvas, QPoint(int(x), int(y)))
    qtbot.waitUntil(
        lambda: (
            "Heatmap mask[2, 3] = 13" in str(shown.status)
            and "Heatmap [1] mask[0, 0] = 100" in str(shown.status)
        ),
        timeout=3000,
    )


def test_difference_colours_on_screen_are_mask_to_rgba_of_the_difference(shown, qtbot):
    yy, xx = np.mgrid[0:40, 0:60]
    ma = np.sin(xx / 9.0) * 3.0
    mb = np.cos(yy / 7.0) * 2.0
    a = Heatmap(heatmap_mask=ma, blur_ksize=None, viewer=shown)
    b = Heatmap(heatmap_mask=mb, blur_ksize=None, viewer=shown)
    d = difference(a, b)
    d.opacity = 100
    for hm in (a, b):
        hm.visible = False
    shown.reset_view()
    shot = canvas_shot(shown)
    keep(shot, "difference")
    want = mask_to_rgba(ma - mb, colormap="PiYG", norm="centered", vcenter=0.0, blur_ksize=None)
    lo, hi = d.limits
    assert lo == -hi  # symmetric about 0
    for y in range(0, 40, 3):
        for x in range(0, 60, 3):
            assert close(shot_pixel(shown, shot, (y, x)), want[y, x, :3]), (y, x)
    # napari's PiYG: near-white at 0, pink below, green above
    from napari.utils.colormaps import ensure_colormap

    piyg = (ensure_colormap("PiYG").map(np.array([0.0, 0.5, 1.0]))[:, :3] * 255).round()
    y0, x0 = np.unravel_index(np.argmin(np.abs(ma - mb)), ma.shape)
    y1, x1 = np.unravel_index(np.argmin(ma - mb), ma.shape)
    y2, x2 = np.unravel_index(np.argmax(ma - mb), ma.shape)
    assert close(shot_pixel(shown, shot, (y0, x0)), piyg[1], tol=12)
    assert close(shot_pixel(shown, shot, (y1, x1)), piyg[0], tol=12)
    assert close(shot_pixel(shown, shot, (y2, x2)), piyg[2], tol=12)


def three(viewer):
    """Three heatmaps over backgrounds of their own colour; the mask's left half is NaN."""
    colours = [(220, 40, 40), (40, 200, 40), (40, 40, 220)]
    made = []
    for k, (h, w) in enumerate([(20, 30), (40, 20), (15, 15)]):
        bg = np.empty((h * 2, w * 2, 3), np.uint8)
        bg[:] = colours[k]
        mask = np.full((h, w), float(k))
        mask[:, : w // 2] = np.nan  # transparent: the background shows there
        hm = Heatmap(bg, mask, blur_ksize=None, vmin=0, vmax=2, viewer=viewer)
        hm.opacity = 100
        made.append(hm)
    return made, colours


def test_side_by_side_each_over_its_own_background_and_clicks_exact(shown, qtbot):
    hms, colours = three(shown)
    side_by_side(*hms, gap=4)
    qtbot.wait(50)
    shot = canvas_shot(shown)
    keep(shot, "side_by_side")
    jet = colormap_lut("jet")
    for k, hm in enumerate(hms):
        (y0, x0), (fh, fw) = hm.origin, hm.frame
        left = (y0 + fh / 2, x0 + fw / 4)  # NaN half: this heatmap's own background
        right = (y0 + fh / 2, x0 + 3 * fw / 4)  # value k of [0, 2]: JET at 0, 128, 255
        assert close(shot_pixel(shown, shot, left), colours[k]), k
        assert close(shot_pixel(shown, shot, right), jet[[0, 128, 255][k], :3]), k
    # the gap between frames shows the empty canvas
    gap = (hms[0].origin[0] + 5, hms[1].origin[1] - 2)
    assert shot_pixel(shown, shot, gap).max() < 40
    # a real click in each frame reports that heatmap's own pixel
    for hm in hms:
        (y0, x0), (fh, fw) = hm.origin, hm.frame
        h, w = hm.heatmap_mask.shape
        click_canvas(shown, (y0 + fh * (h - 0.5) / h, x0 + fw * (w - 0.5) / w))
        assert (hm.click_y, hm.click_x) == (h - 1, w - 1)
    assert [hm.click_value for hm in hms] == [0.0, 1.0, 2.0]
    # one camera: zoom and pan act on the whole row
    camera = getattr(shown, "scene", shown).camera
    camera.zoom *= 2
    qtbot.wait(20)
    hm = hms[2]
    (y0, x0), (fh, fw) = hm.origin, hm.frame
    camera.center = (y0 + fh / 2, x0 + fw / 2)
    qtbot.wait(20)
    click_canvas(shown, (y0 + fh * 0.5 / 15, x0 + fw * 14.5 / 15))
    assert (hm.click_y, hm.click_x) == (0, 14)


def test_dock_compare_panel_makes_a_difference_and_a_row(shown, qtbot):
    (a, b, c), _ = three(shown)
    _, widget = shown.window.add_plugin_dock_widget("napari-heatmap", "Heatmap")
    qtbot.wait(50)
    panel = widget.compare
    names = [name for name, _ in panel._choices()]
    assert names == ["Heatmap", "Heatmap [1]", "Heatmap [2]"]
    assert panel.difference_button.enabled
    panel.first.value, panel.second.value = a, b
    panel.difference_button.native.click()
    qtbot.wait(50)
    made = Heatmap.instances(shown)[-1]
    assert made not in (a, b, c) and made.heatmap_layer.name == "Heatmap − Heatmap [1]"
    # b (40×20 over 80×40) at a's (20×30 over 40×60) pixel centres: a's finite columns 15..29
    # lie at x = 2j + 0.5; b reaches x < 39.5 and is finite there (its columns 15..19): 0 − 1
    finite = np.isfinite(made.heatmap_mask)
    assert finite[:, 15:20].all() and finite.sum() == 20 * 5
    assert np.all(made.heatmap_mask[finite] == -1.0)
    assert widget.heatmap is made  # the dock follows the new heatmap
    qtbot.waitUntil(lambda: made in panel.first.choices, timeout=2000)
    # side by side from the panel, then back
    made.close()
    qtbot.wait(50)
    panel.row.value = [c, a]
    panel.side_by_side_button.native.click()
    assert a.origin == (-0.5, -0.5) and c.origin[1] > a.origin[1] + a.frame[1]  # list order
    assert panel.undo_button.enabled
    (y0, x0), (fh, fw) = c.origin, c.frame
    click_canvas(shown, (y0 + fh * 0.5, x0 + fw * 0.9))
    assert (c.click_y, c.click_x, c.click_value) == (7, 13, 2.0)
    panel.undo_button.native.click()
    assert c.origin == (-0.5, -0.5) and not panel.undo_button.enabled
    # one heatmap left: nothing to compare
    b.close()
    c.close()
    qtbot.waitUntil(lambda: not panel.difference_button.enabled, timeout=2000)
    assert not panel.side_by_side_button.enabled and list(panel.first.choices) == [a]
