"""Model tests of the Heatmap controller on a Qt-free ViewerModel (behaviour §1-§5, §8)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from napari.utils._proxies import ReadOnlyWrapper
from napari.utils.interactions import (
    mouse_move_callbacks,
    mouse_press_callbacks,
    mouse_release_callbacks,
)

from napari_heatmap import Heatmap, colormap_lut, mask_to_rgba
from napari_heatmap._sample import DEMO_SETTINGS, demo_data
from tools.sly_json import ann, obj, pts

JET = colormap_lut("jet")


def _state(hm):
    """Everything a failed setter must leave as it was: settings, layers, data."""
    layer = hm.heatmap_layer
    return (
        hm.vmin,
        hm.vmax,
        hm.colormap,
        hm.blur_ksize,
        hm.transparent_low,
        hm.width,
        hm.height,
        hm.heatmap_mask,
        layer.data,
        layer.colormap,
        tuple(layer.contrast_limits),
        hm.background_layer.data,
        tuple(layer.scale),
    )


@pytest.fixture
def demo(viewer):
    bg, mask = demo_data()
    hm = Heatmap(bg, mask, viewer=viewer, **DEMO_SETTINGS)
    hm.opacity = 70
    return hm


class FakeMouse:
    """The few attributes napari's mouse callbacks read, as a ReadOnlyWrapper would give."""

    def __init__(self, type_, position, pos, button=1):
        self.type, self.position, self.pos, self.button = type_, position, pos, button
        self.modifiers = ()
        self.handled = False
        self.is_dragging = type_ == "mouse_move"
        self.dims_displayed = (0, 1)
        self.view_direction = None


def fake(type_, world, pos, button=1):
    return ReadOnlyWrapper(FakeMouse(type_, world, pos, button), exceptions=("handled",))


def press_release(viewer, world, moves=()):
    """Press at ``world``, move through ``moves`` (screen offsets), release."""
    pos = np.array([100.0, 100.0])
    mouse_press_callbacks(viewer, fake("mouse_press", world, pos))
    for dx in moves:
        mouse_move_callbacks(viewer, fake("mouse_move", world, pos + dx))
    end = pos + (moves[-1] if moves else 0)
    mouse_release_callbacks(viewer, fake("mouse_release", world, end))


def test_signature_keeps_original_names_order_and_defaults():
    import inspect

    params = list(inspect.signature(Heatmap).parameters.values())
    names = [p.name for p in params[:11]]
    assert names == [
        "background_image",
        "heatmap_mask",
        "vmin",
        "vmax",
        "transparent_low",
        "colormap",
        "width",
        "height",
        "blur_ksize",
        "blur_function",
        "widget_id",
    ]
    defaults = [p.default for p in params[:11]]
    assert defaults == [
        None,
        None,
        None,
        None,
        False,
        cv2.COLORMAP_JET,
        None,
        None,
        (5, 5),
        None,
        None,
    ]


def layer_rgba(layer, values):
    """The colour napari's colormap gives display values, through the layer's limits."""
    c0, c1 = layer.contrast_limits
    t = np.clip((np.asarray(values, np.float64) - c0) / (c1 - c0), 0, 1)
    return layer.colormap.map(t)


def test_demo_builds_layers_in_order_with_gpu_colour_settings(demo, viewer):
    assert [layer.name for layer in viewer.layers] == ["Heatmap background", "Heatmap"]
    layer = demo.heatmap_layer
    assert layer.opacity == pytest.approx(0.7)
    assert demo.limits == (0.0, 255.0)
    # value d gets lut[floor(255 t + 0.5)], t = d / 255, with the low bin transparent
    for d, idx in [(127.5, 128), (10.4, 10), (10.6, 11), (255, 255), (300, 255), (1.2, 1)]:
        np.testing.assert_allclose(layer_rgba(layer, [d])[0], [*(JET[idx] / 255), 1], atol=1e-6)
    assert layer_rgba(layer, [0.99])[0, 3] == 0  # t < 1/255: transparent
    assert layer_rgba(layer, [-5.0])[0, 3] == 0
    assert layer_rgba(layer, [np.nan])[0, 3] == 0
    # the colour bins are uniform in napari's t, 1/256 wide: exact on vispy's 1024-entry LUT
    np.testing.assert_allclose(np.diff(layer.colormap.controls[2:]), 1 / 256, atol=1e-7)


