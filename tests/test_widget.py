"""The dock widget is a thin view over ``Heatmap``: real viewer, real widgets, real pixels."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import Qt

from _canvas import click_canvas, screen_pixel
from napari_heatmap import COLORMAP_NAMES, Heatmap, colormap_lut
from napari_heatmap._qt._legend import Legend
from napari_heatmap._qt.widget import HeatmapWidget
from napari_heatmap._session import open_demo

pytestmark = pytest.mark.gui

#: Centre of the demo's first blob (world = mask pixels: the frame is the natural size).
BLOB = (133.0, 200.0)
#: Demo background colour at the blob's row (the gradient of the documented demo).
BG = np.array([50 + 133 // 3, 100, 150 + 133 // 5])


def _callbacks_of(emitter, obj) -> list:
    return [cb for cb in emitter.callbacks if isinstance(cb, tuple) and cb[0]() is obj]


def _shown(panel) -> bool:
    """Whether a panel is shown (independent of the window being on screen)."""
    return not panel.native.isHidden()


def _type(qtbot, field, text: str) -> None:
    """Replace the text of an OptionalNumber's field and press Enter, as a user does."""
    native = field.number.native
    native.selectAll()
    qtbot.keyClicks(native, text)
    qtbot.keyClick(native, Qt.Key.Key_Return)


def _rgb_at(label, x: int) -> np.ndarray:
    """Colour of column ``x`` of a legend label's pixmap (top row)."""
    colour = label.native.pixmap().toImage().pixelColor(x, 0)
    return np.array([colour.red(), colour.green(), colour.blue()])


def _near(a, b) -> bool:
    """Colours equal up to the display's depth (Xvfb may draw pixmaps with 16 bits)."""
    return bool(np.abs(np.asarray(a, int) - np.asarray(b, int)).max() <= 8)


@pytest.fixture
def errors(monkeypatch) -> list[str]:
    """Messages the widget reports with ``show_error``."""
    seen: list[str] = []
    monkeypatch.setattr("napari_heatmap._qt.widget.show_error", seen.append)
    return seen


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
    assert (widget.vmin.exact_value, widget.vmax.exact_value) == hm.limits == (0.0, 255.0)
    assert (widget.vmin.number.value, widget.vmax.number.value) == ("0", "255")
    assert not widget.vmin.auto.value and not widget.frame_width.auto.value
    assert (widget.frame_width.exact_value, widget.frame_height.number.value) == (600.0, "400")
    assert widget.transparent_low.value is True
    assert widget.blur.ksize == (7, 7)
    assert widget.opacity.value == 70
    assert (widget.legend.low.value, widget.legend.high.value) == ("0", "255")
    lo, hi = hm.data_range
    assert widget.legend.data.value == f"data: {lo:.4g} … {hi:.4g}"
    pixmap = widget.legend.bar.native.pixmap()
    assert pixmap is not None and pixmap.width() == 510


def test_each_control_sets_the_controller(make_napari_viewer, qtbot, errors):
    _viewer, hm, widget = _docked(make_napari_viewer, qtbot)
    widget.colormap.value = COLORMAP_NAMES["hot"]
    assert hm.colormap == COLORMAP_NAMES["hot"]
    widget.vmax.auto.value = True
    assert hm.vmax is None and hm.limits[1] == hm.data_range[1]
    assert widget.vmax.exact_value == hm.limits[1] and not widget.vmax.number.enabled
    widget.vmax.auto.value = False  # fixes the limit in use, exactly
    assert hm.vmax == hm.limits[1] == hm.data_range[1]
    _type(qtbot, widget.vmax, "200")
    assert hm.vmax == 200.0 and hm.limits == (0.0, 200.0)
    assert widget.legend.high.value == "200"
    _type(qtbot, widget.vmin, "1e1")
    assert hm.vmin == 10.0 and widget.vmin.number.value == "10"
    widget.transparent_low.value = False
    assert hm.transparent_low is False
    widget.blur.off.value = True
    assert hm.blur_ksize is None and not widget.blur.kx.enabled and not widget.blur.ky.enabled
    widget.blur.off.value = False
    assert hm.blur_ksize == (7, 7)
    widget.blur.kx.value = 4  # typed even size: the odd one above is used and shown
    assert hm.blur_ksize == (5, 7) and widget.blur.kx.value == 5
    widget.blur.ky.value = 11  # kx and ky are separate (behaviour §2.3: (kx, ky) odd ints)
    assert hm.blur_ksize == (5, 11)
    widget.opacity.value = 35
    assert hm.opacity == 35.0 and hm.heatmap_layer.opacity == pytest.approx(0.35)
    widget.frame_width.auto.value = True
    assert hm.width is None and widget.frame_width.exact_value == 600.0
    widget.frame_width.auto.value = False  # fixes the width in use
    assert hm.width == hm.frame[1] == 600.0
    _type(qtbot, widget.frame_width, "300")
    assert hm.width == 300.0 and hm.frame == (400.0, 300.0)
    _type(qtbot, widget.frame_height, "250.5")
    assert hm.height == 250.5
    widget.frame_height.auto.value = True
    assert hm.height is None and hm.frame == (200.0, 300.0)
    widget.colorbar.value = True
    assert hm.heatmap_layer.colorbar.visible
    assert errors == []


