"""From a mask to colours: reduce, infer limits, blur, colour (behaviour §2).

Pure floor: numpy and OpenCV only, no napari, no Qt. The napari layer does the colouring
on the GPU with the same rule (see ``_layers.py``); :func:`mask_to_rgba` is the CPU twin
used for export, batch work and tests.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import math
import numbers
import os
import threading
import warnings
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from ._colormaps import choose_colormap
from ._norms import LINEAR, Norm

__all__ = [
    "BlurFunction",
    "colour_indices",
    "display_field",
    "display_offset",
    "infer_limits",
    "mask_to_rgba",
    "reduce_mask",
    "validate_blur_function",
    "validate_blur_ksize",
    "validate_limit",
]

BlurFunction = Callable[[np.ndarray], np.ndarray]

#: LUT index of the colour painted everywhere when vmin == vmax.
MIDDLE_INDEX = 128


def reduce_mask(mask: object, stack: bool = False) -> np.ndarray:
    """Return *gray*, the mask reduced to 2-D, or a stack of 2-D slices (behaviour §2.1, §12).

    2-D masks are returned as they are (no copy); H×W×C masks are averaged over the
    last axis (float64); bool becomes 0/1. With ``stack=True`` every axis before the last two
    is a stack axis and nothing is averaged: an (…, H, W) mask is returned as it is. (A 3-D
    mask whose last axis is longer than 4 is probably a stack: the public calls say so, see
    :func:`ambiguous_mask_message`.) A lazy mask (dask, zarr: §13) gives a dask array.

    Raises
    ------
    TypeError
        If ``heatmap_mask`` is not an array of numbers.
    ValueError
        If ``heatmap_mask`` is empty or not 2-D / 3-D.
    """
    if isinstance(mask, np.ma.MaskedArray):  # hidden values must not blur into the rest
        dtype = mask.dtype if np.issubdtype(mask.dtype, np.floating) else np.float64
        if mask.dtype == np.bool_ or np.issubdtype(mask.dtype, np.number):
            mask = np.ma.filled(mask.astype(dtype), np.nan)
    if not isinstance(mask, np.ndarray):
        if isinstance(mask, list | tuple):
            try:
                mask = np.asarray(mask)
            except (ValueError, OverflowError) as exc:
                raise ValueError(
                    f"heatmap_mask must be a rectangular array (H×W or H×W×C) of numbers; "
                    f"got a {type(mask).__name__} NumPy cannot make one of ({exc})"
                ) from None
        else:
            from ._lazy import is_lazy, reduce_lazy

            if is_lazy(mask):  # behaviour §13: gray stays lazy, a dask array
                lazy: Any = reduce_lazy(mask)
                return lazy
            raise TypeError(
                f"heatmap_mask must be a NumPy array (H×W or H×W×C) of numbers; "
                f"got {type(mask).__name__}"
            )
    arr: np.ndarray = mask
    if arr.dtype == np.bool_:
        arr = arr.view(np.uint8)
    elif not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"heatmap_mask must hold integers, floats or bools; got dtype {arr.dtype}")
    if stack:
        return _stack_gray(arr)
    if arr.ndim not in (2, 3):
        raise ValueError(
            f"heatmap_mask must be 2-D (H×W) or 3-D (H×W×C); got shape {arr.shape}"
            + (" (for a stack of 2-D slices use stack=True)" if arr.ndim > 3 else "")
        )
    if arr.size == 0:
        raise ValueError(f"heatmap_mask must not be empty; got shape {arr.shape}")
    if arr.ndim == 3:
        return arr.mean(axis=-1, dtype=np.float64)
    return arr


#: A 3-D mask with a longer last axis than this is probably a stack (warned about, §12).
CHANNELS_MAX = 4


def ambiguous_mask_message(mask: object, stack: bool = False) -> str | None:
    """Say how a 3-D mask with many channels is read and how to read it as a stack, else None.

    None when ``stack`` is True or the mask is not 3-D with a last axis longer than
    :data:`CHANNELS_MAX` (the H×W×C reading is then the obvious one).
    """
    shape = getattr(mask, "shape", None)
    if stack or not isinstance(shape, tuple) or len(shape) != 3 or shape[-1] <= CHANNELS_MAX:
        return None
    h, w, c = shape
    return (
        f"heatmap_mask of shape {shape} was read as one {h}×{w} image with {c} channels, "
        f"averaged over its last axis; if it is a stack of {h} slices of {w}×{c}, pass "
        "stack=True"
    )


def _stack_gray(arr: np.ndarray) -> np.ndarray:
    """Return a mask read with ``stack=True``: (…, H, W) as it is (checked)."""
    if arr.ndim < 2:
        raise ValueError(
            f"heatmap_mask must be (…, H, W) with stack=True (at least 2-D); got shape {arr.shape}"
        )
    if arr.size == 0:
        raise ValueError(f"heatmap_mask must not be empty; got shape {arr.shape}")
    return arr


def finite_range(gray: np.ndarray) -> tuple[float, float] | None:
    """Return (min, max) of the finite values of gray, or None when there are none."""
    return finite_stats(gray)[0]


def finite_stats(gray: np.ndarray) -> tuple[tuple[float, float] | None, bool]:
    """Return (finite range or None, whether every value is finite) in as few passes as can be."""
    lo, hi, has_nan = _min_max(gray)
    if not has_nan and np.isfinite(lo) and np.isfinite(hi):  # fast path: no NaN, no inf
        return (float(lo), float(hi)), True
    if np.isfinite(lo) and np.isfinite(hi):  # NaN but no inf: no copy needed
        return (float(lo), float(hi)), False
    finite = gray[np.isfinite(gray)]
    if finite.size == 0:
        return None, False
    return (float(finite.min()), float(finite.max())), False


#: Elements read at a time by :func:`_min_max`: a chunk stays in the cache for its second pass.
_MINMAX_CHUNK = 2**18


def _min_max(gray: np.ndarray) -> tuple[Any, Any, bool]:
    """Return (min, max, whether there is a NaN) of gray; min and max skip NaN (NaN if all are).

    Chunk by chunk: the second look at a chunk (its max, or with a NaN its NaN-skipping min
    and max) reads the cache, not memory, so the whole costs about one pass over gray.
    """
    if not gray.flags.c_contiguous or gray.size <= _MINMAX_CHUNK:
        chunks: Any = [gray]
    else:
        flat = gray.reshape(-1)
        chunks = (flat[i : i + _MINMAX_CHUNK] for i in range(0, flat.size, _MINMAX_CHUNK))
    los, his, has_nan = [], [], False
    for chunk in chunks:
        lo = chunk.min()
        if np.isnan(lo):  # NaN propagates: this chunk needs the NaN-skipping reductions
            has_nan = True
            lo, hi = np.fmin.reduce(chunk, axis=None), np.fmax.reduce(chunk, axis=None)
        else:
            hi = chunk.max()
        los.append(lo)
        his.append(hi)
    return np.fmin.reduce(los), np.fmax.reduce(his), has_nan


def validate_limit(name: str, value: object) -> float | None:
    """Check one of ``vmin`` / ``vmax``: None or a finite real number."""
    if value is None:
        return None
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a finite number or None; got {value!r}")
    out = to_float(name, value)
    if not math.isfinite(out):
        raise ValueError(f"{name} must be a finite number or None; got {value!r}")
    return out


def to_float(name: str, value: numbers.Real) -> float:
    """Return ``float(value)``; an int too large for a float is refused, naming ``name``."""
    try:
        return float(value)
    except OverflowError:
        raise ValueError(
            f"{name} must be a number a float can hold; got an int of {_digits(value)} digits"
        ) from None


def _digits(value: object) -> int:
    """Return the number of decimal digits of an int (only ints are too large for a float)."""
    return len(str(value).lstrip("-"))


#: Above this magnitude the display field is scaled by a power of two: float32 (and the GPU)
#: could not hold the values, their blur or their range.
SAFE_MAGNITUDE = 2.0**100


def display_scale(data_range: tuple[float, float] | None) -> float:
    """Return the power of two the display field is multiplied by (1.0 for ordinary data).

    Masks with finite values beyond ±2**100 (±1.3e30) are drawn from ``gray · scale``, an
    exact scaling, so every finite value keeps its colour whatever its size.
    """
    if data_range is None:
        return 1.0
    magnitude = max(abs(data_range[0]), abs(data_range[1]))
    if magnitude <= SAFE_MAGNITUDE:
        return 1.0
    return 2.0 ** -(math.frexp(magnitude)[1] - 100)


def validate_percentiles(value: object) -> tuple[float, float]:
    """Check ``percentiles``: a pair (lo, hi) of numbers with 0 <= lo <= hi <= 100."""
    lo = hi = math.nan
    if isinstance(value, list | tuple) and len(value) == 2:
        pair: tuple[Any, ...] = tuple(value)
        if all(isinstance(v, numbers.Real) and not isinstance(v, bool | np.bool_) for v in pair):
            with contextlib.suppress(OverflowError):  # a huge int is refused below
                lo, hi = float(pair[0]), float(pair[1])
    if not 0.0 <= lo <= hi <= 100.0:  # NaN fails too
        raise ValueError(
            f"percentiles must be a pair (lo, hi) with 0 <= lo <= hi <= 100; got {value!r}"
        )
    return lo, hi


def sorted_finite(gray: np.ndarray) -> np.ndarray:
    """Return the finite values of gray, sorted, in the type NumPy's percentile works in."""
    values = gray[np.isfinite(gray)]
    if not np.issubdtype(values.dtype, np.inexact):
        values = values.astype(np.float64)
    values.sort()
    return values