def test_gpu_colormap_matches_cpu_render_everywhere(demo):
    """napari's own CPU map of the layer equals mask_to_rgba pixel for pixel."""
    layer = demo.heatmap_layer
    lo, hi = layer.contrast_limits
    t = np.clip((layer.data.astype(np.float64) - lo) / (hi - lo), 0, 1)
    napari_rgba = np.rint(layer.colormap.map(t.ravel()) * 255).astype(np.uint8)
    ours = mask_to_rgba(
        demo.heatmap_mask, vmin=0, vmax=255, transparent_low=True, blur_ksize=(7, 7)
    ).reshape(-1, 4)
    visible = ours[:, 3] == 255
    assert (napari_rgba[:, 3] == ours[:, 3]).mean() > 0.9999
    assert (napari_rgba[visible, :3] == ours[visible, :3]).all(axis=1).mean() > 0.9999


def test_setters_change_layer_not_pixels(demo):
    data = demo.heatmap_layer.data
    demo.vmin, demo.vmax = 10, 200
    demo.colormap = "hot"
    demo.transparent_low = False
    demo.opacity = 30
    layer = demo.heatmap_layer
    assert layer.data is data  # no per-pixel work
    assert demo.limits == (10.0, 200.0)
    assert demo.colormap == cv2.COLORMAP_HOT
    np.testing.assert_allclose(layer_rgba(layer, [200.0])[0, :3], colormap_lut("hot")[255] / 255)
    np.testing.assert_allclose(layer_rgba(layer, [105.0])[0, :3], colormap_lut("hot")[128] / 255)
    assert layer_rgba(layer, [10.0])[0, 3] == 1
    assert layer.opacity == pytest.approx(0.3)
    demo.vmin = None
    assert demo.limits[0] == pytest.approx(float(np.min(demo.heatmap_mask)))


def test_blur_change_recomputes_display(demo):
    before = demo.heatmap_layer.data.copy()
    demo.blur_ksize = None
    np.testing.assert_array_equal(demo.heatmap_layer.data, demo.heatmap_mask)
    demo.blur_function = lambda img: img * 0 + 1
    assert (demo.heatmap_layer.data == 1).all()
    demo.blur_function = None
    demo.blur_ksize = (7, 7)
    np.testing.assert_allclose(demo.heatmap_layer.data, before)


def test_opacity_clamped(demo):
    demo.opacity = 150
    assert demo.opacity == 100 and demo.heatmap_layer.opacity == 1
    demo.opacity = -5
    assert demo.opacity == 0
    with pytest.raises(TypeError, match="opacity"):
        demo.opacity = "high"
    assert demo.opacity == 0


@pytest.mark.parametrize(
    ("attr", "value", "exc"),
    [
        ("vmin", 300, ValueError),
        ("vmax", -1, ValueError),
        ("vmin", "low", TypeError),
        ("vmax", math.nan, ValueError),
        ("colormap", "nope", ValueError),
        ("colormap", 99, ValueError),
        ("blur_ksize", (4, 4), ValueError),
        ("blur_function", 3, TypeError),
        ("transparent_low", "yes", TypeError),
        ("width", -3, ValueError),
        ("height", "tall", TypeError),
        ("heatmap_mask", np.zeros(5), ValueError),
        ("heatmap_mask", np.array([["a"]]), TypeError),
        ("background_image", 42, TypeError),
    ],
)
def test_failed_set_changes_nothing_and_names_parameter(demo, attr, value, exc):
    state = _state(demo)
    with pytest.raises(exc, match=attr):
        setattr(demo, attr, value)
    after = _state(demo)
    for a, b in zip(state, after, strict=True):
        assert a is b or a == b


