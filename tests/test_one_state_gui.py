"""One state with napari, as a user meets it: napari's own layer controls and menus in a real
window under Xvfb, the dock beside them, and the colours on screen (behaviour §10)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from npe2 import PluginManifest

from _canvas import click_canvas, screen_pixel
from napari_heatmap import Heatmap, mask_to_rgba
from napari_heatmap._layers import layer_contrast_limits
from napari_heatmap._sample import demo_data
from napari_heatmap._session import open_demo

pytestmark = pytest.mark.gui

BLOB = (133.0, 200.0)  # world point on the demo's first blob
LOW = (10.0, 590.0)  # world point where the demo's mask is ~0 (transparent low)


def widget_name():
    """The dock widget's name in the installed manifest (what the Plugins menu lists)."""
    return PluginManifest.from_distribution("napari-heatmap").contributions.widgets[0].display_name


@pytest.fixture
def session(make_napari_viewer, qtbot):
    """The demo in a shown window with its dock, opened the way the launcher opens them."""
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(1100, 800)
    hm = open_demo(viewer)
    _, widget = viewer.window.add_plugin_dock_widget("napari-heatmap", widget_name())
    qtbot.wait(100)  # let the window lay the dock out before fitting the view
    viewer.reset_view()
    qtbot.wait(50)
    return viewer, hm, widget


def controls_of(viewer, layer):
    """napari's own layer-controls panel of ``layer``."""
    return viewer.window._qt_viewer.controls.widgets[layer]


def test_napari_controls_drive_api_dock_legend_and_screen(session, qtbot):
    viewer, hm, widget = session
    controls = controls_of(viewer, hm.heatmap_layer)
    # opacity slider: 0.4 in napari is 40 % everywhere
    controls._opacity_blending_controls.opacity_slider.setValue(0.4)
    assert hm.opacity == 40.0 and widget.opacity.value == 40
    controls._opacity_blending_controls.opacity_slider.setValue(1.0)
    # colormap box: napari's gray, and transparent low stays
    box = controls._colormap_control.colormap_combobox
    box.setCurrentIndex(box.findData("gray"))
    assert hm.colormap == "gray" and hm.transparent_low is True
    assert widget.colormap.value == "napari:gray"
    assert hm.heatmap_layer.colormap.name.endswith("-transparent-low")
    # contrast-limits slider: the widened limits become vmin / vmax
    clim = (30.0, 200.0)
    controls._contrast_limits_control.contrast_limits_slider.setValue(clim)
    assert layer_contrast_limits((hm.vmin, hm.vmax)) == clim
    assert widget.vmin.exact_value == hm.vmin and widget.legend.high.value == f"{hm.vmax:.4g}"
    # the screen shows what mask_to_rgba renders with the folded state
    _, mask = demo_data()
    rgba = mask_to_rgba(
        mask, colormap="gray", transparent_low=True, vmin=hm.vmin, vmax=hm.vmax, blur_ksize=(7, 7)
    )
    qtbot.wait(50)
    y, x = int(BLOB[0]), int(BLOB[1])
    assert rgba[y, x, 3] == 255
    np.testing.assert_allclose(screen_pixel(viewer, BLOB), rgba[y, x, :3], atol=1)
    background = hm.background_image[int(LOW[0]), int(LOW[1])]
    assert rgba[int(LOW[0]), int(LOW[1]), 3] == 0  # transparent low survived the new colormap
    np.testing.assert_allclose(screen_pixel(viewer, LOW), background, atol=1)


def test_gamma_and_interpolation_are_put_back_and_auto_contrast_means_auto(session, qtbot):
    viewer, hm, widget = session
    controls = controls_of(viewer, hm.heatmap_layer)
    controls._gamma_slider_control.gamma_slider.setValue(0.5)
    assert hm.heatmap_layer.gamma == 1
    assert controls._gamma_slider_control.gamma_slider.value() == 1
    # napari's interpolation box: smoothing the texture would paint colours off the table
    combo = controls._interpolation_control.interpolation_combobox
    combo.setCurrentText("linear")
    assert str(hm.heatmap_layer.interpolation2d) == "nearest"
    assert combo.currentText() == "nearest"
    controls._contrast_limits_control.auto_scale_buttons.once_btn.click()
    assert hm.vmin is None and hm.vmax is None
    assert widget.vmin.auto.value and widget.vmax.auto.value
    assert hm.limits == hm.data_range


