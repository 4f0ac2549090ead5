"""One state with napari (behaviour §10), on a Qt-free ViewerModel.

Each test changes the heatmap layer the way napari's layer controls do — by setting the
layer attribute the control sets — and checks the API, the events and the colours.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from napari.components import ViewerModel
from napari.utils.colormaps import AVAILABLE_COLORMAPS, ensure_colormap

from _colours import gpu_rgba, visible_rgba
from napari_heatmap import Heatmap, mask_to_rgba
from napari_heatmap._layers import layer_contrast_limits, limits_from_layer

RNG = np.random.default_rng(7)


@pytest.fixture
def mask():
    return RNG.uniform(-3.0, 17.0, (24, 32)).astype(np.float32)


@pytest.fixture
def hm(viewer, mask):
    return Heatmap(heatmap_mask=mask, transparent_low=True, viewer=viewer)


def record(hm, *names):
    seen = []
    for name in names:
        getattr(hm.events, name).connect(lambda e, n=name: seen.append((n, e.value)))
    return seen


# --------------------------------------------------------------------------- limits


@pytest.mark.parametrize(
    "limits", [(0.1, 0.7), (-3.0, 17.0), (1e-7, 3e-7), (1e9, 1e9 + 255.0), (-2.5, -2.5)]
)
def test_widened_limits_invert_exactly(limits):
    assert limits_from_layer(layer_contrast_limits(limits)) == limits


def test_inverse_is_exact_for_limits_never_given_out():
    for _ in range(200):
        lo, hi = sorted(RNG.uniform(-1e4, 1e4, 2))
        clim = (float(lo), float(hi))
        vmin, vmax = limits_from_layer(clim)
        assert layer_contrast_limits((vmin, vmax)) == clim


def test_contrast_limits_slider_sets_vmin_vmax_and_announces_them(hm, mask):
    seen = record(hm, "vmin", "vmax", "limits")
    layer = hm.heatmap_layer
    clim = (0.5, 12.0)  # what napari's contrast-limits slider sets
    layer.contrast_limits = clim
    vmin, vmax = hm.vmin, hm.vmax
    assert layer_contrast_limits((vmin, vmax)) == clim
    assert hm.limits == (vmin, vmax)
    assert tuple(layer.contrast_limits) == clim  # the slider is not fought
    assert [n for n, _ in seen] == ["vmin", "limits", "vmax", "limits"] or {n for n, _ in seen} == {
        "vmin",
        "vmax",
        "limits",
    }
    # the screen and mask_to_rgba agree with the folded limits
    expected = mask_to_rgba(mask, vmin=vmin, vmax=vmax, transparent_low=True)
    np.testing.assert_array_equal(gpu_rgba(layer), visible_rgba(expected))


def test_api_to_layer_to_api_round_trip_returns_the_same_numbers(hm):
    hm.vmin, hm.vmax = 0.1, 0.7
    layer = hm.heatmap_layer
    clim = tuple(layer.contrast_limits)
    layer.contrast_limits = (0.0, 1.0)
    layer.contrast_limits = clim  # back to what the API gave: exactly the API's numbers
    assert (hm.vmin, hm.vmax) == (0.1, 0.7)


def test_napari_auto_contrast_returns_to_inferred_limits(hm, mask):
    hm.vmin, hm.vmax = 2.0, 5.0
    hm.heatmap_layer.reset_contrast_limits()  # napari's "once" auto-contrast button
    assert hm.vmin is None and hm.vmax is None
    assert hm.limits == (float(mask.min()), float(mask.max()))
    assert tuple(hm.heatmap_layer.contrast_limits) == layer_contrast_limits(hm.limits)


# --------------------------------------------------------------------------- other controls


def test_opacity_slider_becomes_percent(hm):
    seen = record(hm, "opacity")
    hm.heatmap_layer.opacity = 0.4
    assert hm.opacity == 40.0 and seen == [("opacity", 40.0)]
    hm.opacity = 33.3
    assert hm.heatmap_layer.opacity == pytest.approx(0.333) and hm.opacity == 33.3


def test_blending_and_visibility_are_heatmap_state(hm):
    seen = record(hm, "blending", "visible")
    hm.heatmap_layer.blending = "additive"
    hm.heatmap_layer.visible = False
    assert hm.blending == "additive" and hm.visible is False
    assert seen == [("blending", "additive"), ("visible", False)]
    hm.blending, hm.visible = "opaque", True
    assert str(hm.heatmap_layer.blending) == "opaque" and hm.heatmap_layer.visible
    with pytest.raises(ValueError, match="blending"):
        hm.blending = "multiply-ish"
    assert hm.blending == "opaque"


def test_gamma_is_refused_visibly(hm, notifications):
    shown = notifications
    hm.heatmap_layer.gamma = 0.5
    assert hm.heatmap_layer.gamma == 1
    assert any("gamma" in m for m in shown)
    hm.heatmap_layer.interpolation2d = "cubic"
    assert str(hm.heatmap_layer.interpolation2d) == "nearest"
    assert any("interpolation stays 'nearest'" in m for m in shown)


def test_napari_colormap_box_keeps_transparent_low(hm, mask):
    hm.vmin = 5.0
    seen = record(hm, "colormap")
    hm.heatmap_layer.colormap = "gray"  # what napari's colormap box sets
    assert hm.colormap == "gray" and hm.transparent_low is True
    assert seen == [("colormap", "gray")]
    assert hm.heatmap_layer.colormap.name.endswith("-transparent-low")
    expected = mask_to_rgba(mask, colormap="gray", transparent_low=True, vmin=5.0)
    np.testing.assert_array_equal(gpu_rgba(hm.heatmap_layer), visible_rgba(expected))
    assert (expected[..., 3] == 0).any()  # the low values are still hidden


def test_picking_one_of_our_binned_colormaps_in_the_box_decodes_it(hm):
    hm.colormap = "hot"
    hm.transparent_low = False
    ours = [name for name in AVAILABLE_COLORMAPS if name == "opencv-viridis-transparent-low"]
    if not ours:  # make napari know it, as showing it once does
        hm.colormap, hm.transparent_low = "viridis", True
        hm.colormap, hm.transparent_low = "hot", False
    hm.heatmap_layer.colormap = "opencv-viridis-transparent-low"
    assert hm.colormap == cv2.COLORMAP_VIRIDIS and hm.transparent_low is True


# --------------------------------------------------------------------------- colormaps


@pytest.mark.parametrize("name", ["gray", "PiYG", "napari:viridis", "magenta"])
def test_any_napari_colormap_follows_the_colour_rule(viewer, mask, name):
    hm = Heatmap(heatmap_mask=mask, colormap=name, blur_ksize=None, viewer=viewer)
    table = np.round(
        ensure_colormap(name.removeprefix("napari:")).map(np.arange(256) / 255.0) * 255
    ).astype(np.uint8)
    lo, hi = hm.limits
    idx = np.floor((mask.astype(np.float64) - lo) / (hi - lo) * 255 + 0.5).astype(int)
    rgba = mask_to_rgba(mask, colormap=name, blur_ksize=None)
    np.testing.assert_array_equal(rgba, table[idx])
    np.testing.assert_array_equal(gpu_rgba(hm.heatmap_layer), visible_rgba(rgba))
    assert hm.colormap == name.removeprefix("napari:")


def test_opencv_names_come_first(hm):
    hm.colormap = "viridis"
    assert hm.colormap == cv2.COLORMAP_VIRIDIS
    hm.colormap = "napari:viridis"
    assert hm.colormap == "viridis"
    hm.colormap = ensure_colormap("inferno")
    assert hm.colormap == "inferno"


def test_unknown_colormap_is_refused_and_changes_nothing(hm):
    before = hm.heatmap_layer.colormap
    with pytest.raises(ValueError, match="colormap"):
        hm.colormap = "no-such-colormap"
    with pytest.raises(ValueError, match="colormap"):
        mask_to_rgba(np.zeros((2, 2)), colormap="no-such-colormap")
    assert hm.colormap == cv2.COLORMAP_JET and hm.heatmap_layer.colormap is before


# --------------------------------------------------------------------------- clicks, saving


def test_new_mask_or_removed_layer_clears_the_click(viewer, mask):
    hm = Heatmap(np.zeros((24, 32, 3), np.uint8), mask, viewer=viewer)
    seen = record(hm, "click")
    hm.click_at((3, 4))
    assert hm.click_value is not None and hm.marker_layer is not None
    hm.set_heatmap(mask * 2)
    assert (hm.click_y, hm.click_x, hm.click_value) == (None, None, None)
    assert hm.marker_layer is None and seen[-1] == ("click", None)
    hm.click_at((3, 4))
    viewer.layers.remove(hm.heatmap_layer)  # the background stays: the heatmap lives on
    assert hm.click_value is None and hm.marker_layer is None
    assert [layer.name for layer in viewer.layers] == ["Heatmap background"]


def test_layer_data_are_display_values_in_data_units(viewer):
    far = 1_600_000_000 + np.arange(256, dtype=np.float64).reshape(16, 16)
    hm = Heatmap(heatmap_mask=far, blur_ksize=None, viewer=viewer)
    np.testing.assert_array_equal(hm.heatmap_layer.data, far)  # no hidden offset
    blurred = Heatmap(heatmap_mask=far, blur_ksize=(3, 3), viewer=viewer).heatmap_layer.data
    inner = cv2.GaussianBlur(far - far.min(), (3, 3), 0) + far.min()
    np.testing.assert_allclose(blurred, inner, rtol=0, atol=1e-3)
    assert hm.heatmap_layer.data.dtype == np.float64


def test_writer_saves_the_picture_mask_to_rgba_renders(viewer, mask, tmp_path, plugin):
    hm = Heatmap(heatmap_mask=mask, colormap="turbo", transparent_low=True, vmin=6.0, viewer=viewer)
    viewer.layers.selection = {hm.heatmap_layer}
    (path,) = viewer.layers.save(str(tmp_path / "hm.png"), selected=True, plugin="napari-heatmap")
    saved = cv2.cvtColor(cv2.imread(path, cv2.IMREAD_UNCHANGED), cv2.COLOR_BGRA2RGBA)
    expected = mask_to_rgba(mask, colormap="turbo", transparent_low=True, vmin=6.0)
    np.testing.assert_array_equal(saved, expected)
    assert (saved[..., 3] == 0).any() and (saved[..., 3] == 255).any()


def test_writer_refuses_a_layer_that_is_not_a_heatmap(viewer, tmp_path):
    from napari_heatmap import write_heatmap_png

    with pytest.raises(ValueError, match="not a napari-heatmap layer"):
        write_heatmap_png(str(tmp_path / "x.png"), np.zeros((2, 2)), {"name": "plain"})
    assert not (tmp_path / "x.png").exists()


# --------------------------------------------------------------------------- making heatmaps


def test_from_layers_covers_the_mask_layers_world_extent(viewer):
    scores = np.zeros((10, 20), np.float32)
    scores[7, 13] = 5.0
    layer = viewer.add_image(scores, scale=(2.0, 3.0), translate=(100.0, -40.0))
    photo = viewer.add_image(np.full((5, 5, 3), 90, np.uint8), rgb=True)
    hm = Heatmap.from_layers(layer, photo, viewer=viewer)
    assert hm.frame == (20.0, 60.0) and hm.origin == (99.0, -41.5)
    assert tuple(hm.heatmap_layer.scale) == (2.0, 3.0)
    assert tuple(hm.heatmap_layer.translate) == (100.0, -40.0)
    np.testing.assert_allclose(edges(hm.background_layer), edges(layer))  # photo over it
    assert hm.click_at(layer.data_to_world((7, 13))) == (7, 13, 5.0)
    assert layer.visible is False and hm.mask_layer is layer


def edges(layer):
    """World positions of a 2-D layer's outer edges: (top, left), (bottom, right)."""
    scale, translate = np.asarray(layer.scale), np.asarray(layer.translate)
    shape = np.asarray(layer.data.shape[:2])
    return translate - scale / 2, translate + scale * (shape - 0.5)