def test_bad_constructor_adds_nothing(viewer):
    with pytest.raises(ValueError, match="vmin"):
        Heatmap(heatmap_mask=np.eye(3), vmin=5, vmax=1, viewer=viewer)
    with pytest.raises(FileNotFoundError, match="background_image"):
        Heatmap(background_image="/no/such/file.png", viewer=viewer)
    assert len(viewer.layers) == 0
    assert viewer.mouse_drag_callbacks == [
        cb for cb in viewer.mouse_drag_callbacks if not hasattr(cb, "__self__")
    ]


def test_failed_blur_function_keeps_previous(demo):
    data = demo.heatmap_layer.data
    with pytest.raises(ValueError, match="blur_function"):
        demo.blur_function = lambda img: img[:3]
    assert demo.blur_function is None and demo.heatmap_layer.data is data


def test_click_reports_raw_value_and_calls_every_callback(demo, viewer):
    calls = []
    demo.click(lambda y, x, v: calls.append(("a", y, x, v)))

    @demo.click
    def second(y, x, v):
        calls.append(("b", y, x, v))

    press_release(viewer, (133.2, 200.7))
    y, x = 133, 201  # pixel 201 spans world [200.5, 201.5)
    raw = float(demo.heatmap_mask[y, x])
    assert (demo.click_y, demo.click_x, demo.click_value) == (y, x, raw)
    assert calls == [("a", y, x, raw), ("b", y, x, raw)]
    assert all(type(c[1]) is int and type(c[3]) is float for c in calls)
    marker = demo.marker_layer
    assert marker is not None
    np.testing.assert_allclose(marker.data, [[133.2, 200.7]])
    assert str(marker.text.values) == f"{raw:.4g}"
    assert viewer.layers.selection.active is not marker


def test_drag_pans_and_reports_nothing(demo, viewer):
    calls = []
    demo.click(lambda *a: calls.append(a))
    press_release(viewer, (100, 100), moves=[np.array([2.0, 0]), np.array([30.0, 10.0])])
    assert calls == [] and demo.click_value is None
    press_release(viewer, (100, 100), moves=[np.array([1.0, 1.0])])  # a jitter is a click
    assert len(calls) == 1


def test_click_outside_changes_nothing(demo, viewer):
    calls = []
    demo.click(lambda *a: calls.append(a))
    press_release(viewer, (-3.0, 10.0))
    press_release(viewer, (10.0, 600.0))
    assert calls == [] and demo.click_x is None and demo.marker_layer is None


def test_right_click_is_not_a_click(demo, viewer):
    pos = np.array([5.0, 5.0])
    mouse_press_callbacks(viewer, fake("mouse_press", (10, 10), pos, button=2))
    mouse_release_callbacks(viewer, fake("mouse_release", (10, 10), pos, button=2))
    assert demo.click_value is None


def test_raising_callback_is_reported_and_others_run(demo, viewer, notifications):
    shown = notifications
    calls = []

    @demo.click
    def broken(y, x, v):
        raise RuntimeError("boom")

    demo.click(lambda *a: calls.append(a))
    press_release(viewer, (10, 10))
    assert len(calls) == 1
    assert any("boom" in m and "broken" in m for m in shown)


def test_smaller_mask_is_stretched_and_clicks_map_to_mask_pixels(viewer):
    bg = np.zeros((400, 600, 3), np.uint8)
    mask = np.arange(20, dtype=np.float32).reshape(4, 5)
    hm = Heatmap(bg, mask, blur_ksize=None, viewer=viewer)
    assert tuple(hm.heatmap_layer.scale) == (100.0, 120.0)
    assert tuple(hm.heatmap_layer.translate) == (49.5, 59.5)
    assert hm.click_at((250.0, 590.0)) == (2, 4, 14.0)
    assert hm.click_at((-0.4, -0.4)) == (0, 0, 0.0)