def percentile_of_sorted(values: np.ndarray, q: float) -> float:
    """Return ``numpy.percentile(values, q)`` (its default "linear" method) of sorted values.

    The same arithmetic as NumPy's, in the same types, without its O(n) partition: with the
    values sorted once per mask, any percentile costs O(1).
    """
    n = values.size
    virtual = (n - 1) * np.true_divide(q, 100)
    prev = int(min(max(np.floor(virtual), 0), n - 1))
    nxt = min(prev + 1, n - 1)
    gamma = float(virtual - prev)
    a, b = values[prev], values[nxt]
    diff = b - a
    if gamma >= 0.5:
        out = np.subtract(b, diff * (1 - gamma), out=np.empty((), values.dtype))
    else:
        out = np.add(a, diff * gamma, out=np.empty((), values.dtype))
    return float(out)


def robust_range(
    gray: np.ndarray,
    data_range: tuple[float, float] | None,
    percentiles: tuple[float, float],
    values: np.ndarray | None = None,
) -> tuple[float, float] | None:
    """Return the range inferred limits come from: these percentiles of the finite values.

    ``(0, 100)`` is the finite range itself (no sort). ``values`` are the sorted finite
    values if already known (see :func:`sorted_finite`).
    """
    if data_range is None or percentiles == (0.0, 100.0):
        return data_range
    if values is None:
        values = sorted_finite(gray)
    lo = data_range[0] if percentiles[0] == 0 else percentile_of_sorted(values, percentiles[0])
    hi = data_range[1] if percentiles[1] == 100 else percentile_of_sorted(values, percentiles[1])
    return lo, hi