def test_code_changes_show_in_the_widget_at_once(make_napari_viewer, qtbot):
    _viewer, hm, widget = _docked(make_napari_viewer, qtbot)
    hm.colormap = "viridis"
    assert widget.colormap.value == COLORMAP_NAMES["viridis"]
    hm.vmin = None
    assert widget.vmin.auto.value and widget.vmin.exact_value == hm.limits[0] == hm.data_range[0]
    hm.vmax = 100
    assert not widget.vmax.auto.value and widget.vmax.number.value == "100"
    assert widget.legend.high.value == "100"
    hm.transparent_low = False
    assert widget.transparent_low.value is False
    hm.blur_ksize = (3, 9)
    assert (widget.blur.kx.value, widget.blur.ky.value) == (3, 9) and not widget.blur.off.value
    hm.blur_ksize = None
    assert widget.blur.off.value
    hm.blur_function = lambda a: a
    assert not widget.blur.enabled
    hm.opacity = 12.4
    assert widget.opacity.value == 12
    hm.width = 1200
    assert widget.frame_width.number.value == "1200" and not widget.frame_width.auto.value
    hm.height = None  # follows the aspect ratio of the background
    assert widget.frame_height.exact_value == 800.0 and widget.frame_height.auto.value
    hm.click_at((267.0, 401.0))  # the frame is now twice the mask's size
    assert widget.click_readout.value == f"y=133, x=200, value={hm.click_value:.4g}"


def test_updates_from_code_do_not_echo_back(make_napari_viewer, qtbot, monkeypatch):
    _viewer, hm, widget = _docked(make_napari_viewer, qtbot)
    calls: list[dict] = []
    real = type(hm)._update

    def counting(self, **changes):  # every change, from code, the dock or napari, ends here
        calls.append(changes)
        return real(self, **changes)

    monkeypatch.setattr(type(hm), "_update", counting)
    hm.opacity = 50
    hm.colormap = "hot"
    hm.vmin = 10.0
    # the dock showed each change and sent none of them back
    assert calls == [{"opacity": 50}, {"colormap": "hot"}, {"vmin": 10.0}]
    assert widget.opacity.value == 50 and widget.vmin.exact_value == 10.0
    assert widget.colormap.value == 11


def test_refused_value_is_reported_and_the_view_restored(make_napari_viewer, qtbot, errors):
    _viewer, hm, widget = _docked(make_napari_viewer, qtbot)
    _type(qtbot, widget.vmin, "300")  # > vmax = 255
    assert hm.vmin == 0.0 and hm.limits == (0.0, 255.0)
    assert widget.vmin.number.value == "0" and widget.vmin.exact_value == 0.0
    assert len(errors) == 1 and "vmin" in errors[0] and "300" in errors[0]
    hm.vmax = None  # vmax follows the data now; unticking it fixes that value
    widget.vmin.auto.value = True
    widget.vmax.auto.value = False
    assert hm.vmax == hm.data_range[1] and len(errors) == 1
    widget.frame_width.auto.value = False
    _type(qtbot, widget.frame_width, "-5")
    assert hm.width == 600.0 and widget.frame_width.number.value == "600"
    assert len(errors) == 2 and "width" in errors[1]
    widget.transparent_low.value = False
    assert hm.transparent_low is False and len(errors) == 2