def test_width_height_scale_frame_not_mask_pixels(viewer):
    mask = np.arange(12, dtype=np.float64).reshape(3, 4)
    bg = np.zeros((30, 40, 3), np.uint8)
    hm = Heatmap(bg, mask, blur_ksize=None, width=80, viewer=viewer)
    assert hm.frame == (60.0, 80.0)
    assert tuple(hm.background_layer.scale) == (2.0, 2.0)
    assert tuple(hm.heatmap_layer.scale) == (20.0, 20.0)
    assert hm.click_at((59.0, 79.0)) == (2, 3, 11.0)
    hm.height = 3
    assert hm.frame == (3.0, 80.0)
    assert hm.click_at((2.4, 0.0))[:2] == (2, 0)


def test_3d_mask_click_is_channel_mean(viewer):
    mask = np.zeros((2, 2, 3), np.uint8)
    mask[1, 1] = [10, 20, 60]
    hm = Heatmap(heatmap_mask=mask, viewer=viewer)
    assert hm.click_at((1, 1)) == (1, 1, 30.0)
    assert hm.heatmap_mask is mask


def test_nan_click_reports_nan(viewer):
    hm = Heatmap(heatmap_mask=np.array([[np.nan, 1.0]]), viewer=viewer)
    y, x, v = hm.click_at((0, 0))
    assert (y, x) == (0, 0) and math.isnan(v)


def test_heatmap_mask_reads_back_exactly_and_assignment_redraws(demo):
    new = np.ones((10, 10))
    demo.heatmap_mask = new
    assert demo.heatmap_mask is new
    assert demo.heatmap_layer.data.shape == (10, 10)
    # a smaller mask is stretched over the same background frame
    assert tuple(demo.heatmap_layer.scale) == (40.0, 60.0)


def test_background_reads_back_rgb_and_failure_keeps_previous(demo):
    bg = demo.background_image
    assert bg.shape == (400, 600, 3) and not bg.flags.writeable
    with pytest.raises(FileNotFoundError):
        demo.set_background("/nope.png")
    assert demo.background_image is not None
    np.testing.assert_array_equal(demo.background_image, bg)
    gray = np.full((200, 300), 7, np.uint8)
    demo.set_background(gray)
    assert demo.background_image.shape == (200, 300, 3)
    assert demo.frame == (400.0, 600.0)  # width/height still set
    assert tuple(demo.background_layer.scale) == (2.0, 2.0)


def test_background_added_later_goes_under_heatmap(viewer):
    hm = Heatmap(heatmap_mask=np.eye(4), viewer=viewer)
    hm.set_background(np.zeros((8, 8, 3), np.uint8))
    assert list(viewer.layers) == [hm.background_layer, hm.heatmap_layer]
    assert tuple(hm.heatmap_layer.scale) == (2.0, 2.0)


def test_no_finite_value_says_so_and_shows_nothing(viewer, notifications):
    shown = notifications
    hm = Heatmap(heatmap_mask=np.full((3, 3), np.nan), viewer=viewer)
    assert hm.limits is None
    assert np.isnan(hm.heatmap_layer.data).all()
    assert any("no finite" in m for m in shown)


def test_status_bar_shows_raw_value_under_cursor(demo, viewer):
    viewer.mouse_over_canvas = True
    viewer.cursor.position = (133.0, 200.0)
    viewer.status = {"coordinates": "[133 200]: 1.0"}
    raw = float(demo.heatmap_mask[133, 200])
    assert f"Heatmap mask[133, 200] = {raw:.4g}" in viewer.status["coordinates"]
    viewer.cursor.position = (133.0, 201.0)
    assert viewer.status["coordinates"].count("Heatmap mask[") == 1
    viewer.cursor.position = (-50.0, -50.0)  # off the heatmap: the value goes away
    assert "Heatmap mask[" not in viewer.status["coordinates"]
    viewer.status = "Ready"
    assert viewer.status == "Ready"