def test_closing_the_viewer_frees_its_heatmaps(mask):
    viewer = ViewerModel()
    hm = Heatmap(heatmap_mask=mask, viewer=viewer)
    assert Heatmap.instances(viewer) == [hm]
    viewer.layers.clear()  # what closing a napari window does
    assert Heatmap.instances(viewer) == [] and hm.viewer is None


def test_status_bar_shows_the_raw_value_once_not_napaaris_blurred_one(viewer):
    mask = np.zeros((9, 9), np.float32)
    mask[4, 4] = 90.0  # blurred, napari's own value at (4, 4) would be far less
    hm = Heatmap(heatmap_mask=mask, blur_ksize=(5, 5), viewer=viewer)
    blurred = float(hm.heatmap_layer.data[4, 4])
    assert viewer.layers.selection.active is hm.heatmap_layer
    viewer.mouse_over_canvas = True
    viewer.cursor.position = (4.0, 4.0)
    viewer.update_status_from_cursor()  # what napari's status thread does
    text = viewer.status["coordinates"]
    assert text.count("mask[4, 4] = 90") == 1
    assert "[4, 4]:" not in text and f"{blurred:.3f}"[:5] not in text  # napari's value is gone
    # another layer selected: napari speaks of it, the heatmap adds its raw value once
    other = viewer.add_image(np.ones((9, 9)), name="other")
    viewer.layers.selection.active = other
    viewer.update_status_from_cursor()
    text = viewer.status["coordinates"]
    assert text.count("mask[4, 4] = 90") == 1 and text.startswith("[4, 4]: 1")