def test_tiny_and_huge_values_are_shown_and_sent_exactly(make_napari_viewer, qtbot, errors):
    viewer = make_napari_viewer(strict_qt="raise")
    mask = np.linspace(1e-6, 5e-6, 20 * 30, dtype=np.float32).reshape(20, 30)
    hm = Heatmap(heatmap_mask=mask, viewer=viewer)
    widget = HeatmapWidget(viewer)
    viewer.window.add_dock_widget(widget)
    lo, hi = hm.data_range
    assert widget.vmax.number.value == f"{hi:.7g}" and widget.vmax.exact_value == hi
    widget.vmax.auto.value = False  # sends the limit in use, not the text's rounding of it
    widget.vmin.auto.value = False
    assert (hm.vmin, hm.vmax) == (lo, hi) and hi != float(widget.vmax.number.value)
    qtbot.keyClick(widget.vmax.number.native, Qt.Key.Key_Return)  # confirming untouched text
    assert hm.vmax == hi
    _type(qtbot, widget.vmin, "2.5e-6")
    assert hm.vmin == 2.5e-6 and hm.limits == (2.5e-6, hi)
    # far outside any spin-box range, set from the console while the widget is open
    hm.vmax = 2e12
    assert widget.vmax.number.value == "2e+12" and widget.legend.high.value == "2e+12"
    hm.width = 5e9
    assert widget.frame_width.number.value == "5e+09"
    assert widget.frame_height.exact_value == pytest.approx(5e9 * 20 / 30)
    _type(qtbot, widget.vmax, "-1.5e300")  # below vmin: refused, not clamped
    assert hm.vmax == 2e12 and len(errors) == 1
    hm.set_heatmap(mask * np.float32(1e30))  # a mask far above any spin box's range
    hm.vmax = None
    hm.vmin = None
    assert widget.vmax.exact_value == hm.data_range[1] > 4.9e24
    assert widget.vmax.number.value == f"{hm.data_range[1]:.7g}"
    assert errors[1:] == []


def test_a_failing_view_never_breaks_a_change_made_from_code(
    make_napari_viewer, qtbot, errors, monkeypatch
):
    _viewer, hm, widget = _docked(make_napari_viewer, qtbot)
    limits_seen: list[object] = []
    hm.events.limits.connect(lambda e: limits_seen.append(e.value))

    def broken(*args, **kwargs):
        raise RuntimeError("legend is broken")

    monkeypatch.setattr(Legend, "show_state", broken)
    hm.vmax = 100  # would raise here if the widget's handler let the error out
    assert hm.limits == (0.0, 100.0) and limits_seen == [(0.0, 100.0)]
    assert widget.vmax.number.value == "100"  # shown before the legend failed
    assert errors and "legend is broken" in errors[0]


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


def test_legend_shows_the_transparent_low_step_as_a_checkerboard(make_napari_viewer, qtbot):
    _viewer, hm, widget = _docked(make_napari_viewer, qtbot)
    bar, under = widget.legend.bar, widget.legend.under
    jet, hot = colormap_lut("jet"), colormap_lut("hot")
    checker = (204, 204, 204)  # light square of the checkerboard at the top-left
    assert hm.transparent_low
    # 510 columns over t in [0, 1]: columns 0 and 1 have t < 1/255, so they are transparent
    assert _near(_rgb_at(bar, 0), checker) and _near(_rgb_at(bar, 1), checker)
    assert _near(_rgb_at(bar, 2), jet[1]) and _near(_rgb_at(bar, 509), jet[255])
    assert _near(_rgb_at(under, 0), checker)  # values below vmin are transparent too
    hm.transparent_low = False
    assert _near(_rgb_at(bar, 0), jet[0]) and _near(_rgb_at(bar, 1), jet[1])
    assert _near(_rgb_at(under, 0), jet[0])
    widget.transparent_low.value = True
    assert _near(_rgb_at(bar, 0), checker)
    hm.colormap = "hot"
    assert _near(_rgb_at(bar, 0), checker) and _near(_rgb_at(bar, 509), hot[255])
    hm.vmin = hm.vmax = 50.0  # constant: the middle colour, never transparent
    for column in (_rgb_at(bar, 0), _rgb_at(under, 0), _rgb_at(bar, 509)):
        assert _near(column, hot[128])


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
    assert not _shown(widget.set_mask_button) and not _shown(widget.set_background_button)
    assert [c for c in widget.mask_choice.choices] == [bg_layer, mask_layer]
    widget.background_choice.value = bg_layer
    widget.mask_choice.value = mask_layer
    widget.create_button.clicked.emit()
    hm = widget.heatmap
    assert hm is not None and Heatmap.instances(viewer) == [hm]
    np.testing.assert_array_equal(hm.heatmap_mask, mask)
    assert hm.frame == (20.0, 30.0) and hm.origin == (-0.5, -0.5)  # the mask layer's extent
    assert mask_layer.visible is False and hm.mask_layer is mask_layer
    assert _shown(widget.controls) and widget.legend.high.value == "7"
    # every image layer is offered, the heatmap's own too, and the ones in use are shown
    qtbot.waitUntil(lambda: hm.heatmap_layer in widget.mask_choice.choices, timeout=2000)
    assert hm.background_layer in widget.background_choice.choices
    assert widget.mask_choice.value is mask_layer
    assert widget.background_choice.value is hm.background_layer