def test_user_removing_layers_lets_go(demo, viewer):
    demo.click_at((10, 10))
    viewer.layers.remove(demo.heatmap_layer)
    assert demo.heatmap_layer is None and demo.heatmap_mask is None
    assert demo._interaction.on_mouse_drag not in viewer.mouse_drag_callbacks
    assert demo.marker_layer is None
    assert [layer.name for layer in viewer.layers] == ["Heatmap background"]
    viewer.layers.remove(demo.background_layer)
    assert demo.viewer is None and Heatmap.instances(viewer) == []
    assert len(viewer.layers) == 0


def test_close_removes_everything_and_is_idempotent(demo, viewer):
    other = viewer.add_points([[1, 1]])
    demo.click_at((10, 10))
    n_callbacks = len(viewer.layers.events.removed.callbacks)
    demo.close()
    demo.close()
    assert list(viewer.layers) == [other]
    assert demo._interaction.on_mouse_drag not in viewer.mouse_drag_callbacks
    assert len(viewer.layers.events.removed.callbacks) == n_callbacks - 1


def car_annotation():
    """A 10×20 image with one car: a rectangle over columns 2-5 and rows 3-4."""
    return ann([obj("rectangle", "car", points=pts([[2, 3], [5, 4]]))], h=10, w=20)


def test_set_heatmap_from_annotations_uses_density(viewer, tmp_path):
    ann = car_annotation()
    hm = Heatmap(viewer=viewer)
    hm.set_heatmap_from_annotations([ann, ann])
    assert hm.heatmap_mask.shape == (10, 20)
    assert hm.heatmap_mask[3, 2] == 2 and hm.heatmap_mask[4, 5] == 2
    assert hm.heatmap_mask.sum() == 2 * 2 * 4
    with pytest.raises(ValueError):
        hm.set_heatmap_from_annotations([])
    assert hm.heatmap_mask.shape == (10, 20)


def test_vmin_above_vmax_fails_even_without_mask(viewer):
    with pytest.raises(ValueError, match="vmin"):
        Heatmap(vmin=5, vmax=1, viewer=viewer)
    hm = Heatmap(vmin=1, vmax=5, viewer=viewer)
    with pytest.raises(ValueError, match="vmin"):
        hm.vmin = 6
    assert hm.vmin == 1


def test_frame_that_overflows_is_refused_whole(demo):
    demo.width = None
    with pytest.raises(ValueError, match="width and height"):
        demo.height = 1e308  # the width would follow the aspect ratio to inf
    assert demo.height == 400 and demo.frame == (400.0, 600.0)


def test_select_all_and_delete_removes_everything_cleanly(demo, viewer):
    for order in range(3):
        hm = demo if order == 0 else Heatmap(*demo_data(), viewer=viewer)
        hm.click_at((10, 10))
        if order == 2:  # the marker first in the selection's order
            viewer.layers.move(viewer.layers.index(hm.marker_layer), 0)
        viewer.layers.select_all()
        viewer.layers.remove_selected()
        assert len(viewer.layers) == 0
        assert Heatmap.instances(viewer) == []
        assert hm._interaction.on_mouse_drag not in viewer.mouse_drag_callbacks


def test_deleting_background_reframes_heatmap_on_its_own_size(viewer):
    hm = Heatmap(np.zeros((400, 600, 3), np.uint8), np.ones((40, 60)), viewer=viewer)
    assert tuple(hm.heatmap_layer.scale) == (10.0, 10.0)
    viewer.layers.remove(hm.background_layer)
    assert tuple(hm.heatmap_layer.scale) == (1.0, 1.0)
    assert hm.click_at((20, 30))[:2] == (20, 30)