def infer_limits(
    data_range: tuple[float, float] | None, vmin: float | None, vmax: float | None
) -> tuple[float, float] | None:
    """Return the limits actually used (behaviour §2.2), or None if nothing is finite.

    Raises
    ------
    ValueError
        If the resulting ``vmin`` is greater than ``vmax``.
    """
    if data_range is None:
        if vmin is None and vmax is None:
            return None
        known = vmin if vmin is not None else vmax
        assert known is not None
        data_range = (known, known)
    lo = data_range[0] if vmin is None else vmin
    hi = data_range[1] if vmax is None else vmax
    if lo > hi:
        raise ValueError(
            f"vmin must not be greater than vmax; got vmin={lo!r} > vmax={hi!r}"
            + (" (the other limit was inferred from the mask)" if None in (vmin, vmax) else "")
        )
    return lo, hi


def validate_blur_ksize(blur_ksize: object) -> tuple[int, int] | None:
    """Check ``blur_ksize``: None or a pair of odd positive ints."""
    if blur_ksize is None:
        return None
    if (
        isinstance(blur_ksize, list | tuple)
        and len(blur_ksize) == 2
        and all(
            isinstance(k, int | np.integer) and not isinstance(k, bool | np.bool_)
            for k in blur_ksize
        )
        and all(int(k) > 0 and int(k) % 2 == 1 for k in blur_ksize)
    ):
        return int(blur_ksize[0]), int(blur_ksize[1])
    raise ValueError(
        f"blur_ksize must be None or a pair of odd positive ints (kx, ky); got {blur_ksize!r}"
    )


def validate_blur_function(blur_function: object) -> BlurFunction | None:
    """Check ``blur_function``: None or a callable."""
    if blur_function is None or callable(blur_function):
        return blur_function
    raise TypeError(
        f"blur_function must be None or a callable taking and returning a 2-D array; "
        f"got {blur_function!r}"
    )


