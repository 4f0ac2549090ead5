"""Lazy masks (behaviour §13) against the in-memory result, and the NaN-aware blur itself.

Masks are small with small chunks, so every blur window straddles chunk borders; the
reference is always the in-memory path (or plain OpenCV / NumPy), never the lazy code.
"""

from __future__ import annotations

import cv2
import dask.array as da
import numpy as np
import pytest

from napari_heatmap import Heatmap, _lazy, mask_to_rgba
from napari_heatmap._field import Field, prepare
from napari_heatmap._lazy import LazyField
from napari_heatmap._pipeline import display_field, finite_stats

KSIZES = [(5, 5), (7, 11), (31, 3), (1, 1), (65, 9), None]


def reference_nan_blur(gray: np.ndarray, ksize: tuple[int, int]) -> np.ndarray:
    """The NaN rule written plainly over the whole image: blur(v, NaN as 0) / blur(valid)."""
    (lo, hi), _ = finite_stats(gray)
    src = np.clip(gray.astype(np.float32), lo, hi)
    nan = np.isnan(src)
    src[nan] = 0
    num = cv2.GaussianBlur(src, ksize, 0)
    den = cv2.GaussianBlur((~nan).astype(np.float32), ksize, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    out[nan] = np.nan
    return out


def random_mask(rng: np.random.Generator, shape: tuple[int, int], kind: str) -> np.ndarray:
    m = rng.normal(size=shape).astype(np.float32)
    if kind == "speckle":
        m[rng.random(shape) < 0.01] = np.nan
    elif kind == "rows":
        m[rng.integers(0, shape[0], 3)] = np.nan
    elif kind == "holes":
        m[rng.random(shape) < 0.4] = np.nan
        m[rng.random(shape) < 0.01] = np.inf
    return m


# ---------------------------------------------------------------- the NaN-aware blur


@pytest.mark.parametrize("kind", ["speckle", "rows", "holes"])
def test_nan_aware_blur_equals_the_plain_whole_image_rule(kind):
    rng = np.random.default_rng(["speckle", "rows", "holes"].index(kind))
    for _ in range(25):
        shape = (int(rng.integers(1, 420)), int(rng.integers(1, 300)))
        ksize = (int(rng.choice([1, 3, 5, 11, 31])), int(rng.choice([1, 3, 5, 11, 61])))
        m = random_mask(rng, shape, kind)
        if np.isfinite(m).sum() == 0:
            continue
        got = display_field(m, ksize)
        np.testing.assert_array_equal(got, reference_nan_blur(m, ksize), strict=True)


# ---------------------------------------------------------------- recognising lazy masks


def test_dask_and_zarr_arrays_are_lazy_numpy_and_lists_are_not():
    zarr = pytest.importorskip("zarr")
    assert _lazy.is_lazy(da.zeros((4, 4), chunks=2))
    assert _lazy.is_lazy(zarr.zeros((4, 4), chunks=(2, 2)))
    assert not _lazy.is_lazy(np.zeros((4, 4)))
    assert not _lazy.is_lazy([[1, 2], [3, 4]])


@pytest.mark.parametrize(
    ("bad", "exc", "words"),
    [
        (da.zeros((2, 2, 2, 2), chunks=1), ValueError, "2-D"),
        (da.zeros((0, 3), chunks=1), ValueError, "empty"),
        (da.zeros((2, 2), dtype=complex, chunks=1), TypeError, "dtype"),
    ],
)
def test_bad_lazy_masks_raise_naming_heatmap_mask(bad, exc, words):
    with pytest.raises(exc, match=rf"heatmap_mask.*{words}"):
        prepare(bad, (5, 5), None)


def test_a_blur_function_is_refused_for_a_lazy_mask_naming_it():
    with pytest.raises(ValueError, match="blur_function"):
        prepare(da.zeros((8, 8), chunks=4), None, lambda a: a)


# ---------------------------------------------------------------- display, limits, stats


def lazy_and_memory(m: np.ndarray, chunks, ksize) -> tuple[LazyField, Field]:
    lazy = prepare(da.from_array(m, chunks=chunks), ksize, None)
    memory = prepare(m, ksize, None)
    assert isinstance(lazy, LazyField)
    assert isinstance(memory, Field)
    return lazy, memory


@pytest.mark.parametrize("ksize", KSIZES)
@pytest.mark.parametrize("kind", ["plain", "speckle", "holes"])
def test_lazy_display_equals_in_memory_pixel_for_pixel(ksize, kind):
    rng = np.random.default_rng(KSIZES.index(ksize))
    for shape, chunks in [((150, 290), (13, 37)), ((97, 200), (40, 64)), ((64, 700), (9, 70))]:
        m = random_mask(rng, shape, kind)
        lazy, memory = lazy_and_memory(m, chunks, ksize)
        assert (lazy.data_range, lazy.all_finite) == (memory.data_range, memory.all_finite)
        got = lazy.display_base.compute()
        np.testing.assert_array_equal(got, memory.display, strict=True)


@pytest.mark.parametrize(
    "m",
    [
        np.arange(5000, dtype=np.int16).reshape(50, 100),  # integers
        np.linspace(1e9, 1e9 + 255, 5000).reshape(50, 100),  # far from zero: float64 display
        np.linspace(-1e35, 1e35, 5000).reshape(50, 100),  # beyond float32: scaled display
        np.eye(50, 100, dtype=bool),
    ],
    ids=["int16", "offset", "huge", "bool"],
)
def test_lazy_display_follows_the_in_memory_rules_for_every_dtype(m):
    lazy, memory = lazy_and_memory(m, (7, 30), (5, 5))
    np.testing.assert_array_equal(lazy.display_base.compute(), memory.display, strict=True)
    assert lazy.scale == memory.scale
    assert lazy.limits(None, None) == memory.limits(None, None)


def test_a_three_channel_lazy_mask_is_averaged_like_an_in_memory_one():
    m = np.random.default_rng(0).random((40, 60, 3))
    lazy, memory = lazy_and_memory(m, (9, 16, 3), (5, 5))
    np.testing.assert_array_equal(lazy.display_base.compute(), memory.display, strict=True)


def test_a_lazy_mask_with_nothing_finite_shows_nothing():
    lazy = prepare(da.full((20, 20), np.nan, chunks=7), (5, 5), None)
    assert lazy.data_range is None
    assert lazy.limits(None, None) is None
    assert np.isnan(lazy.display_base.compute()).all()


@pytest.mark.parametrize("pcts", [(0, 100), (2, 98), (0, 37.5), (50, 50), (99.9, 100)])
def test_lazy_limits_and_percentiles_equal_numpys(pcts):
    m = random_mask(np.random.default_rng(1), (120, 90), "speckle")
    lazy, memory = lazy_and_memory(m, (11, 16), (5, 5))
    assert lazy.limits(None, None, pcts) == memory.limits(None, None, pcts)
    assert lazy.limits(-9.0, None, pcts) == memory.limits(-9.0, None, pcts)


def test_lazy_stats_equal_the_in_memory_ones():
    m = random_mask(np.random.default_rng(2), (130, 70), "holes")
    m[0, :3] = [np.inf, -np.inf, -np.inf]
    lazy, memory = lazy_and_memory(m, (17, 9), (5, 5))
    got, want = lazy.stats, memory.stats
    assert got.keys() == want.keys()
    for key in want:
        if key in ("mean", "std"):  # summed per chunk in float64: documented as such
            assert got[key] == pytest.approx(want[key], rel=1e-12)
        else:
            assert got[key] == want[key], key


def test_percentile_search_refines_and_stops_on_equal_values(monkeypatch):
    """Force many refinement passes: few bins, tiny read-out limit, long runs of ties."""
    monkeypatch.setattr(_lazy, "HIST_BINS", 3)
    monkeypatch.setattr(_lazy, "GATHER_LIMIT", 5)
    rng = np.random.default_rng(3)
    m = np.concatenate([np.zeros(3000), rng.normal(size=2000), np.full(500, 7.25)])
    m = rng.permutation(m).astype(np.float32).reshape(55, 100)
    lazy, memory = lazy_and_memory(m, (10, 13), None)
    for key in ("p1", "p5", "p25", "p50", "p75", "p95", "p99"):
        assert lazy.stats[key] == memory.stats[key], key


def test_reblurring_a_lazy_field_keeps_what_was_measured():
    m = random_mask(np.random.default_rng(4), (60, 80), "speckle")
    lazy, memory = lazy_and_memory(m, (16, 16), (5, 5))
    stats = lazy.stats
    again = lazy.reblurred((9, 9), None)
    assert again.stats is stats
    np.testing.assert_array_equal(
        again.display_base.compute(), memory.reblurred((9, 9), None).display, strict=True
    )


def test_the_pyramid_halves_down_to_a_screenful_with_the_overview_computed(monkeypatch):
    monkeypatch.setattr(_lazy, "OVERVIEW_SIDE", 800)
    m = random_mask(np.random.default_rng(11), (5000, 3000), "speckle")
    lazy = prepare(da.from_array(m, chunks=1024), (5, 5), None)
    levels = lazy.display
    shapes = [level.shape for level in levels]
    assert shapes == [(5000, 3000), (2500, 1500), (1250, 750), (625, 375)]
    assert max(shapes[-1]) <= _lazy.PYRAMID_TOP < max(shapes[-2])
    # the base and the levels above the overview size stay lazy; the overview is computed
    assert [isinstance(level, da.Array) for level in levels] == [True, True, True, False]
    want = prepare(m, (5, 5), None).display
    for i, level in enumerate(levels):
        step = 2**i
        np.testing.assert_array_equal(np.asarray(level), want[::step, ::step], strict=False)


# ---------------------------------------------------------------- never read whole


class CountingArray:
    """A zarr-like array that counts the chunk-sized reads made of it and refuses big ones."""

    def __init__(self, data: np.ndarray, chunks: tuple[int, int]):
        self.data, self.chunks = data, chunks
        self.shape, self.dtype, self.ndim = data.shape, data.dtype, data.ndim
        self.reads: list[int] = []

    def __getitem__(self, key):
        out = self.data[key]
        limit = 4 * self.chunks[0] * self.chunks[1]
        assert out.size <= limit, f"read {out.size} elements at once (a chunk is {limit // 4})"
        if out.size:  # dask reads an empty slice for the array's type
            self.reads.append(out.size)
        return out


def test_a_lazy_mask_is_read_a_chunk_at_a_time_never_whole():
    m = random_mask(np.random.default_rng(5), (400, 512), "speckle")
    source = CountingArray(m, (40, 64))
    lazy = prepare(source, (5, 5), None)
    measured = len(source.reads)
    assert measured == 10 * 8  # one pass: every chunk once
    window = lazy.display_base[50:60, 100:130].compute()
    np.testing.assert_array_equal(window, prepare(m, (5, 5), None).display[50:60, 100:130])
    # a window reads the chunks it overlaps and their neighbours (for the blur's overlap)
    assert len(source.reads) - measured <= 3 * 4


def test_a_click_on_a_lazy_heatmap_reads_one_element(viewer):
    m = random_mask(np.random.default_rng(12), (300, 400), "speckle")
    source = CountingArray(m, (64, 64))
    hm = Heatmap(heatmap_mask=source, viewer=viewer)
    before = len(source.reads)
    assert hm.click_at((123.0, 321.0)) == (123, 321, float(m[123, 321]))
    assert source.reads[before:] == [1]


def test_progress_is_reported_for_every_pass(monkeypatch):
    bars: list[tuple[str, int, int]] = []

    class Recorder:
        def __init__(self, total: int, description: str):
            self.entry = [description, total, 0]
            bars.append(self.entry)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, n: int):
            self.entry[2] += n

    monkeypatch.setattr(_lazy, "_progress", Recorder)
    lazy = prepare(da.from_array(np.arange(600.0).reshape(20, 30), chunks=10), (5, 5), None)
    lazy.stats  # noqa: B018
    names = [b[0] for b in bars]
    assert names[0] == "measuring the mask"
    assert "statistics" in names
    assert any(n.startswith("percentiles") for n in names)
    assert all(total == done == 6 for _, total, done in bars)