def test_closed_heatmap_refuses_new_data(viewer):
    hm = Heatmap(heatmap_mask=np.eye(3), viewer=viewer)
    hm.close()
    with pytest.raises(RuntimeError, match="closed"):
        hm.set_heatmap(np.eye(4))
    with pytest.raises(RuntimeError, match="closed"):
        hm.set_background(np.zeros((3, 3)))
    assert len(viewer.layers) == 0


def test_first_view_fits_a_resized_frame(viewer):
    hm = Heatmap(
        np.zeros((40, 60, 3), np.uint8), np.ones((4, 6)), width=600, height=400, viewer=viewer
    )
    camera = getattr(viewer, "scene", viewer).camera
    np.testing.assert_allclose(camera.center[-2:], (199.5, 299.5))
    assert tuple(hm.background_layer.scale) == (10.0, 10.0)


def test_two_heatmaps_both_show_in_status(viewer):
    a = Heatmap(heatmap_mask=np.full((10, 10), 1.0), viewer=viewer)
    b = Heatmap(heatmap_mask=np.full((10, 10), 2.0), viewer=viewer)
    viewer.mouse_over_canvas = True
    viewer.cursor.position = (3.0, 4.0)
    text = viewer.status if isinstance(viewer.status, str) else viewer.status["coordinates"]
    assert f"{a.heatmap_layer.name} mask[3, 4] = 1" in text
    assert f"{b.heatmap_layer.name} mask[3, 4] = 2" in text
    viewer.cursor.position = (5.0, 4.0)
    text = viewer.status if isinstance(viewer.status, str) else viewer.status["coordinates"]
    assert text.count("mask[5, 4]") == 2 and "mask[3, 4]" not in text


def test_large_offset_mask_colours_on_layer(viewer):
    m = 1_600_000_000 + np.arange(256, dtype=np.float64).reshape(16, 16)
    hm = Heatmap(heatmap_mask=m, blur_ksize=None, viewer=viewer)
    layer = hm.heatmap_layer
    c0, c1 = layer.contrast_limits
    t = np.clip((layer.data.astype(np.float64) - c0) / (c1 - c0), 0, 1)
    rgb = np.rint(layer.colormap.map(t.ravel())[:, :3] * 255).astype(np.uint8)
    np.testing.assert_array_equal(rgb, JET)
    assert hm.click_at((0, 1))[2] == 1_600_000_001.0


def test_annotations_from_a_path_string_or_a_folder(viewer, tmp_path):
    import json

    ds = tmp_path / "project" / "ds"
    (ds / "ann").mkdir(parents=True)
    meta = {"classes": [{"title": "car", "shape": "rectangle", "color": "#FF0000"}], "tags": []}
    (tmp_path / "project" / "meta.json").write_text(json.dumps(meta))
    for i in range(2):
        (ds / "ann" / f"img{i}.png.json").write_text(json.dumps(car_annotation()))
    hm = Heatmap(viewer=viewer)
    hm.set_heatmap_from_annotations(str(ds / "ann" / "img0.png.json"))
    assert hm.heatmap_mask.max() == 1
    hm.set_heatmap_from_annotations(tmp_path / "project")
    assert hm.heatmap_mask.max() == 2 and hm.heatmap_mask.sum() == 2 * 8
    with pytest.raises(ValueError, match="anns"):
        hm.set_heatmap_from_annotations(tmp_path)
    assert hm.heatmap_mask.max() == 2


def test_click_at_needs_two_coordinates(demo):
    with pytest.raises(ValueError, match="click_at"):
        demo.click_at((133,))


def test_closed_heatmap_setters_raise(demo):
    demo.close()
    for attr, value in [
        ("vmax", 3),
        ("colormap", "hot"),
        ("opacity", 20),
        ("width", 5),
        ("transparent_low", False),
        ("blur_ksize", None),
    ]:
        with pytest.raises(RuntimeError, match="closed"):
            setattr(demo, attr, value)