def display_offset(
    data_range: tuple[float, float] | None, blur_function: BlurFunction | None = None
) -> float:
    """Return what to subtract from gray while blurring in float32, so colours stay exact.

    Data far from zero compared with its range (1e9 + 0..255, say) would lose its colour
    steps in float32: it is blurred as ``gray - offset`` in float32 and the offset is added
    back in float64, so the display field stays in data units. A custom ``blur_function``
    always works in data units (0).
    """
    if data_range is None or blur_function is not None:
        return 0.0
    lo, hi = data_range
    span = hi - lo
    if span > 0 and max(abs(lo), abs(hi)) > 2048 * span:
        return lo
    return 0.0


def display_field(
    gray: np.ndarray,
    blur_ksize: tuple[int, int] | None = (5, 5),
    blur_function: BlurFunction | None = None,
    data_range: tuple[float, float] | None = None,
    all_finite: bool | None = None,
) -> np.ndarray:
    """Return the display field: gray after the visual blur, as float32 (behaviour §2.3).

    ``blur_function`` wins over ``blur_ksize``; it receives gray as a 2-D float32 array
    in data units (NaN as NaN). The Gaussian blur uses OpenCV's sigma rule for the kernel
    and is NaN-aware: NaN pixels stay NaN and do not spread. ±inf are replaced by the
    finite maximum / minimum. Whatever a blur returns, pixels that were NaN stay NaN.

    Parameters
    ----------
    gray : numpy.ndarray
        The 2-D mask from :func:`reduce_mask`, or an (…, H, W) stack whose 2-D slices are
        blurred one by one (never across slices; ``blur_function`` gets one slice a call).
    blur_ksize : (int, int) or None
        Gaussian kernel size (odd ints), or None for no blur.
    blur_function : callable or None
        Custom blur; must return an array of gray's shape (it sees the data scaled by
        :func:`display_scale` when that is not 1).
    data_range : (float, float) or None
        The finite range of gray if already known (saves a pass).
    all_finite : bool or None
        Whether gray has no NaN or inf, if already known (saves a pass).

    Returns
    -------
    numpy.ndarray
        Data units times :func:`display_scale` (1 unless the mask holds values beyond
        ±2**100), shape of gray: float32, or float64 for data far from zero compared with its
        range (see :func:`display_offset`: float32 could not hold its colour steps). A new
        array: gray is never modified.

    Raises
    ------
    ValueError
        If ``blur_function`` raises or returns something that is not a real array of
        gray's shape, or ``blur_ksize`` is too much work for the mask (see
        :func:`check_blur_work`).
    """
    if data_range is None or all_finite is None:
        data_range, all_finite = finite_stats(gray)
    if data_range is None:  # nothing finite: show nothing
        return np.full(gray.shape, np.nan, np.float32)
    check_blur_work(gray.shape, blur_ksize if blur_function is None else None)
    scale = display_scale(data_range)
    if scale != 1.0:  # huge values: draw gray · 2**-k (exact), see display_scale
        with np.errstate(over="ignore", under="ignore"):
            gray = np.multiply(gray, scale, dtype=np.float64)
        data_range = (data_range[0] * scale, data_range[1] * scale)
    offset = display_offset(data_range, blur_function)
    if gray.ndim > 2:  # a stack (§12): each 2-D slice on its own, never across slices
        out = _blurred_slices(gray, blur_ksize, blur_function, data_range, bool(all_finite), offset)
    else:
        out = _blurred(gray, blur_ksize, blur_function, data_range, bool(all_finite), offset)
    if offset:  # back to data units, in float64 where the colour steps fit
        out = np.add(out, offset, dtype=np.float64)
    return out