def test_pickers_give_the_bound_heatmap_a_new_mask_and_background(
    make_napari_viewer, qtbot, errors
):
    viewer, hm, widget = _docked(make_napari_viewer, qtbot)
    hm.width = hm.height = None  # the frame follows the background (else the mask)
    scores = np.zeros((10, 15), np.float32)
    scores[2:4, 3:6] = 9.0
    photo = np.full((50, 75, 3), 30, np.uint8)
    scores_layer = viewer.add_image(scores, name="scores")
    photo_layer = viewer.add_image(photo, name="photo", rgb=True)
    assert _shown(widget.set_mask_button) and _shown(widget.set_background_button)
    assert widget.mask_choice.choices == (  # every image layer, the heatmap's own included
        hm.background_layer,
        hm.heatmap_layer,
        scores_layer,
        photo_layer,
    )
    assert widget.mask_choice.value is hm.heatmap_layer  # in use: the heatmap's own mask
    widget.mask_choice.value = scores_layer
    widget.set_mask_button.native.click()
    np.testing.assert_array_equal(hm.heatmap_mask, scores)
    assert scores_layer.visible is False
    assert widget.legend.data.value == "data: 0 … 9" and widget.legend.high.value == "255"
    widget.background_choice.value = photo_layer
    widget.set_background_button.native.click()
    np.testing.assert_array_equal(hm.background_image, photo)
    assert hm.frame == (50.0, 75.0) and widget.frame_width.exact_value == 75.0
    widget.background_choice.value = None  # none: the heatmap loses its background
    widget.set_background_button.native.click()
    assert hm.background_image is None and hm.background_layer is None
    assert hm.frame == (10.0, 15.0) and widget.frame_height.exact_value == 10.0
    # a refused input is reported and changes nothing
    cube = viewer.add_image(np.zeros((2, 3, 4, 5), np.float32), name="cube")
    widget.mask_choice.value = cube
    widget.set_mask_button.native.click()
    assert len(errors) == 1 and "heatmap_mask" in errors[0]
    np.testing.assert_array_equal(hm.heatmap_mask, scores)
    assert cube.visible is True and widget.heatmap is hm


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
    assert hm._interaction.on_mouse_drag in viewer.mouse_drag_callbacks
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


def test_dock_refuses_a_width_napari_cannot_place_with_a_message(make_napari_viewer, qtbot, errors):
    _viewer, hm, widget = _docked(make_napari_viewer, qtbot)
    before = (hm.width, hm.frame, tuple(hm.heatmap_layer.scale))
    _type(qtbot, widget.frame_width, "5e-324")
    assert any("width and height must give each pixel a size" in e for e in errors)
    assert (hm.width, hm.frame, tuple(hm.heatmap_layer.scale)) == before
    assert widget.frame_width.exact_value == before[0]  # the field shows the heatmap again
    hm.set_heatmap(np.ones((4, 6)))  # and the heatmap still works