def test_napari_progress_is_what_reports():
    from napari.utils import progress

    bar = _lazy._progress(3, "x")
    assert isinstance(bar, progress)
    bar.close()


# ---------------------------------------------------------------- the controller and export


def test_a_heatmap_of_a_lazy_mask_is_a_multiscale_layer_that_clicks_exactly(viewer):
    m = random_mask(np.random.default_rng(6), (2500, 1800), "rows")
    hm = Heatmap(heatmap_mask=da.from_array(m, chunks=(300, 256)), viewer=viewer)
    layer = hm.heatmap_layer
    assert layer.multiscale
    assert layer.data.shapes[0] == m.shape
    for y, x in [(0, 0), (299, 256), (300, 255), (2499, 1799), (1234, 567)]:
        assert hm.value_at(y, x) == float(m[y, x])
        got = hm.click_at((y, x))
        assert got is not None
        assert got[:2] == (y, x)
        assert got[2] == float(m[y, x]) or np.isnan(m[y, x])
    memory = Heatmap(heatmap_mask=m, viewer=viewer)
    assert hm.limits == memory.limits
    assert hm.stats["p50"] == memory.stats["p50"]


def test_switching_between_lazy_and_in_memory_masks_rebuilds_the_layer(viewer):
    m = np.random.default_rng(7).random((300, 200), dtype=np.float32)
    hm = Heatmap(heatmap_mask=m, viewer=viewer)
    assert not hm.heatmap_layer.multiscale
    hm.set_heatmap(da.from_array(m, chunks=64))
    assert hm.heatmap_layer.multiscale
    assert hm.heatmap_layer in viewer.layers
    hm.set_heatmap(m)
    assert not hm.heatmap_layer.multiscale
    assert [layer.name for layer in viewer.layers].count("Heatmap") == 1