def _blurred(
    gray: np.ndarray,
    blur_ksize: tuple[int, int] | None,
    blur_function: BlurFunction | None,
    data_range: tuple[float, float],
    all_finite: bool,
    offset: float,
) -> np.ndarray:
    """Return the display field minus ``offset``, as float32 (see :func:`display_field`)."""
    lo, hi = data_range[0] - offset, data_range[1] - offset
    if blur_function is None and blur_ksize is not None and not all_finite:
        return _nan_gaussian(gray, offset, lo, hi, blur_ksize)  # strip by strip: lean
    if offset:
        src = np.subtract(gray, offset, dtype=np.float64).astype(np.float32)
    else:
        src = gray.astype(np.float32, copy=gray.dtype != np.float32 or blur_function is not None)
    if not src.flags.c_contiguous:
        src = np.ascontiguousarray(src)
    nan = None
    if not all_finite:
        src = np.array(src, copy=True) if src is gray else src
        np.clip(src, lo, hi, out=src)  # ±inf -> finite extremes; NaN stays NaN
        nan = np.isnan(src)
        if not nan.any():
            nan = None

    if blur_function is not None:
        out = _call_blur_function(blur_function, src, gray.shape)
        out = out.astype(np.float32, copy=out is src or out is gray or out.dtype != np.float32)
    elif blur_ksize is not None:
        out = cv2.GaussianBlur(src, blur_ksize, 0)
    else:
        out = src if src is not gray else src.copy()

    if nan is not None:
        out[nan] = np.nan
    return out


def _blurred_slices(
    gray: np.ndarray,
    blur_ksize: tuple[int, int] | None,
    blur_function: BlurFunction | None,
    data_range: tuple[float, float],
    all_finite: bool,
    offset: float,
) -> np.ndarray:
    """Return :func:`_blurred` of every 2-D slice of an (…, H, W) stack, in one float32 array.

    The range and offset are the whole stack's, so a value has the same colour on every slice.
    """
    out = np.empty(gray.shape, np.float32)
    for index in np.ndindex(gray.shape[:-2]):
        plane = gray[index]
        finite = all_finite or bool(np.isfinite(plane).all())
        out[index] = _blurred(plane, blur_ksize, blur_function, data_range, finite, offset)
    return out


#: The most work a display blur may do: (kx + ky) × pixels. OpenCV's Gaussian blur costs
#: about that many multiply-adds; 2e9 is about a second on one core of the development machine.
BLUR_WORK_LIMIT = 2e9


