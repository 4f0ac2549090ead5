"""Lazy stacks (behaviour §12 + §13) against the in-memory stack, pixel for pixel.

Small stacks with small chunks (on the stack axes too), so blur windows straddle chunk
borders; the reference is always the in-memory ``stack=True`` path.
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from napari_heatmap import Heatmap, _lazy, mask_to_rgba
from napari_heatmap._field import Field, prepare
from napari_heatmap._lazy import LazyField

KSIZES = [(5, 5), (7, 11), (65, 9), (1, 1), None]


def stack_mask(seed: int, shape: tuple[int, ...] = (3, 2, 90, 150)) -> np.ndarray:
    """A float32 stack whose slices differ in finiteness: some all finite, some with NaN/inf."""
    rng = np.random.default_rng(seed)
    m = rng.normal(size=shape).astype(np.float32)
    flat = m.reshape(-1, *shape[-2:])
    flat[1][rng.random(shape[-2:]) < 0.05] = np.nan  # speckled NaN: the NaN-aware blur
    flat[2][rng.random(shape[-2:]) < 0.4] = np.nan  # holes
    flat[-1, 7, :] = np.inf
    return m


def same(got: float, want: float) -> bool:
    """The same float, NaN included."""
    return got == want or (np.isnan(got) and np.isnan(want))


def both(m: np.ndarray, chunks, ksize) -> tuple[LazyField, Field]:
    lazy = prepare(da.from_array(m, chunks=chunks), ksize, None, stack=True)
    memory = prepare(m, ksize, None, stack=True)
    assert isinstance(lazy, LazyField)
    assert isinstance(memory, Field)
    return lazy, memory


@pytest.mark.parametrize("ksize", KSIZES)
@pytest.mark.parametrize(
    "shape, chunks",
    [((3, 2, 90, 150), (2, 1, 13, 37)), ((4, 97, 200), (3, 40, 64)), ((5, 64, 300), (1, 9, 70))],
)
def test_lazy_stack_display_equals_the_in_memory_stack_pixel_for_pixel(ksize, shape, chunks):
    m = stack_mask(KSIZES.index(ksize), shape)
    lazy, memory = both(m, chunks, ksize)
    assert lazy.stack_shape == memory.stack_shape == shape[:-2]
    assert lazy.plane_shape == memory.plane_shape == shape[-2:]
    assert (lazy.data_range, lazy.all_finite) == (memory.data_range, memory.all_finite)
    got = lazy.display_base.compute()
    np.testing.assert_array_equal(got, memory.display, strict=True)


def test_each_slice_is_blurred_on_its_own_and_with_its_own_finiteness():
    # a spike on one slice must not leak into its neighbours (no overlap across slices),
    # and an all-finite slice next to a NaN slice takes the plain blur, as in memory
    m = np.zeros((3, 40, 70), np.float32)
    m[1, 20, 35] = 100.0
    m[2, 3, 3] = np.nan
    lazy, memory = both(m, (2, 16, 64), (9, 9))
    got = lazy.display_base.compute()
    assert np.all(got[0] == 0) and got[1, 20, 35] > 0
    np.testing.assert_array_equal(got, memory.display, strict=True)
    assert lazy.measured.plane_finite.tolist() == [True, True, False]


@pytest.mark.parametrize("pcts", [(0.0, 100.0), (5.0, 95.0), (1.0, 100.0)])
def test_lazy_stack_limits_and_stats_are_over_the_whole_stack(pcts):
    m = stack_mask(11)
    lazy, memory = both(m, (2, 1, 16, 64), (5, 5))
    assert lazy.limits(None, None, pcts) == memory.limits(None, None, pcts)
    got, want = lazy.stats, memory.stats
    assert got.keys() == want.keys()
    for key in want:
        if key in ("mean", "std"):
            assert got[key] == pytest.approx(want[key], rel=1e-12)
        else:
            assert got[key] == want[key], key


def test_lazy_stack_pyramid_thins_only_the_slices():
    m = stack_mask(12, (3, 100, 170))
    lazy, memory = both(m, (1, 32, 64), (5, 5))
    levels = _lazy.pyramid(lazy.display_base, 45)
    assert [level.shape for level in levels] == [(3, 100, 170), (3, 50, 85), (3, 25, 43)]
    shown = _lazy.overview(levels, side=60)
    assert isinstance(shown[2], np.ndarray) and not isinstance(shown[1], np.ndarray)
    np.testing.assert_array_equal(shown[2], memory.display[:, ::4, ::4], strict=True)
    np.testing.assert_array_equal(shown[1].compute(), memory.display[:, ::2, ::2])
    # a stack level is computed only when all its slices together fit in side² pixels
    assert not isinstance(_lazy.overview(levels, side=50)[2], np.ndarray)


def test_a_lazy_stack_heatmap_has_sliders_and_clicks_read_the_slice_on_screen(viewer):
    m = stack_mask(13, (4, 120, 200))
    hm = Heatmap(heatmap_mask=da.from_array(m, chunks=(3, 50, 64)), stack=True, viewer=viewer)
    memory = Heatmap(heatmap_mask=m, stack=True, viewer=viewer)
    layer = hm.heatmap_layer
    assert layer.multiscale
    assert tuple(layer.data.shapes[0]) == m.shape
    assert viewer.dims.ndim == 3 and viewer.dims.nsteps[0] == 4
    assert hm.limits == memory.limits
    for k in (0, 3, 1):
        viewer.dims.set_current_step(0, k)
        for y, x in [(0, 0), (49, 63), (50, 64), (119, 199)]:
            assert hm.value_at(y, x) == float(m[k, y, x])
            assert hm.index_at((y, x)) == (k, y, x)
            got = hm.click_at((y, x))
            assert got is not None and got[:2] == (y, x)
            assert same(got[2], float(m[k, y, x]))
            assert hm.click_index == (k, y, x)
    assert [hm.value_at(5, 6, index=(i,)) for i in (1, 3)] == [m[1, 5, 6], m[3, 5, 6]]
    assert same(hm.value_at(5, 6, index=(2,)), float(m[2, 5, 6]))
    with pytest.raises(IndexError, match="index"):
        hm.value_at(5, 6, index=(4,))
    got = hm.click_at((2, 30, 40))  # a full world position picks its slice
    assert got is not None and same(got[2], float(m[2, 30, 40]))
    assert hm.click_index == (2, 30, 40)


def test_a_click_on_a_zarr_stack_reads_one_element_of_the_source(tmp_path, viewer):
    zarr = pytest.importorskip("zarr")
    m = stack_mask(14, (3, 64, 80))
    path = tmp_path / "m.zarr"
    source = zarr.create_array(path, shape=m.shape, chunks=(1, 32, 32), dtype=m.dtype)
    source[...] = m
    hm = Heatmap(heatmap_mask=source, stack=True, viewer=viewer)
    assert isinstance(hm._field, LazyField)
    for index in [(0, 0, 0), (2, 63, 79), (1, 31, 32)]:
        assert same(hm.value_at(*index[1:], index=index[:1]), float(m[index]))


@pytest.mark.parametrize("ksize", [(5, 5), None])
def test_mask_to_rgba_of_a_lazy_stack_is_lazy_and_equals_the_in_memory_stack(ksize):
    m = stack_mask(15)
    lazy = mask_to_rgba(
        da.from_array(m, chunks=(2, 1, 13, 70)), "turbo", True, None, 1.5, ksize, stack=True
    )
    assert isinstance(lazy, da.Array)
    assert lazy.shape == (*m.shape, 4)
    want = mask_to_rgba(m, "turbo", True, None, 1.5, ksize, stack=True)
    np.testing.assert_array_equal(lazy.compute(), want, strict=True)


def test_heatmap_to_rgba_of_a_lazy_stack_is_the_in_memory_picture(viewer):
    m = stack_mask(16, (3, 60, 130))
    hm = Heatmap(heatmap_mask=da.from_array(m, chunks=(2, 32, 64)), stack=True, viewer=viewer)
    memory = Heatmap(heatmap_mask=m, stack=True, viewer=viewer)
    np.testing.assert_array_equal(hm.to_rgba().compute(), memory.to_rgba(), strict=True)


def test_a_lazy_mask_with_more_than_three_axes_needs_stack():
    mask = da.zeros((2, 3, 8, 8), chunks=4)
    with pytest.raises(ValueError, match=r"heatmap_mask.*stack=True"):
        prepare(mask, None, None)
    with pytest.raises(ValueError, match="heatmap_mask"):
        prepare(da.zeros((8,), chunks=4), None, None, stack=True)
    three = da.zeros((3, 8, 8), chunks=4)  # 3-D without stack: H×W×C, averaged
    assert prepare(three, None, None).stack_shape == ()
    assert prepare(three, None, None, stack=True).stack_shape == (3,)


def test_switching_stack_on_a_lazy_mask_rereads_it_as_in_memory(viewer):
    m = stack_mask(17, (6, 40, 3))  # H×W×C (C = 3) or a stack of six 40×3 slices
    hm = Heatmap(heatmap_mask=da.from_array(m, chunks=(4, 16, 3)), viewer=viewer)
    memory = Heatmap(heatmap_mask=m, viewer=viewer)
    assert hm._field.stack_shape == () and hm._field.plane_shape == (6, 40)
    np.testing.assert_array_equal(hm.to_rgba().compute(), memory.to_rgba(), strict=True)
    hm.stack = memory.stack = True
    assert isinstance(hm._field, LazyField) and hm._field.stack_shape == (6,)
    assert hm.heatmap_layer.multiscale and hm.heatmap_layer.ndim == 3  # a new pyramid layer
    assert len(viewer.layers) == 2  # the old lazy layer was replaced, not kept
    assert hm.limits == memory.limits
    np.testing.assert_array_equal(hm.to_rgba().compute(), memory.to_rgba(), strict=True)
