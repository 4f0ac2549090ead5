"""The dock widget is a thin view over ``Heatmap``: real viewer, real widgets, real pixels."""

from __future__ import annotations

import numpy as np
import pytest

from _canvas import click_canvas, screen_pixel
from napari_heatmap import COLORMAP_NAMES, Heatmap, colormap_lut
from napari_heatmap._qt.widget import HeatmapWidget
from napari_heatmap._session import open_demo

pytestmark = pytest.mark.gui

#: Centre of the demo's first blob (world = mask pixels: the frame is the natural size).
BLOB = (133.0, 200.0)
#: Demo background colour at the blob's row (contract: the gradient of the documentation).
BG = np.array([50 + 133 // 3, 100, 150 + 133 // 5])


def _callbacks_of(emitter, obj) -> list:
    return [cb for cb in emitter.callbacks if isinstance(cb, tuple) and cb[0]() is obj]


def _shown(panel) -> bool:
    """Whether a panel is shown (independent of the window being on screen)."""
    return not panel.native.isHidden()


def _docked(make_napari_viewer, qtbot, show=False):
    viewer = make_napari_viewer(strict_qt="raise", show=show)
    hm = open_demo(viewer)
    widget = HeatmapWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Heatmap")
    return viewer, hm, widget


def test_widget_attaches_to_existing_heatmap_and_shows_its_state(make_napari_viewer, qtbot):
    _viewer, hm, widget = _docked(make_napari_viewer, qtbot)
    assert widget.heatmap is hm
    assert _shown(widget.controls) and not _shown(widget.create_panel)
    assert widget.colormap.value == COLORMAP_NAMES["jet"]
    assert widget.vmin.number_or_none == 0.0 and widget.vmax.number_or_none == 255.0
    assert widget.transparent_low.value is True
    assert widget.blur.ksize == (7, 7)
    assert widget.opacity.value == 70
    assert (widget.legend.low.value, widget.legend.high.value) == ("0", "255")
    lo, hi = hm.data_range
    assert widget.legend.data.value == f"data: {lo:.4g} … {hi:.4g}"
    pixmap = widget.legend.bar.native.pixmap()
    assert pixmap is not None and pixmap.width() == 256


def test_each_control_sets_the_controller(make_napari_viewer, qtbot):
    _viewer, hm, widget = _docked(make_napari_viewer, qtbot)
    widget.colormap.value = COLORMAP_NAMES["hot"]
    assert hm.colormap == COLORMAP_NAMES["hot"]
    widget.vmax.auto.value = True
    assert hm.vmax is None and hm.limits[1] == pytest.approx(hm.data_range[1])
    assert widget.vmax.number.value == pytest.approx(hm.data_range[1], abs=1e-3)
    assert not widget.vmax.number.enabled
    widget.vmax.auto.value = False
    widget.vmax.number.value = 200.0
    assert hm.vmax == 200.0 and hm.limits == (0.0, 200.0)
    assert widget.legend.high.value == "200"
    widget.vmin.number.value = 10.0
    assert hm.vmin == 10.0
    widget.transparent_low.value = False
    assert hm.transparent_low is False
    widget.blur.off.value = True
    assert hm.blur_ksize is None and not widget.blur.size.enabled
    widget.blur.off.value = False
    assert hm.blur_ksize == (7, 7)
    widget.blur.size.value = 4  # typed even size: the odd one above is used and shown
    assert hm.blur_ksize == (5, 5) and widget.blur.size.value == 5
    widget.opacity.value = 35
    assert hm.opacity == 35.0 and hm.heatmap_layer.opacity == pytest.approx(0.35)
    widget.frame_width.number.value = 300.0
    assert hm.width == 300.0
    widget.frame_height.auto.value = True
    assert hm.height is None and hm.frame == (200.0, 300.0)
    widget.colorbar.value = True
    assert hm.heatmap_layer.colorbar.visible


def test_code_changes_show_in_the_widget_at_once(make_napari_viewer, qtbot):
    _viewer, hm, widget = _docked(make_napari_viewer, qtbot)
    hm.colormap = "viridis"
    assert widget.colormap.value == COLORMAP_NAMES["viridis"]
    hm.vmin = None
    assert widget.vmin.auto.value and widget.vmin.number.value == pytest.approx(
        hm.data_range[0], abs=1e-3)
    hm.vmax = 100
    assert not widget.vmax.auto.value and widget.vmax.number.value == 100.0
    assert widget.legend.high.value == "100"
    hm.transparent_low = False
    assert widget.transparent_low.value is False
    hm.blur_ksize = (3, 3)
    assert widget.blur.size.value == 3 and not widget.blur.off.value
    hm.blur_ksize = None
    assert widget.blur.off.value
    hm.blur_function = lambda a: a
    assert not widget.blur.enabled
    hm.opacity = 12.4
    assert widget.opacity.value == 12
    hm.width = 1200
    assert widget.frame_width.number.value == 1200.0 and not widget.frame_width.auto.value
    hm.height = None  # follows the aspect ratio of the background
    assert widget.frame_height.number.value == 800.0 and widget.frame_height.auto.value
    hm.click_at((267.0, 401.0))  # the frame is now twice the mask's size
    assert widget.click_readout.value == f"y=133, x=200, value={hm.click_value:.4g}"


def test_updates_from_code_do_not_echo_back(make_napari_viewer, qtbot):
    _viewer, hm, _widget = _docked(make_napari_viewer, qtbot)
    seen: list[str] = []
    for name in ("colormap", "vmin", "vmax", "opacity", "blur", "transparent_low"):
        getattr(hm.events, name).connect(lambda e, n=name: seen.append(n))
    hm.opacity = 50
    hm.colormap = "hot"
    assert seen == ["opacity", "colormap"]


def test_refused_value_is_reported_and_the_view_restored(make_napari_viewer, qtbot, monkeypatch):
    _viewer, hm, widget = _docked(make_napari_viewer, qtbot)
    errors: list[str] = []
    monkeypatch.setattr("napari_heatmap._qt.widget.show_error", errors.append)
    widget.vmin.number.value = 300.0  # > vmax = 255
    assert hm.vmin == 0.0
    assert widget.vmin.number.value == 0.0
    assert errors and "vmin" in errors[0]


def test_screen_follows_colormap_and_opacity(make_napari_viewer, qtbot):
    viewer, _hm, widget = _docked(make_napari_viewer, qtbot, show=True)
    viewer.reset_view()
    top = colormap_lut("jet")[255].astype(float)  # the blob centre is above vmax
    np.testing.assert_allclose(screen_pixel(viewer, BLOB), 0.7 * top + 0.3 * BG, atol=6)
    widget.colormap.value = COLORMAP_NAMES["hot"]
    top = colormap_lut("hot")[255].astype(float)
    np.testing.assert_allclose(screen_pixel(viewer, BLOB), 0.7 * top + 0.3 * BG, atol=6)
    widget.opacity.value = 100
    np.testing.assert_allclose(screen_pixel(viewer, BLOB), top, atol=3)
    widget.opacity.value = 0
    np.testing.assert_allclose(screen_pixel(viewer, BLOB), BG, atol=3)
    before = viewer.screenshot(canvas_only=True, flash=False)
    widget.colorbar.value = True  # napari's colorbar overlay, top right of the canvas
    after = viewer.screenshot(canvas_only=True, flash=False)
    h, w = after.shape[:2]
    corner = (slice(0, h // 3), slice(w * 2 // 3, w))
    assert np.abs(after[corner].astype(int) - before[corner]).max() > 50


def test_canvas_click_shows_in_the_readout(make_napari_viewer, qtbot):
    viewer, hm, widget = _docked(make_napari_viewer, qtbot, show=True)
    viewer.reset_view()
    click_canvas(viewer, BLOB)
    assert (hm.click_y, hm.click_x) == pytest.approx((133, 200), abs=2)
    assert widget.click_readout.value.startswith(f"y={hm.click_y}, x={hm.click_x}, value=")
    assert hm.marker_layer is not None


def test_create_panel_builds_a_heatmap_from_layers(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(strict_qt="raise")
    background = np.full((40, 60, 3), 90, np.uint8)
    mask = np.zeros((20, 30), np.float32)
    mask[5:10, 5:10] = 7.0
    bg_layer = viewer.add_image(background, name="photo", rgb=True)
    mask_layer = viewer.add_image(mask, name="scores")
    widget = HeatmapWidget(viewer)
    viewer.window.add_dock_widget(widget)
    assert widget.heatmap is None
    assert _shown(widget.create_panel) and not _shown(widget.controls)
    assert [c for c in widget.mask_choice.choices] == [bg_layer, mask_layer]
    widget.background_choice.value = bg_layer
    widget.mask_choice.value = mask_layer
    widget.create_button.clicked.emit()
    hm = widget.heatmap
    assert hm is not None and Heatmap.instances(viewer) == [hm]
    np.testing.assert_array_equal(hm.heatmap_mask, mask)
    assert hm.frame == (40.0, 60.0)
    assert mask_layer.visible is False
    assert _shown(widget.controls) and widget.legend.high.value == "7"
    # the heatmap's own layers are not offered as inputs
    widget.mask_choice.reset_choices()
    assert hm.heatmap_layer not in widget.mask_choice.choices


def test_rebinds_when_heatmap_closes_and_when_a_new_one_appears(make_napari_viewer, qtbot):
    viewer, first, widget = _docked(make_napari_viewer, qtbot)
    second = Heatmap(heatmap_mask=np.eye(8), viewer=viewer)
    qtbot.waitUntil(lambda: widget.heatmap is second, timeout=2000)
    assert not _callbacks_of(first.events.opacity, widget)
    first.opacity = 5
    assert widget.opacity.value == round(second.opacity)
    second.close()
    assert widget.heatmap is first
    first.close()
    assert widget.heatmap is None and _shown(widget.create_panel)
    assert not _callbacks_of(first.events.closed, widget)


def test_removing_layers_and_closing_the_dock_leave_nothing_behind(make_napari_viewer, qtbot):
    viewer, hm, widget = _docked(make_napari_viewer, qtbot)
    hm.click_at(BLOB)
    assert hm._on_mouse_drag in viewer.mouse_drag_callbacks
    viewer.layers.clear()
    assert hm.viewer is None and Heatmap.instances(viewer) == []
    assert not [cb for cb in viewer.mouse_drag_callbacks if getattr(cb, "__self__", None) is hm]
    assert all(not _callbacks_of(em, widget) for em in hm.events.emitters.values())
    assert widget.heatmap is None
    viewer.window.remove_dock_widget(widget.native)
    assert widget._closed
    events = viewer.layers.events
    for emitter in (events.inserted, events.removed, events.reordered, events.renamed):
        assert not _callbacks_of(emitter, widget)
    qtbot.wait(10)  # let deleteLater run: no orphaned top-level widget (strict_qt)


def test_plugin_menu_widget_drives_the_heatmap(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(strict_qt="raise")
    hm = open_demo(viewer)
    _, widget = viewer.window.add_plugin_dock_widget("napari-heatmap", "Heatmap")
    assert isinstance(widget, HeatmapWidget)
    assert widget.heatmap is hm  # the viewer proxy napari hands plugins was unwrapped
    widget.opacity.value = 40
    assert hm.opacity == 40.0
    backlog = viewer.window._qt_viewer.console_backlog  # the console opens lazily
    assert backlog[-1]["heatmap"]() is hm