def check_blur_work(shape: tuple[int, ...], blur_ksize: tuple[int, int] | None) -> None:
    """Refuse a Gaussian kernel whose blur would freeze the viewer (a stated ceiling).

    Raises
    ------
    ValueError
        Naming ``blur_ksize``, the work and the ceiling.
    """
    if blur_ksize is None:
        return
    pixels = int(np.prod(shape))  # every slice of a stack
    work = (blur_ksize[0] + blur_ksize[1]) * pixels
    if work > BLUR_WORK_LIMIT:
        largest = max(1, int(BLUR_WORK_LIMIT / pixels / 2) // 2 * 2 - 1)
        raise ValueError(
            f"blur_ksize {blur_ksize} on a {'×'.join(map(str, shape))} mask is too much work for a "
            f"display blur ((kx + ky) × pixels = {work:.3g} > {BLUR_WORK_LIMIT:.0e}); use at "
            f"most about ({largest}, {largest}) here, or a blur_function"
        )


def _call_blur_function(func: BlurFunction, src: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    try:
        out = np.asarray(func(src))
    except Exception as exc:
        raise ValueError(f"blur_function raised {exc!r}") from exc
    real = np.issubdtype(out.dtype, np.integer) or np.issubdtype(out.dtype, np.floating)
    if out.shape != shape or not (real or out.dtype == np.bool_):
        raise ValueError(
            f"blur_function must return a real-valued array of shape {shape}; got "
            f"{type(out).__name__} of shape {out.shape} and dtype {out.dtype}"
        )
    return out


#: Rows per strip of the NaN-aware blur: bounds its scratch memory to a few strips, and a
#: strip of a wide mask still fits the cache (a 4096-wide float32 strip is 2 MiB).
_STRIP_ROWS = 128

#: Threads blurring strips at once (OpenCV and NumPy let go of the GIL); 1: no thread.
_NAN_WORKERS = min(2, os.cpu_count() or 1)


def _nan_gaussian(
    gray: np.ndarray, offset: float, lo: float, hi: float, ksize: tuple[int, int]
) -> np.ndarray:
    """Gaussian blur ignoring NaN pixels (normalised convolution), ±inf clipped to [lo, hi].

    The display is ``blur(values, NaN as 0) / blur(valid)``. Works in strips of rows with a
    halo of ``ky // 2`` rows, so the result equals one blur of the whole image while the
    scratch arrays stay a strip's size (allocated once per thread, reused by every strip).
    ``blur(valid)`` is only computed on the rows a NaN can reach; every other row divides by
    the blur of an all-valid strip of the same shape, which is what ``blur(valid)`` gives
    there, bit for bit (OpenCV filters each row, then each column). A tall mask is shared
    between :data:`_NAN_WORKERS` threads, a few strips at a time (a thread slowed by other
    work on the machine takes fewer): the result is the same.
    """
    out = np.empty(gray.shape, np.float32)
    starts = list(range(0, gray.shape[0], _STRIP_ROWS))
    shift = (offset, lo, hi)
    scratch: dict[int, np.ndarray] = {}  # each thread's buffers, for this call
    if min(_NAN_WORKERS, len(starts) // 4) < 2:  # a few strips per thread at least
        _nan_gaussian_strips(gray, out, starts, shift, ksize, scratch)
        return out
    pool = _strip_pool(os.getpid())
    jobs = [
        pool.submit(_nan_gaussian_strips, gray, out, starts[i : i + 2], shift, ksize, scratch)
        for i in range(0, len(starts), 2)
    ]
    for job in jobs:
        job.result()
    return out


@functools.lru_cache(maxsize=1)
def _strip_pool(pid: int) -> concurrent.futures.ThreadPoolExecutor:
    """Return the threads of the NaN-aware blur, made on first use in this process and kept.

    Keyed by process id: a forked child cannot use its parent's threads, it makes its own.
    """
    return concurrent.futures.ThreadPoolExecutor(_NAN_WORKERS, f"napari-heatmap-blur-{pid}")


def _nan_gaussian_strips(
    gray: np.ndarray,
    out: np.ndarray,
    starts: list[int],
    shift: tuple[float, float, float],
    ksize: tuple[int, int],
    scratch: dict[int, np.ndarray],
) -> None:
    """Blur the strips of gray that start at these rows into out.

    ``scratch`` holds each thread's buffers (two strips), made by the thread's first job.
    """
    height, width = gray.shape
    halo = ksize[1] // 2
    buffers = scratch.get(threading.get_ident())
    if buffers is None:
        rows = min(height, _STRIP_ROWS + 2 * halo)
        buffers = scratch[threading.get_ident()] = np.empty((2, rows, width), np.float32)
    values, blurred = buffers
    for r0 in starts:
        r1 = min(height, r0 + _STRIP_ROWS)
        a, b = max(0, r0 - halo), min(height, r1 + halo)
        n = b - a
        _nan_gaussian_strip(gray[a:b], out[r0:r1], r0 - a, shift, ksize, values[:n], blurred[:n])


def _nan_gaussian_strip(
    rows: np.ndarray,
    out: np.ndarray,
    top: int,
    shift: tuple[float, float, float],
    ksize: tuple[int, int],
    strip: np.ndarray,
    num: np.ndarray,
) -> None:
    """Blur one strip (``rows``, halo included) into ``out``: its rows from ``top`` on.

    ``shift`` is (offset, lo, hi): values are blurred as ``clip(rows - offset, lo, hi)``.
    ``strip`` and ``num`` are scratch of the strip's shape. Only a row whose sum is not finite
    can hold a NaN or an inf (a sum that overflowed only costs useless work): those rows
    alone are clipped and patched, and the blur of the valid pixels is only computed around
    them. A few operations per strip, none over every pixel but the copy and the blur.
    """
    offset, lo, hi = shift
    if offset:
        strip[...] = np.subtract(rows, offset, dtype=np.float64)
    else:
        strip[...] = rows
    bad = ~np.isfinite(cv2.reduce(strip, 1, cv2.REDUCE_SUM)[:, 0])
    for s, e in _runs(bad):
        np.clip(strip[s:e], lo, hi, out=strip[s:e])  # ±inf -> finite extremes; NaN stays NaN
        cv2.patchNaNs(strip[s:e], 0.0)
    cv2.GaussianBlur(strip, ksize, 0, dst=num)
    inner = slice(top, top + out.shape[0])
    ones, unit = _ones_blur(strip.shape, ksize)
    halo = ksize[1] // 2
    # rows within ky // 2 of a row with NaN (or inf: harmless, blur(valid) is then blur(ones))
    near = np.convolve(bad.view(np.uint8), np.ones(2 * halo + 1, np.int32))
    reach = near[top + halo : top + halo + out.shape[0]] > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        if np.count_nonzero(reach) * 2 > reach.size:  # NaN nearly everywhere: blur it all
            valid = rows == rows  # not NaN
            den = cv2.GaussianBlur(valid.astype(np.float32), ksize, 0)
            np.divide(num[inner], den[inner], out=out)
            np.copyto(out, np.float32(np.nan), where=~valid[inner])
            return
        if unit:
            out[...] = num[inner]
        else:
            np.divide(num[inner], ones[inner], out=out)
        for s, e in _runs(reach):  # rows a NaN reaches: blur(valid) on a band around them
            ba, bb = max(0, top + s - halo), min(rows.shape[0], top + e + halo)
            valid = rows[ba:bb] == rows[ba:bb]
            den = cv2.GaussianBlur(valid.astype(np.float32), ksize, 0)
            i0, i1 = top + s - ba, top + e - ba
            np.divide(num[top + s : top + e], den[i0:i1], out=out[s:e])
            np.copyto(out[s:e], np.float32(np.nan), where=~valid[i0:i1])


@functools.lru_cache(maxsize=8)
def _ones_blur(shape: tuple[int, int], ksize: tuple[int, int]) -> tuple[np.ndarray, bool]:
    """Return blur(valid) of an all-valid strip of this shape, and whether it is all 1.0."""
    ones = cv2.GaussianBlur(np.ones(shape, np.float32), ksize, 0)
    ones.flags.writeable = False
    return ones, bool((ones == 1.0).all())


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """Return the (start, stop) of each run of True in a 1-D bool array."""
    edges = np.flatnonzero(np.diff(np.concatenate(([False], flags, [False])).astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def is_constant(limits: tuple[float, float] | None) -> bool:
    """Whether the limits are equal: every finite value then gets the middle colour."""
    return limits is not None and limits[0] == limits[1]


def colour_indices(
    display: np.ndarray,
    limits: tuple[float, float],
    norm: Norm = LINEAR,
    scale: float = 1.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Return LUT indices (uint8) and t in [0, 1] for a display field (behaviour §2.4, §11).

    ``limits`` are in data units; the display field holds data units times ``scale`` (see
    :func:`display_scale`). NaN pixels get index 0 and t = NaN.
    """
    d = display.astype(np.float64, copy=False)
    if is_constant(limits):  # vmin == vmax: the middle colour under every norm
        t = np.where(np.isnan(d), np.nan, 0.5)
        idx = np.full(d.shape, MIDDLE_INDEX, np.uint8)
        return idx, t
    if norm.linear:
        lo, hi = scaled(limits, scale)  # type: ignore[misc]
        with np.errstate(invalid="ignore"):
            t = np.clip((d - lo) / (hi - lo), 0.0, 1.0)  # display_scale keeps hi - lo finite
    else:
        t = np.clip(norm.t(d if scale == 1.0 else d / scale, limits), 0.0, 1.0)
    # floor(255 t + 0.5): halves round up, as the GPU's uniform colour bins do
    idx = np.floor(np.nan_to_num(t, nan=0.0) * 255.0 + 0.5).astype(np.uint8)
    return idx, t


#: Pixels coloured at a time: the float64 scratch arrays stay a strip's size (2 MiB each).
_COLOUR_PIXELS = 2**18


def rgba_from_display(
    display: np.ndarray,
    limits: tuple[float, float] | None,
    colormap: object,
    transparent_low: bool,
    *,
    norm: Norm = LINEAR,
    threshold: float | None = None,
    scale: float = 1.0,
) -> np.ndarray:
    """Colour a display field with the rule of behaviour §2.4-§2.5 and §11: the one recipe.

    The colour of a value is the colormap's table entry at ``floor(255 t + 0.5)``, t as the
    ``norm`` computes it; NaN is transparent; with ``transparent_low`` so is t < 1/255,
    except when vmin == vmax (every finite value gets the middle colour); so are display
    values below ``threshold``. The napari colormap (``_layers.py``) and the legend draw with
    this rule too. ``limits`` and ``threshold`` are in data units, the display field in data
    units times ``scale``. Works in strips of rows, so its scratch memory stays small beside
    the (..., 4) result.
    """
    out = np.zeros((*display.shape, 4), np.uint8)
    if limits is None:
        return out
    table = choose_colormap(colormap).table
    hide_low = transparent_low and not is_constant(limits)
    flat = display.reshape(-1, display.shape[-1]) if display.ndim > 1 else display[None]
    rgba = out.reshape(*flat.shape, 4)
    step = max(1, _COLOUR_PIXELS // max(1, flat.shape[1]))
    for r0 in range(0, flat.shape[0], step):
        rows = slice(r0, r0 + step)
        idx, t = colour_indices(flat[rows], limits, norm, scale)
        strip = rgba[rows]
        strip[...] = table[idx]
        hidden = np.isnan(t)
        if hide_low:
            hidden |= t < 1.0 / 255.0
        if threshold is not None:
            hidden |= flat[rows] < threshold * scale
        strip[..., 3][hidden] = 0
    return out


def mask_to_rgba(
    mask: Any,
    colormap: object = cv2.COLORMAP_JET,
    transparent_low: bool = False,
    vmin: float | None = None,
    vmax: float | None = None,
    blur_ksize: tuple[int, int] | None = (5, 5),
    blur_function: BlurFunction | None = None,
    *,
    percentiles: tuple[float, float] = (0.0, 100.0),
    norm: str = "linear",
    linthresh: float = 1.0,
    vcenter: float = 0.0,
    threshold: float | None = None,
    stack: bool = False,
) -> np.ndarray:
    """Render a mask to an RGBA image, with no viewer, no Qt and no GPU.

    The picture is the one the napari layer shows (before layer opacity): see the
    behaviour §2 and §11 for every rule.

    Parameters
    ----------
    mask : numpy.ndarray
        H×W or H×W×C numbers (H×W×C are averaged over the last axis).
    colormap : int, str or napari.utils.Colormap
        OpenCV colormap constant or name (these come first), else any colormap napari
        knows (napari is imported then).
    transparent_low : bool
        Make pixels that would get the lowest colour fully transparent.
    vmin, vmax : float or None
        Limits; None infers from the finite values.
    blur_ksize : (int, int) or None
        Gaussian kernel (odd ints) or None for no blur.
    blur_function : callable or None
        Custom blur, wins over ``blur_ksize``.
    percentiles : (float, float)
        An inferred (None) vmin / vmax is this percentile of the finite values (NumPy's
        default method); ``(0, 100)`` is their minimum and maximum.
    norm : {"linear", "log", "symlog", "centered"}
        How a display value becomes t (matplotlib's norms; behaviour §11).
    linthresh : float
        The "symlog" norm's linear range (> 0).
    vcenter : float
        The "centered" norm's centre.
    threshold : float or None
        Display values below it are transparent.
    stack : bool
        Read an (…, H, W) mask as a stack of 2-D slices (behaviour §12): each slice is
        blurred on its own; limits and percentiles are over the whole stack.

    Returns
    -------
    numpy.ndarray or dask.array.Array
        (H, W, 4) uint8 RGBA (not OpenCV's BGRA); (…, H, W, 4) for a stack; for a lazy mask
        (dask, zarr: §13) a dask array, computed chunk by chunk when it is (e.g.
        ``.to_zarr(path)``).
    """
    from ._field import prepare
    from ._lazy import LazyField
    from ._settings import Settings

    if not isinstance(stack, bool | np.bool_):
        raise TypeError(f"stack must be True or False; got {stack!r}")
    choice = choose_colormap(colormap)  # validates the colormap before any work
    s = Settings(colormap=choice).replace(
        transparent_low=transparent_low,
        vmin=vmin,
        vmax=vmax,
        blur_ksize=blur_ksize,
        blur_function=blur_function,
        percentiles=percentiles,
        norm=norm,
        linthresh=linthresh,
        vcenter=vcenter,
        threshold=threshold,
    )
    field = prepare(mask, s.blur_ksize, s.blur_function, bool(stack))
    message = ambiguous_mask_message(mask, bool(stack))
    if message is not None:  # read as H×W×C, as without stacks; but probably a stack
        warnings.warn(message, UserWarning, stacklevel=2)
    limits = field.limits(s.vmin, s.vmax, s.percentiles, s.norm_spec)
    if isinstance(field, LazyField):  # §13: a lazy picture, coloured chunk by chunk
        lazy: Any = field.rgba(
            limits, choice, s.transparent_low, norm=s.norm_spec, threshold=s.threshold
        )
        return lazy
    return rgba_from_display(
        field.display,
        limits,
        choice,
        s.transparent_low,
        norm=s.norm_spec,
        threshold=s.threshold,
        scale=field.scale,
    )


def scaled(limits: tuple[float, float] | None, scale: float) -> tuple[float, float] | None:
    """Return limits in the display field's units (see :func:`display_scale`)."""
    if limits is None or scale == 1.0:
        return limits
    return limits[0] * scale, limits[1] * scale
