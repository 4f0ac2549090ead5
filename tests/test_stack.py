"""Stacks of masks (behaviour §12): per-slice blur, stack-wide limits, indices, backgrounds.

Pure-floor and model tests (``ViewerModel``, napari's own mouse dispatch); the real-window
clicks are in ``test_stack_gui.py``.
"""

from __future__ import annotations

import warnings

import cv2
import numpy as np
import pytest

from _imports import NAPARI, QT, assert_fresh_interpreter_loads_none_of
from napari_heatmap import Heatmap, mask_to_rgba
from napari_heatmap._field import prepare
from napari_heatmap._placement import stack_index_at, stack_transform


def edges(layer) -> np.ndarray:
    """The outer edges (top-left, bottom-right) of a layer's last two axes in world units."""
    half = np.asarray(layer.scale[-2:]) / 2
    centres = np.asarray(layer.extent.world)[:, -2:]
    return np.array([centres[0] - half, centres[1] + half])


def stack_of(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random(shape).astype(np.float32) * 100


# -- pure floor: the field --------------------------------------------------------------


def test_each_slice_is_blurred_on_its_own_as_opencv_does():
    mask = stack_of((2, 3, 20, 30))
    mask[1, 2] += 1000  # a bright slice: a blur across slices would spread it
    field = prepare(mask, (7, 5), None, stack=True)
    assert field.gray is mask  # the raw values clicks report: the stack as given
    assert field.display.shape == mask.shape
    for index in np.ndindex(2, 3):
        np.testing.assert_allclose(
            field.display[index], cv2.GaussianBlur(mask[index], (7, 5), 0), rtol=1e-6
        )


def test_nan_rule_holds_per_slice():
    mask = stack_of((3, 16, 16))
    mask[1, 4:8, 4:8] = np.nan  # NaN in one slice only
    field = prepare(mask, (5, 5), None, stack=True)
    one = prepare(mask[1], (5, 5), None)  # that slice alone, the 2-D NaN-aware blur
    np.testing.assert_array_equal(np.isnan(field.display[1]), np.isnan(mask[1]))
    np.testing.assert_allclose(field.display[1], one.display, rtol=1e-6, equal_nan=True)
    # the other slices are plain Gaussian blurs: no NaN leaks in from slice 1
    for k in (0, 2):
        np.testing.assert_allclose(
            field.display[k], cv2.GaussianBlur(mask[k], (5, 5), 0), rtol=1e-6
        )


def test_blur_function_gets_one_2d_slice_at_a_time():
    seen = []

    def blur(plane):
        seen.append(plane.shape)
        return plane * 2

    mask = stack_of((4, 6, 7))
    field = prepare(mask, None, blur, stack=True)
    assert seen == [(6, 7)] * 4
    np.testing.assert_allclose(field.display, mask * 2)


def test_limits_percentiles_and_stats_cover_the_whole_stack():
    mask = stack_of((5, 10, 12))
    mask[3, 2, 2] = -50.0  # extremes on different slices
    mask[4, 9, 0] = 500.0
    field = prepare(mask, None, None, stack=True)
    assert field.data_range == (-50.0, 500.0)
    assert field.limits(None, None) == (-50.0, 500.0)
    lo, hi = field.limits(None, None, (2, 98))
    assert (lo, hi) == pytest.approx(tuple(np.percentile(mask, [2, 98])))
    stats = field.stats
    assert stats["count"] == mask.size
    assert stats["mean"] == pytest.approx(float(mask.mean(dtype=np.float64)))
    assert stats["p50"] == pytest.approx(float(np.median(mask)))


def test_mask_to_rgba_of_a_stack_is_each_slice_with_the_stack_limits():
    mask = stack_of((3, 12, 15))
    mask[2] += 50  # the last slice is brighter: per-slice limits would hide that
    got = mask_to_rgba(mask, "jet", blur_ksize=(3, 3), stack=True)
    assert got.shape == (3, 12, 15, 4) and got.dtype == np.uint8
    lo, hi = float(mask.min()), float(mask.max())
    for k in range(3):
        want = mask_to_rgba(mask[k], "jet", vmin=lo, vmax=hi, blur_ksize=(3, 3))
        np.testing.assert_array_equal(got[k], want)
    # and not the slice's own limits
    assert not np.array_equal(got[0], mask_to_rgba(mask[0], "jet", blur_ksize=(3, 3)))


def test_mask_to_rgba_of_a_4d_stack_and_percentiles():
    mask = stack_of((2, 2, 8, 9))
    got = mask_to_rgba(mask, blur_ksize=None, percentiles=(5, 95), stack=True)
    lo, hi = np.percentile(mask, [5, 95])
    for index in np.ndindex(2, 2):
        want = mask_to_rgba(mask[index], vmin=lo, vmax=hi, blur_ksize=None)
        np.testing.assert_array_equal(got[index], want)


def test_ambiguous_3d_mask_warns_naming_stack_true():
    mask = stack_of((5, 64, 64))
    with pytest.warns(UserWarning, match=r"read as one 5×64 image with 64 channels.*stack=True"):
        out = mask_to_rgba(mask)
    assert out.shape == (5, 64, 4)  # the original rule still holds


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_three_d_mask_with_few_channels_does_not_warn(channels):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mask_to_rgba(stack_of((6, 7, channels))).shape == (6, 7, 4)
        mask_to_rgba(stack_of((5, 64, 64)), stack=True)  # said what it is: no warning


def test_stack_must_be_a_bool_and_2d_at_least():
    with pytest.raises(TypeError, match="stack must be True or False"):
        mask_to_rgba(np.zeros((3, 4, 5)), stack="yes")
    with pytest.raises(ValueError, match=r"heatmap_mask must be \(…, H, W\) with stack=True"):
        mask_to_rgba(np.zeros(5), stack=True)
    with pytest.raises(ValueError, match="use stack=True"):
        mask_to_rgba(np.zeros((2, 3, 4, 5)))


def test_blur_work_limit_counts_every_slice():
    # each slice alone is fine; the whole stack is too much for a display blur
    with pytest.raises(ValueError, match=r"blur_ksize \(99, 99\) on a 200×400×400 mask"):
        prepare(np.zeros((200, 400, 400), np.float32), (99, 99), None, stack=True)


def test_stack_code_of_the_pure_floor_imports_neither_napari_nor_qt():
    assert_fresh_interpreter_loads_none_of(
        "import numpy as np, napari_heatmap as n, napari_heatmap._stack as s\n"
        "n.mask_to_rgba(np.zeros((2, 3, 3)), stack=True)\n"
        "s.load_stack_background(np.zeros((2, 3, 3)), (2,))",
        (*NAPARI, *QT),
    )


# -- placement maths ----------------------------------------------------------------------


def test_stack_axes_keep_unit_scale_so_slice_i_is_at_world_i():
    scale, translate = stack_transform((100.0, 200.0), (7, 10, 20), (-0.5, -0.5))
    assert scale == (1.0, 10.0, 10.0)
    assert translate == (0.0, 4.5, 4.5)
    assert stack_index_at((3.0, 50.0, 50.0), (7,)) == (3,)
    assert stack_index_at((2.6, 0.0, 0.0), (7,)) == (3,)  # napari rounds to the nearest
    assert stack_index_at((7.0, 0.0, 0.0), (7,)) is None  # outside the stack
    assert stack_index_at((9.0, 1.0, 2.0, 0.0, 0.0), (2, 3)) == (1, 2)


# -- the controller -----------------------------------------------------------------------


def test_stack_heatmap_gets_a_slider_per_stack_axis(viewer):
    mask = stack_of((4, 3, 10, 12))
    hm = Heatmap(heatmap_mask=mask, blur_ksize=None, viewer=viewer, stack=True)
    assert hm.stack is True
    assert viewer.dims.ndim == 4
    assert viewer.dims.nsteps[:2] == (4, 3)
    assert hm.heatmap_layer.data.shape == mask.shape
    assert hm.limits == (float(mask.min()), float(mask.max()))
    assert hm.stats["count"] == mask.size
    assert hm.frame == (10.0, 12.0)
    hm.percentiles = (2, 98)  # over the whole stack, not the slice on screen
    assert hm.limits == pytest.approx(tuple(np.percentile(mask, [2, 98])))


def test_model_click_reports_the_slice_on_screen(viewer):
    mask = stack_of((5, 8, 9))
    hm = Heatmap(heatmap_mask=mask, blur_ksize=None, viewer=viewer, stack=True)
    calls = []
    hm.click(lambda y, x, v: calls.append((y, x, v)))
    for step in (0, 3, 4):
        viewer.dims.set_current_step(0, step)
        # a click from code with only (y, x): the sliders fill in the slice
        assert hm.click_at((6.0, 2.0)) == (6, 2, float(mask[step, 6, 2]))
        assert hm.click_index == (step, 6, 2)
        assert hm.value_at(6, 2) == float(mask[step, 6, 2])
    assert calls == [(6, 2, float(mask[s, 6, 2])) for s in (0, 3, 4)]
    # a full world position names its slice
    assert hm.click_at((1.0, 0.0, 8.0)) == (0, 8, float(mask[1, 0, 8]))
    assert hm.click_index == (1, 0, 8)
    assert hm.value_at(0, 8, index=(2,)) == float(mask[2, 0, 8])
    with pytest.raises(IndexError, match=r"index\[0\]=5 is outside"):
        hm.value_at(0, 0, index=(5,))


def test_marker_sits_on_the_clicked_slice_only(viewer):
    hm = Heatmap(heatmap_mask=stack_of((3, 8, 8)), viewer=viewer, stack=True)
    viewer.dims.set_current_step(0, 2)
    hm.click_at((4.0, 5.0))
    np.testing.assert_array_equal(hm.marker_layer.data, [[2.0, 4.0, 5.0]])
    # a 2-D mask next: the marker becomes a 2-D point again
    hm.stack = False
    hm.set_heatmap(np.zeros((8, 8)))
    hm.click_at((1.0, 1.0))
    assert hm.marker_layer.ndim == 2


def test_two_d_click_index_is_y_x(viewer):
    hm = Heatmap(heatmap_mask=np.arange(12.0).reshape(3, 4), blur_ksize=None, viewer=viewer)
    assert hm.click_index is None
    hm.click_at((2.0, 3.0))
    assert hm.click_index == (2, 3) and hm.click_value == 11.0


def test_shared_2d_background_lies_under_every_slice(viewer):
    bg = np.zeros((40, 60, 3), np.uint8)
    mask = stack_of((3, 4, 6))
    hm = Heatmap(bg, mask, blur_ksize=None, viewer=viewer, stack=True)
    assert hm.background_layer.data.shape == (40, 60, 3)
    assert hm.frame == (40.0, 60.0)
    # the heatmap's last two axes span exactly the background's extent
    assert tuple(hm.heatmap_layer.scale) == (1.0, 10.0, 10.0)
    assert tuple(hm.heatmap_layer.translate) == (0.0, 4.5, 4.5)
    assert tuple(hm.background_layer.scale) == (1.0, 1.0)
    assert tuple(hm.background_layer.translate) == (0.0, 0.0)
    np.testing.assert_allclose(edges(hm.heatmap_layer), edges(hm.background_layer))
    np.testing.assert_allclose(edges(hm.heatmap_layer), [[-0.5, -0.5], [39.5, 59.5]])


def test_stacked_background_follows_the_slider(viewer):
    bg = np.zeros((3, 20, 30), np.uint8)
    bg[1] = 100
    mask = stack_of((3, 10, 15))
    hm = Heatmap(bg, mask, viewer=viewer, stack=True)
    assert hm.background_layer.data.shape == (3, 20, 30, 3)  # gray became RGB per slice
    assert tuple(hm.background_layer.scale) == (1.0, 1.0, 1.0)
    assert tuple(hm.heatmap_layer.scale) == (1.0, 2.0, 2.0)
    np.testing.assert_allclose(edges(hm.heatmap_layer), edges(hm.background_layer))
    viewer.dims.set_current_step(0, 1)
    assert int(hm.background_layer._slice.image.view[..., 0].max()) == 100
    # a mask whose stack does not fit the stacked background is refused, nothing changes
    with pytest.raises(ValueError, match=r"heatmap_mask must be a stack of shape \(3,\)"):
        hm.set_heatmap(stack_of((4, 10, 15)))
    assert hm.heatmap_mask is mask
    with pytest.raises(ValueError, match="stack of shape"):
        hm.stack = False
    assert hm.stack is True and hm.heatmap_mask is mask


def test_background_stack_with_the_wrong_leading_shape_is_refused(viewer):
    with pytest.raises(ValueError, match="background_image of shape"):
        Heatmap(np.zeros((4, 2, 10, 10)), stack_of((3, 10, 10)), viewer=viewer, stack=True)
    assert len(viewer.layers) == 0


def test_rgb_picture_with_as_many_rows_as_slices_is_one_picture(viewer):
    bg = np.zeros((3, 50, 3), np.uint8)  # (H=3, W=50, RGB), not 3 gray slices of 50×3
    hm = Heatmap(bg, stack_of((3, 6, 10)), viewer=viewer, stack=True)
    assert hm.background_layer.data.shape == (3, 50, 3)


def test_set_heatmap_keeps_the_stack_mode_and_the_setter_rereads(viewer, notifications):
    hm = Heatmap(heatmap_mask=stack_of((3, 8, 9)), viewer=viewer, stack=True)
    hm.set_heatmap(stack_of((6, 8, 9), seed=1))
    assert hm.heatmap_layer.data.shape == (6, 8, 9)
    hm.stack = False  # the same mask, read as H×W×C now: averaged and warned about
    assert hm.heatmap_layer.data.shape == (6, 8)
    assert viewer.dims.ndim == 2
    assert any("stack=True" in m for m in notifications)
    hm.stack = True
    assert hm.heatmap_layer.data.shape == (6, 8, 9)
    with pytest.raises(TypeError, match="stack must be True or False"):
        hm.stack = 1


def test_controller_warns_in_napari_not_with_a_python_warning(viewer, notifications):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hm = Heatmap(heatmap_mask=stack_of((5, 64, 64)), viewer=viewer)
    assert hm.heatmap_layer.data.shape == (5, 64)
    assert [m for m in notifications if "stack=True" in m] == [
        "napari-heatmap: heatmap_mask of shape (5, 64, 64) was read as one 5×64 image with 64 "
        "channels, averaged over its last axis; if it is a stack of 5 slices of 64×64, pass "
        "stack=True"
    ]
    notifications.clear()
    hm.set_heatmap(stack_of((5, 64, 3)))
    assert not [m for m in notifications if "stack=True" in m]


def test_precomputed_stack_is_used_by_set_heatmap(viewer):
    hm = Heatmap(heatmap_mask=np.zeros((4, 4)), viewer=viewer, stack=True)
    mask = stack_of((2, 4, 4))
    hm.precompute_mask(mask)
    ready = hm._precomputed[1]
    hm.set_heatmap(mask)
    assert hm._field is ready and hm.heatmap_layer.data.shape == (2, 4, 4)


def test_to_rgba_of_a_stack_matches_mask_to_rgba(viewer):
    mask = stack_of((3, 9, 11))
    hm = Heatmap(heatmap_mask=mask, viewer=viewer, stack=True, colormap="hot")
    np.testing.assert_array_equal(hm.to_rgba(), mask_to_rgba(mask, "hot", stack=True))


def test_from_layers_reads_a_stack_layer(viewer):
    data = stack_of((4, 10, 20))
    layer = viewer.add_image(data, scale=(1, 2, 2))
    hm = Heatmap.from_layers(layer, stack=True, viewer=viewer)
    assert hm.heatmap_layer.data.shape == (4, 10, 20)
    assert hm.frame == (20.0, 40.0)


def test_status_shows_the_value_of_the_slice_on_screen(viewer):
    mask = stack_of((3, 5, 6))
    hm = Heatmap(heatmap_mask=mask, blur_ksize=None, viewer=viewer, stack=True)
    viewer.dims.set_current_step(0, 2)
    viewer.mouse_over_canvas = True
    viewer.cursor.position = (2.0, 3.0, 4.0)
    assert f"mask[2, 3, 4] = {mask[2, 3, 4]:.4g}" in str(viewer.status)
    viewer.dims.set_current_step(0, 1)
    viewer.cursor.position = (1.0, 3.0, 4.0)
    assert f"mask[1, 3, 4] = {mask[1, 3, 4]:.4g}" in str(viewer.status)
    assert hm.heatmap_layer is not None


# -- the command line ---------------------------------------------------------------------


def test_launcher_stack_flag_needs_a_mask(monkeypatch, capsys):
    from napari_heatmap._launcher import build_parser, main

    assert build_parser().parse_args(["--stack"]).stack is True
    assert build_parser().parse_args([]).stack is False
    monkeypatch.delenv("DISPLAY", raising=False)  # refused before any window is considered
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["--stack"]) == 2
    assert "--stack: give the stack with --mask PATH" in capsys.readouterr().err


def test_norms_and_threshold_work_on_stacks_with_stack_wide_limits(viewer):
    mask = stack_of((3, 10, 12)) + 1  # positive: the log norm's domain
    mask[2] *= 10
    lo, hi = float(mask.min()), float(mask.max())
    got = mask_to_rgba(mask, norm="log", threshold=5.0, blur_ksize=None, stack=True)
    for k in range(3):
        want = mask_to_rgba(mask[k], norm="log", threshold=5.0, vmin=lo, vmax=hi, blur_ksize=None)
        np.testing.assert_array_equal(got[k], want)
    hm = Heatmap(heatmap_mask=mask, norm="log", blur_ksize=None, viewer=viewer, stack=True)
    assert hm.heatmap_layer.data.shape == mask.shape and hm.limits == (lo, hi)
    np.testing.assert_array_equal(
        hm.to_rgba(), mask_to_rgba(mask, norm="log", stack=True, blur_ksize=None)
    )