def test_napari_image_writer_saves_data_units(viewer, tmp_path):
    import tifffile
    from npe2 import PluginManager

    PluginManager.instance().discover()  # napari's own writers
    far = 1_600_000_000 + np.arange(64, dtype=np.float64).reshape(8, 8)
    hm = Heatmap(heatmap_mask=far, blur_ksize=None, viewer=viewer)
    viewer.layers.selection = {hm.heatmap_layer}
    (path,) = viewer.layers.save(str(tmp_path / "values.tif"), selected=True, plugin="napari")
    np.testing.assert_array_equal(tifffile.imread(path), far)


def test_sample_layer_is_live_in_a_watched_viewer_and_its_metadata_slim(viewer):
    from napari_heatmap import _registry
    from napari_heatmap._sample import make_demo_sample

    _registry.watch(viewer)
    for data, kwargs, kind in make_demo_sample():
        viewer._add_layer_from_data(data, kwargs, kind)
    (hm,) = _registry.heatmaps(viewer)  # made live by the watcher, not by asking
    assert hm.heatmap_layer is viewer.layers[1] and hm.background_layer is viewer.layers[0]
    meta = hm.heatmap_layer.metadata["napari_heatmap"]
    assert meta == {"widget_id": hm.widget_id, "role": "heatmap"}  # no mask copy kept there
    assert hm.click_at((133, 200))[2] == pytest.approx(float(hm.heatmap_mask[133, 200]))


def test_a_heatmap_layer_that_cannot_be_made_live_is_said_once(viewer, notifications):
    shown = notifications
    from napari_heatmap._layers import LAYER_KEY

    bad = {"role": "heatmap", "mask": np.ones((3, 3)), "settings": {"colormap": "no-such"}}
    layer = viewer.add_image(np.ones((3, 3)), metadata={LAYER_KEY: bad})
    for _ in range(3):
        assert Heatmap.instances(viewer) == []
    assert sum("stays a plain image" in m for m in shown) == 1
    assert layer in viewer.layers