@pytest.mark.parametrize("ksize", [(5, 5), (11, 3), None])
def test_mask_to_rgba_of_a_lazy_mask_is_lazy_and_equals_the_in_memory_picture(ksize):
    m = random_mask(np.random.default_rng(8), (90, 300), "speckle")
    lazy = mask_to_rgba(da.from_array(m, chunks=(13, 70)), "turbo", True, None, 1.5, ksize)
    assert isinstance(lazy, da.Array)
    assert lazy.shape == (90, 300, 4)
    want = mask_to_rgba(m, "turbo", True, None, 1.5, ksize)
    np.testing.assert_array_equal(lazy.compute(), want, strict=True)
    kw = {"percentiles": (5, 95)}
    np.testing.assert_array_equal(
        mask_to_rgba(da.from_array(m, chunks=16), **kw).compute(), mask_to_rgba(m, **kw)
    )


def test_a_lazy_picture_is_written_to_zarr_chunk_by_chunk(tmp_path):
    zarr = pytest.importorskip("zarr")
    m = random_mask(np.random.default_rng(9), (120, 130), "rows")
    path = tmp_path / "mask.zarr"
    source = zarr.create_array(path, shape=m.shape, chunks=(32, 64), dtype=m.dtype)
    source[...] = m
    mask_to_rgba(source).to_zarr(str(tmp_path / "rgba.zarr"))
    written = zarr.open_array(tmp_path / "rgba.zarr", mode="r")
    np.testing.assert_array_equal(written[...], mask_to_rgba(m))


