"""The NaN-aware display blur (behaviour §2.3) and the finite range, on masks of many strips.

The blur works in strips of rows shared between threads and skips the rows without NaN or
inf; whatever the split, the display field must be the normalised convolution of the whole
image, bit for bit. Pure floor: no napari, no Qt.
"""

from __future__ import annotations

import multiprocessing

import cv2
import numpy as np
import pytest

from napari_heatmap import _pipeline as pl
from napari_heatmap._pipeline import display_field, finite_stats

KSIZES = [(5, 5), (11, 11), (3, 9), (31, 31), (1, 21), (21, 1)]


def nan_patterns(height: int = 1500, width: int = 260) -> dict[str, np.ndarray]:
    """Masks tall enough for several strips per thread, with NaN in many arrangements."""
    rng = np.random.default_rng(12)
    base = rng.uniform(-3, 10, (height, width)).astype(np.float32)
    out = {}
    m = base.copy()
    m[::64] = np.nan
    out["every 64th row"] = m
    m = base.copy()
    yy, xx = np.ogrid[:height, :width]
    for cy, cx, r in ((127, 40, 9), (640, 250, 30), (1499, 0, 12), (900, 130, 60)):
        m[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = np.nan
    out["discs, at borders and across strips"] = m
    m = base.copy()
    m[rng.random(m.shape) < 0.002] = np.nan
    out["isolated pixels"] = m
    m = base.copy()
    m[0], m[-1], m[:, 0], m[:, -1] = np.nan, np.nan, np.nan, np.nan
    out["NaN borders"] = m
    m = base.copy()
    m[300:700] = np.nan  # whole strips of NaN
    out["NaN strips"] = m
    m = base.copy()
    m[1::2] = np.nan
    out["every other row"] = m
    return out


def normalised_convolution(values: np.ndarray, ksize: tuple[int, int]) -> np.ndarray:
    """blur(values, NaN as 0) / blur(valid) over the whole image, NaN where values were NaN."""
    nan = np.isnan(values)
    num = cv2.GaussianBlur(np.where(nan, 0, values).astype(np.float32), ksize, 0)
    den = cv2.GaussianBlur((~nan).astype(np.float32), ksize, 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / den
    out[nan] = np.nan
    return out


@pytest.mark.parametrize("ksize", KSIZES)
def test_nan_blur_is_the_whole_image_normalised_convolution_bit_for_bit(ksize):
    for name, m in nan_patterns().items():
        out = display_field(m, ksize, None)
        ref = normalised_convolution(m, ksize)
        assert out.dtype == np.float32
        assert np.array_equal(out, ref, equal_nan=True), name


@pytest.mark.parametrize("ksize", [(5, 5), (3, 41), (1, 61), (9, 9)])
def test_masks_shorter_than_the_kernel_follow_the_same_rule(ksize):
    rng = np.random.default_rng(8)
    for height in range(1, 40):
        m = rng.uniform(0, 5, (height, 9)).astype(np.float32)
        m[-1, 4] = np.nan  # rows far above it are still within the kernel's reach
        ref = normalised_convolution(m, ksize)
        assert np.array_equal(display_field(m, ksize, None), ref, equal_nan=True), height


def test_inf_is_clipped_to_the_finite_extremes_in_the_rows_that_hold_it():
    m = nan_patterns()["every 64th row"]
    m[5, 7], m[700, 3], m[1400, 250] = np.inf, -np.inf, np.inf
    m[64, 9] = np.inf  # beside NaN in the same row
    finite = m[np.isfinite(m)]
    clipped = np.where(np.isposinf(m), finite.max(), np.where(np.isneginf(m), finite.min(), m))
    out = display_field(m, (5, 5), None)
    assert np.array_equal(out, normalised_convolution(clipped, (5, 5)), equal_nan=True)


@pytest.mark.parametrize("ksize", [(5, 5), (11, 11)])
def test_threads_and_strips_do_not_change_a_pixel(monkeypatch, ksize):
    masks = nan_patterns(2100, 70)
    one_thread = {}
    monkeypatch.setattr(pl, "_NAN_WORKERS", 1)
    for name, m in masks.items():
        one_thread[name] = display_field(m, ksize, None)
    for workers, rows in ((2, 128), (3, 64), (2, 1000)):
        monkeypatch.setattr(pl, "_NAN_WORKERS", workers)
        monkeypatch.setattr(pl, "_STRIP_ROWS", rows)
        for name, m in masks.items():
            out = display_field(m, ksize, None)
            assert np.array_equal(out, one_thread[name], equal_nan=True), (name, workers, rows)


def _blur_in_child(queue: multiprocessing.Queue) -> None:
    m = nan_patterns(1100, 40)["every 64th row"]
    out = display_field(m, (5, 5), None)
    queue.put(np.array_equal(out, normalised_convolution(m, (5, 5)), equal_nan=True))


@pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="no fork on this platform"
)
def test_a_forked_process_blurs_with_threads_of_its_own():
    m = nan_patterns(1100, 40)["every 64th row"]
    display_field(m, (5, 5), None)  # this process's threads exist now
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_blur_in_child, args=(queue,))
    child.start()
    try:
        assert queue.get(timeout=60) is True  # the parent's threads are not in the child
    finally:
        child.join(10)
        if child.is_alive():
            child.kill()


def finite_stats_reference(gray: np.ndarray) -> tuple[tuple[float, float] | None, bool]:
    finite = gray[np.isfinite(gray)]
    rng = None if finite.size == 0 else (float(finite.min()), float(finite.max()))
    return rng, bool(np.isfinite(gray).all())


def stats_cases() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(4)
    n = pl._MINMAX_CHUNK
    values = rng.normal(0, 5, 3 * n + 17)
    cases = {"float64 over chunks": values.reshape(-1, 1)}
    one = values.copy()
    one[n + 5] = np.nan  # NaN in one chunk only
    cases["NaN in one chunk"] = one.reshape(-1, 1)
    nan_chunk = values.copy()
    nan_chunk[:n] = np.nan  # a whole chunk of NaN: its min and max are NaN
    nan_chunk[2 * n] = -40.0  # the minimum in another chunk
    cases["a chunk all NaN"] = nan_chunk.reshape(-1, 1)
    inf = values.astype(np.float32)
    inf[2 * n + 1] = -np.inf
    inf[3] = np.nan
    cases["inf and NaN in different chunks"] = inf.reshape(-1, 1)
    cases["all NaN"] = np.full((n + 3, 2), np.nan, np.float32)
    cases["ints"] = rng.integers(-1000, 1000, (3 * n + 1,)).reshape(-1, 1)
    cases["not contiguous"] = one.reshape(-1, 1)[::3]
    stack = rng.random((3, 300, 1000)).astype(np.float32)
    stack[2, 7, 9] = np.nan
    cases["stack"] = stack
    return cases


@pytest.mark.parametrize("name", list(stats_cases()))
def test_finite_stats_chunk_by_chunk_are_the_finite_min_and_max(name):
    gray = stats_cases()[name]
    assert finite_stats(gray) == finite_stats_reference(gray)