def test_plugins_menu_shows_the_dock_that_is_there(session, qtbot):
    viewer, _hm, widget = session
    window = viewer.window
    (action,) = [
        a
        for a in window.plugins_menu.actions()
        if "heatmap" in a.text().lower() and "demo" not in a.text().lower()
    ]
    action.trigger()  # napari toggles the dock it has: it does not build a second one
    action.trigger()
    docks = [name for name in window._wrapped_dock_widgets if "heatmap" in name.lower()]
    assert len(docks) == 1
    assert window._wrapped_dock_widgets[docks[0]].inner_widget() is widget
    assert window._wrapped_dock_widgets[docks[0]].isVisible()


def test_dock_follows_the_selected_heatmap_and_names_it(session, qtbot):
    viewer, first, widget = session
    second = Heatmap(heatmap_mask=np.full((8, 8), 3.0), viewer=viewer)
    second.heatmap_layer.name = "scores"
    viewer.layers.selection.active = second.heatmap_layer
    qtbot.waitUntil(lambda: widget.heatmap is second, timeout=2000)
    assert widget.status.value == "Heatmap: scores"
    viewer.layers.selection.active = first.heatmap_layer
    qtbot.waitUntil(lambda: widget.heatmap is first, timeout=2000)
    assert widget.status.value == f"Heatmap: {first.heatmap_layer.name}"
    assert "heatmap-" not in widget.status.value  # never an internal id


def test_a_new_mask_clears_the_click_on_screen_and_in_the_dock(session, qtbot):
    viewer, hm, widget = session
    click_canvas(viewer, BLOB)
    assert hm.click_value is not None and "value=" in widget.click_readout.value
    hm.set_heatmap(demo_data()[1] * 0.5)
    assert hm.click_value is None and hm.marker_layer is None
    assert widget.click_readout.value == "click the heatmap to read a value"


def test_sample_layers_are_live_at_once(make_napari_viewer, qtbot):
    from napari_heatmap import _registry

    viewer = make_napari_viewer(show=True)
    viewer.open_sample("napari-heatmap", "demo")
    (hm,) = _registry.heatmaps(viewer)  # live from the moment napari added the layers
    assert hm.heatmap_layer is viewer.layers[-1]
    viewer.reset_view()
    qtbot.wait(50)
    click_canvas(viewer, BLOB)
    assert hm.click_y is not None and abs(hm.click_y - BLOB[0]) <= 2
    assert hm.marker_layer in viewer.layers


def test_reader_density_is_live_at_once(make_napari_viewer, qtbot):
    from napari_heatmap import _registry

    root = Path(__file__).parent / "data" / "supervisely" / "bitmaps-platform-export"
    viewer = make_napari_viewer(show=True)
    viewer.open(str(root), plugin="napari-heatmap")
    (hm,) = _registry.heatmaps(viewer)
    assert hm.heatmap_layer.name.startswith("density (") and hm.blur_ksize is None
    viewer.layers.selection.active = hm.heatmap_layer
    viewer.reset_view()
    qtbot.wait(50)
    counts = np.asarray(hm.heatmap_mask)
    y, x, value = inside_a_plateau(counts)  # a click a screen pixel off still reads it
    click_canvas(viewer, tuple(hm.heatmap_layer.data_to_world((y, x))))
    assert hm.click_value == value > 0


def inside_a_plateau(values, half=6):
    """A pixel (y, x, value), value > 0, whose (2 half + 1)² neighbourhood all holds its value."""
    import cv2

    kernel = np.ones((2 * half + 1, 2 * half + 1), np.uint8)
    for value in sorted(set(np.unique(values)) - {0}, reverse=True):
        core = cv2.erode((values == value).astype(np.uint8), kernel)
        if core.any():
            y, x = np.argwhere(core)[len(np.argwhere(core)) // 2]
            return int(y), int(x), float(value)
    raise AssertionError("no plateau in the density")
