"""Hostile input and faults at the core (issue 13): the mask, the settings, re-entrant calls,
clicks, construction and long runs. Every bad call names its parameter and changes nothing."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest
from napari.components import ViewerModel
from napari.layers import Image

from _colours import gpu_rgba
from napari_heatmap import Heatmap, _registry, colormap_lut, mask_to_rgba
from napari_heatmap._pipeline import BLUR_WORK_LIMIT

JET = colormap_lut("jet")


@pytest.fixture
def hm(viewer):
    return Heatmap(heatmap_mask=np.arange(20, dtype=np.float32).reshape(4, 5), viewer=viewer)


def snapshot(hm):
    layer = hm.heatmap_layer
    return (
        hm.vmin,
        hm.vmax,
        hm.opacity,
        hm.width,
        hm.height,
        hm.frame,
        hm.limits,
        tuple(layer.contrast_limits),
        tuple(layer.scale),
        layer.opacity,
        None if hm.heatmap_mask is None else id(hm.heatmap_mask),
    )


# --------------------------------------------------------------------------- values


def test_extreme_finite_values_keep_their_colours(viewer):
    mask = np.array([[-1e308, 0.0, 1e308, -5e307]])
    rgba = mask_to_rgba(mask, blur_ksize=None)
    np.testing.assert_array_equal(rgba[0, :3, :3], JET[[0, 128, 255]])
    assert (rgba[..., 3] == 255).all()
    hm = Heatmap(heatmap_mask=mask, blur_ksize=None, viewer=viewer)
    layer = hm.heatmap_layer
    assert np.isfinite(layer.contrast_limits).all() and np.isfinite(layer.data).all()
    np.testing.assert_array_equal(gpu_rgba(layer), rgba)
    assert hm.limits == (-1e308, 1e308) and hm.click_at((0, 2))[2] == 1e308


def test_float32_near_its_maximum_does_not_overflow_in_the_blur(viewer):
    big = np.float32(3.3e38)
    mask = np.full((9, 9), big, np.float32)
    mask[::2] = -big
    hm = Heatmap(heatmap_mask=mask, blur_ksize=(5, 5), viewer=viewer)
    assert np.isfinite(hm.heatmap_layer.data).all()
    rgba = mask_to_rgba(mask, blur_ksize=(5, 5))
    np.testing.assert_array_equal(gpu_rgba(hm.heatmap_layer), rgba)


def test_masked_array_hides_its_masked_values(viewer):
    data = np.arange(36, dtype=np.float64).reshape(6, 6)
    hidden = np.zeros((6, 6), bool)
    hidden[2:4, 2:4] = True
    masked = np.ma.masked_array(np.where(hidden, 1e6, data), mask=hidden)  # hidden: huge
    as_nan = np.where(hidden, np.nan, data)
    np.testing.assert_array_equal(mask_to_rgba(masked), mask_to_rgba(as_nan))
    hm = Heatmap(heatmap_mask=masked, viewer=viewer)
    assert hm.data_range == (0.0, 35.0) and np.isnan(hm.value_at(2, 2))


def test_ragged_list_is_refused_naming_heatmap_mask(hm):
    before = snapshot(hm)
    with pytest.raises(ValueError, match="heatmap_mask must be a rectangular"):
        hm.set_heatmap([[1, 2], [3]])
    with pytest.raises(TypeError, match="heatmap_mask"):
        hm.set_heatmap([[10**400, 1]])
    assert snapshot(hm) == before


@pytest.mark.parametrize("name", ["vmin", "vmax", "opacity", "width", "height"])
def test_ints_too_large_for_a_float_are_refused_by_name(hm, name):
    before = snapshot(hm)
    with pytest.raises(ValueError, match=rf"^{name} must .*digits"):
        setattr(hm, name, 10**400)
    assert snapshot(hm) == before


# --------------------------------------------------------------------------- failing whole


@pytest.mark.parametrize("value", [5e-324, 1e-200, 1e200])
def test_a_frame_napari_cannot_place_is_refused_before_anything_changes(hm, value):
    before = snapshot(hm)
    with pytest.raises(ValueError, match="width and height must give each pixel a size"):
        hm.width = value
    assert snapshot(hm) == before
    hm.set_heatmap(np.ones((4, 5)))  # the heatmap still works
    assert hm.limits == (1.0, 1.0)


def test_napari_refusing_a_change_puts_everything_back(hm, monkeypatch):
    before = snapshot(hm)
    real = Image.contrast_limits

    def refuse(layer, value):
        raise RuntimeError("the GPU said no")

    monkeypatch.setattr(Image, "contrast_limits", property(real.fget, refuse))
    with pytest.raises(ValueError, match="vmin: napari could not show this change"):
        hm.vmin = 3.0
    monkeypatch.setattr(Image, "contrast_limits", real)
    assert snapshot(hm) == before


def test_blur_function_calling_back_is_refused_and_changes_nothing(hm):
    before = snapshot(hm)
    refused = []

    def calling(method):
        def blur(gray):
            try:
                method()
            except RuntimeError as exc:
                refused.append(str(exc))
                raise
            return gray

        return blur

    for method in (
        lambda: hm.set_heatmap(np.zeros((2, 2))),
        hm.close,
        lambda: setattr(hm, "vmin", 1.0),
    ):
        with pytest.raises(ValueError, match="blur_function raised RuntimeError"):
            hm.blur_function = calling(method)
    assert len(refused) == 3 and all("from inside that function" in r for r in refused)
    assert snapshot(hm) == before and hm.viewer is not None and hm.blur_function is None


def test_click_callback_may_set_a_new_mask(hm):
    new = np.full((4, 5), 7.0)
    hm.click(lambda y, x, v: hm.set_heatmap(new))
    assert hm.click_at((1, 1)) == (1, 1, 6.0)
    assert hm.heatmap_mask is new and hm.click_value is None and hm.marker_layer is None
    np.testing.assert_array_equal(hm.heatmap_layer.data, hm.heatmap_layer.data * 0 + 7.0)


# --------------------------------------------------------------------------- clicks, build


def test_value_at_refuses_negative_and_outside_indices(hm):
    with pytest.raises(IndexError, match="y=-1 is outside the mask"):
        hm.value_at(-1, -1)
    with pytest.raises(IndexError, match="x=5 is outside the mask"):
        hm.value_at(0, 5)


def test_a_raising_click_listener_stops_nothing(hm, notifications):
    reported = notifications
    hm.events.click.connect(lambda event: 1 / 0)
    seen = []
    hm.click(lambda y, x, v: seen.append((y, x, v)))
    assert hm.click_at((2, 3)) == (2, 3, 13.0)
    assert seen == [(2, 3, 13.0)] and any("events.click" in m for m in reported)


def test_viewer_of_the_wrong_type_is_named(viewer):
    with pytest.raises(TypeError, match="viewer must be a napari.Viewer"):
        Heatmap(heatmap_mask=np.ones((2, 2)), viewer=5)
    assert _registry.heatmaps(viewer) == []


# --------------------------------------------------------------------------- ceilings


def test_blur_kernel_beyond_the_work_ceiling_is_refused(hm):
    side = int((BLUR_WORK_LIMIT / 200) ** 0.5) + 1  # (99 + 101) × side² just over the limit
    big = np.zeros((side, side), np.float32)
    with pytest.raises(ValueError, match=r"blur_ksize \(99, 101\) .* too much work"):
        mask_to_rgba(big, blur_ksize=(99, 101))
    hm.set_heatmap(big)
    before = snapshot(hm)
    with pytest.raises(ValueError, match="blur_ksize"):
        hm.blur_ksize = (99, 101)
    assert snapshot(hm) == before and hm.blur_ksize == (5, 5)
    hm.blur_ksize = (3, 3)  # a kernel within the ceiling still works


def test_colouring_in_strips_equals_colouring_whole():
    rng = np.random.default_rng(3)
    mask = rng.normal(size=(5, 2**17)).astype(np.float32)  # more rows than one strip
    mask[3, 5] = np.nan
    rgba = mask_to_rgba(mask, blur_ksize=None, transparent_low=True)
    lo, hi = np.nanmin(mask), np.nanmax(mask)
    idx = np.floor((mask.astype(np.float64) - lo) / (hi - lo) * 255 + 0.5)
    idx = np.nan_to_num(idx).astype(int)
    np.testing.assert_array_equal(rgba[..., :3], JET[idx])
    alpha = np.where(np.isnan(mask) | ((mask - lo) / (hi - lo) < 1 / 255), 0, 255)
    np.testing.assert_array_equal(rgba[..., 3], alpha)


# --------------------------------------------------------------------------- long runs


def _hooks(viewer):
    return (
        len(viewer.layers),
        len(viewer.mouse_drag_callbacks),
        len(viewer.events.status.callbacks),
        len(viewer.cursor.events.position.callbacks),
        len(viewer.layers.events.removed.callbacks),
        len(viewer.layers.events.inserted.callbacks),
    )


def test_many_create_close_cycles_and_set_heatmaps_leave_nothing_behind():
    import weakref

    viewer = ViewerModel()
    mask = np.random.default_rng(0).random((64, 64)).astype(np.float32)
    Heatmap(heatmap_mask=mask, viewer=viewer).close()  # warm caches and the watcher
    before = _hooks(viewer)
    freed = []
    for _ in range(500):
        hm = Heatmap(np.zeros((64, 64, 3), np.uint8), mask, viewer=viewer)
        hm.click_at((3, 3))
        freed += [weakref.ref(hm), *(weakref.ref(layer) for layer in hm.layers)]
        hm.close()
    del hm
    gc.collect()
    assert _hooks(viewer) == before and _registry.heatmaps(viewer) == []
    # every heatmap and layer is gone (napari may hold on to the last layer it selected)
    assert sum(ref() is not None for ref in freed) <= 1
    hm = Heatmap(heatmap_mask=mask, viewer=viewer)
    for i in range(50):
        hm.set_heatmap(mask + np.float32(i % 7))
    gc.collect()
    tracemalloc.start()
    start = tracemalloc.take_snapshot()
    for i in range(1000):
        hm.set_heatmap(mask + np.float32(i % 7))
    gc.collect()
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(start, "filename"))
    tracemalloc.stop()
    assert len(viewer.layers) == 1
    assert grown < 10 * mask.nbytes  # noise (the last mask and field), not 1,000 masks' worth


def test_precomputed_work_is_used_only_for_the_very_same_inputs(hm, monkeypatch):
    from napari_heatmap import _field

    calls = []
    real = _field.Field.reblurred
    monkeypatch.setattr(
        _field.Field, "reblurred", lambda self, *a: calls.append(a) or real(self, *a)
    )
    hm.precompute_blur((9, 9))
    hm.blur_ksize = (9, 9)
    assert calls == [((9, 9), None)]  # computed once, in precompute_blur
    hm.precompute_blur((3, 3))
    hm.set_heatmap(np.ones((4, 5)))  # the mask changed in between: the work is stale
    hm.blur_ksize = (3, 3)
    assert len(calls) == 3
    np.testing.assert_array_equal(hm.heatmap_layer.data, np.ones((4, 5)))