def test_heatmap_to_rgba_of_a_lazy_mask_is_the_in_memory_picture(viewer):
    m = random_mask(np.random.default_rng(10), (100, 140), "speckle")
    hm = Heatmap(heatmap_mask=da.from_array(m, chunks=32), viewer=viewer, vmin=-1)
    memory = Heatmap(heatmap_mask=m, viewer=viewer, vmin=-1)
    np.testing.assert_array_equal(hm.to_rgba().compute(), memory.to_rgba())


def test_colours_of_a_lazy_heatmap_colours_the_values_given(viewer):
    """The dock's legend and histogram ask for a few colours: not the lazy picture."""
    mask = da.from_array(np.linspace(1.0, 100.0, 64 * 64).reshape(64, 64), chunks=16)
    hm = Heatmap(heatmap_mask=mask, viewer=viewer, norm="log", threshold=5.0)
    values = np.array([0.5, 4.0, 10.0, 100.0])
    in_memory = Heatmap(
        heatmap_mask=mask.compute(), viewer=viewer, norm="log", threshold=5.0
    ).colours_of(values)
    got = hm.colours_of(values)
    assert isinstance(got, np.ndarray) and got.shape == (4, 4)
    np.testing.assert_array_equal(got, in_memory)
    assert (got[:2, 3] == 0).all() and (got[2:, 3] == 255).all()