def test_long_blurs_run_off_the_gui_thread_then_apply(
    make_napari_viewer, qtbot, errors, monkeypatch
):
    import threading

    import cv2

    from napari_heatmap import _field

    _viewer, hm, widget = _docked(make_napari_viewer, qtbot)
    monkeypatch.setattr("napari_heatmap._qt.widget.BACKGROUND_PIXELS", 0)  # every mask is long
    threads = []
    real = _field.Field.reblurred

    def recording(self, *args):
        threads.append(threading.current_thread())
        return real(self, *args)

    monkeypatch.setattr(_field.Field, "reblurred", recording)
    widget.blur.kx.value = 15
    qtbot.waitUntil(lambda: hm.blur_ksize == (15, 7), timeout=5000)
    assert len(threads) == 1 and threads[0] is not threading.main_thread()  # done once, off
    expected = cv2.GaussianBlur(hm.heatmap_mask.astype(np.float32), (15, 7), 0)
    np.testing.assert_allclose(hm.heatmap_layer.data, expected, atol=1e-3)
    # a blur past the work ceiling is refused with a message, nothing changes
    monkeypatch.setattr("napari_heatmap._pipeline.BLUR_WORK_LIMIT", 1.0)
    widget.blur.kx.value = 21
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert "blur_ksize" in errors[0] and hm.blur_ksize == (15, 7)
    qtbot.waitUntil(lambda: widget.blur.kx.value == 15, timeout=2000)


def test_a_long_new_mask_is_prepared_off_the_gui_thread(make_napari_viewer, qtbot, monkeypatch):
    import threading

    from napari_heatmap import _heatmap

    viewer, hm, widget = _docked(make_napari_viewer, qtbot)
    monkeypatch.setattr("napari_heatmap._qt.widget.BACKGROUND_PIXELS", 0)
    threads = []
    real = _heatmap.prepare

    def recording(*args):
        threads.append(threading.current_thread())
        return real(*args)

    monkeypatch.setattr(_heatmap, "prepare", recording)
    scores = np.zeros((30, 40), np.float32)
    scores[10:20, 10:20] = 5.0
    layer = viewer.add_image(scores, name="scores")
    qtbot.waitUntil(lambda: layer in widget.mask_choice.choices, timeout=2000)
    widget.mask_choice.value = layer
    widget.set_mask_button.native.click()
    qtbot.waitUntil(lambda: hm.heatmap_mask is scores, timeout=5000)
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
    assert layer.visible is False and hm.mask_layer is layer


def test_dock_percentiles_and_statistics_both_ways(make_napari_viewer, qtbot, errors):
    _viewer, hm, widget = _docked(make_napari_viewer, qtbot)
    hm.vmin = hm.vmax = None
    widget.percentiles.lo.value = 5.0  # the user types a percentile
    finite = hm.heatmap_mask[np.isfinite(hm.heatmap_mask)]
    assert hm.percentiles == (5.0, 100.0)
    assert hm.limits == (float(np.percentile(finite, 5)), float(finite.max()))
    assert widget.vmin.exact_value == hm.limits[0]  # the auto field shows the limit used
    hm.percentiles = (1, 99)  # from code: the dock follows
    assert widget.percentiles.pair == (1.0, 99.0)
    widget.percentiles.lo.value = 99.5  # lo > hi: refused, named, shown back
    assert hm.percentiles == (1.0, 99.0) and any("percentiles" in e for e in errors)
    assert widget.percentiles.pair == (1.0, 99.0)
    stats = hm.stats
    assert widget.statistics.value.startswith(f"mean {stats['mean']:.4g}, std {stats['std']:.4g}")
    assert "p99" in widget.statistics.value and "count: 240000" in widget.statistics.tooltip


def test_statistics_of_a_large_mask_are_measured_off_the_gui_thread(
    make_napari_viewer, qtbot, monkeypatch
):
    import threading

    from napari_heatmap import _pipeline

    _viewer, hm, widget = _docked(make_napari_viewer, qtbot)
    monkeypatch.setattr("napari_heatmap._qt.widget.BACKGROUND_PIXELS", 0)
    threads = []
    real = _pipeline.sorted_finite
    monkeypatch.setattr(
        _pipeline, "sorted_finite", lambda g: threads.append(threading.current_thread()) or real(g)
    )
    hm.set_heatmap(np.arange(600.0).reshape(20, 30))
    qtbot.waitUntil(lambda: widget.statistics.value.startswith("mean 299.5"), timeout=5000)
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
