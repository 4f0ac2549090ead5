"""Masks larger than memory: the lazy twin of :class:`~napari_heatmap._field.Field` (§13).

A lazy mask is a dask array, a zarr array or anything with ``shape``, ``dtype``, ``chunks``
and NumPy-style slicing. It is never read whole: the display field is a dask array blurred
chunk by chunk (each chunk with the overlap the kernel reaches, through the very
:func:`~napari_heatmap._pipeline.display_field` an in-memory mask goes through, so every
display pixel equals the in-memory one bit for bit), shown as a lazily computed pyramid;
min/max, counts, percentiles and ``stats`` come from passes over the chunks with napari's
``progress``.

Pure floor apart from ``progress``: dask and napari are imported when a lazy mask comes.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _pipeline as pl

if TYPE_CHECKING:
    import dask.array as da

__all__ = ["LazyField", "is_lazy", "lazy_rgba", "prepare_lazy", "reduce_lazy"]

#: Every chunk of the display field starts at a column that is a multiple of this, and is a
#: multiple of it wide (but the last): OpenCV's column filter does its last ``width % 8`` or so
#: columns in scalar code that rounds differently from its vector code, so only windows laid
#: out on the same grid as the whole image give the in-memory blur bit for bit.
ALIGN = 64

#: The coarsest pyramid level is at most this many pixels on its longer side.
PYRAMID_TOP = 1024

#: Pyramid levels of at most this many pixels on their longer side are computed at once.
OVERVIEW_SIDE = 4096

#: Bins of each histogram pass of the percentile search.
HIST_BINS = 4096

#: A value range holding at most this many values is read out and sorted (float32: 16 MiB).
GATHER_LIMIT = 2**22

#: The order of the counts kept per field.
_COUNTS = ("count", "finite", "nan", "posinf", "neginf")


def is_lazy(mask: object) -> bool:
    """Whether ``mask`` is a lazy array: not NumPy, but with shape, dtype, chunks and slicing."""
    return (
        not isinstance(mask, np.ndarray | list | tuple)
        and all(hasattr(mask, name) for name in ("shape", "dtype", "chunks"))
        and hasattr(type(mask), "__getitem__")
    )


def reduce_lazy(mask: Any) -> da.Array:
    """Return gray of a lazy mask as a dask array (behaviour §2.1; nothing is read).

    Raises
    ------
    TypeError
        If ``heatmap_mask`` does not hold numbers.
    ValueError
        If ``heatmap_mask`` is empty or not 2-D / 3-D.
    """
    import dask.array as da

    dtype = np.dtype(mask.dtype)
    numeric = np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)
    if not (dtype == np.bool_ or numeric):
        raise TypeError(f"heatmap_mask must hold integers, floats or bools; got dtype {dtype}")
    shape = tuple(int(n) for n in mask.shape)
    if len(shape) not in (2, 3):
        raise ValueError(f"heatmap_mask must be 2-D (H×W) or 3-D (H×W×C); got shape {shape}")
    if 0 in shape:
        raise ValueError(f"heatmap_mask must not be empty; got shape {shape}")
    arr = mask if isinstance(mask, da.Array) else da.from_array(mask, chunks=mask.chunks)
    if dtype == np.bool_:
        arr = arr.astype(np.uint8)
    if arr.ndim == 3:
        arr = arr.mean(axis=-1, dtype=np.float64)
    return arr


# --------------------------------------------------------------------------- passes


def _progress(total: int, description: str) -> Any:
    """Napari's progress bar (a tqdm): shown in the viewer's activity dock and in scripts."""
    from napari.utils import progress

    return progress(total=total, desc=f"napari-heatmap: {description}")


def compute(arrays: Sequence[Any], counted: Sequence[Any], description: str) -> tuple[Any, ...]:
    """Compute dask collections together, with a progress step per task of ``counted``.

    One dask computation: every chunk is read once and let go of when its dependents are
    done, so memory stays a few chunks deep whatever the size of the mask.
    """
    import dask
    from dask.callbacks import Callback

    keys = {key for collection in counted for key in _flat_keys(collection)}
    with _progress(len(keys), description) as bar:

        def done(key: Any, *_: Any) -> None:
            if key in keys:
                bar.update(1)

        with Callback(posttask=done):
            return tuple(dask.compute(*arrays))


def _flat_keys(collection: Any) -> list[Any]:
    keys = collection.__dask_keys__()
    while keys and isinstance(keys[0], list):
        keys = [k for sub in keys for k in sub]
    return list(keys)


def scan(gray: da.Array, func: Callable[[np.ndarray], Any], description: str) -> list[Any]:
    """Return ``func(chunk)`` for every chunk of gray (one dask pass, with progress)."""
    import dask

    tasks = [dask.delayed(func)(block) for block in gray.to_delayed().ravel()]
    return list(compute(tasks, tasks, description))


def _finite(block: np.ndarray) -> np.ndarray:
    """Return the finite values of a chunk, 1-D, in the type NumPy's percentile works in."""
    values = block[np.isfinite(block)] if np.issubdtype(block.dtype, np.floating) else block
    values = values.ravel()
    return values if np.issubdtype(values.dtype, np.inexact) else values.astype(np.float64)


def _range_and_counts(block: np.ndarray) -> tuple[float, float, np.ndarray]:
    values = _finite(block)
    floating = np.issubdtype(block.dtype, np.floating)
    counts = np.array(
        [
            block.size,
            values.size,
            int(np.isnan(block).sum()) if floating else 0,
            int(np.isposinf(block).sum()) if floating else 0,
            int(np.isneginf(block).sum()) if floating else 0,
        ],
        np.int64,
    )
    if values.size == 0:
        return math.inf, -math.inf, counts
    return float(values.min()), float(values.max()), counts


def measure(gray: da.Array) -> tuple[tuple[float, float] | None, dict[str, int]]:
    """One pass: the exact finite range of gray (None: nothing finite) and its counts."""
    lo, hi = math.inf, -math.inf
    counts = np.zeros(len(_COUNTS), np.int64)
    for b_lo, b_hi, b_counts in scan(gray, _range_and_counts, "measuring the mask"):
        lo, hi = min(lo, b_lo), max(hi, b_hi)
        counts += b_counts
    data_range = None if counts[1] == 0 else (lo, hi)
    return data_range, dict(zip(_COUNTS, (int(c) for c in counts), strict=True))


def _moments(block: np.ndarray) -> tuple[int, float, float]:
    values = _finite(block)
    if values.size == 0:
        return 0, 0.0, 0.0
    mean = float(np.mean(values, dtype=np.float64))
    m2 = float(np.sum(np.square(values.astype(np.float64) - mean)))
    return values.size, mean, m2


def _combine_moments(parts: Sequence[tuple[int, float, float]]) -> tuple[float, float]:
    """Chan et al.'s pairwise update: (mean, population variance) of all the parts."""
    n, mean, m2 = 0, 0.0, 0.0
    for nb, mb, m2b in parts:
        if nb == 0:
            continue
        total = n + nb
        delta = mb - mean
        mean += delta * nb / total
        m2 += m2b + delta * delta * n * nb / total
        n = total
    return mean, (m2 / n if n else math.nan)


@dataclass
class _Target:
    """A search for the value of one rank (0-based, among the sorted finite values).

    The value lies in ``(low, high]`` where ``below`` values lie at or below ``low``, and
    ``inside`` values lie inside (None: not counted yet).
    """

    rank: int
    low: float
    high: float
    below: int
    inside: int | None
    value: float | None = None


def _histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Count values in the bins ``(edges[i], edges[i + 1]]`` (every value is inside)."""
    n = edges.size - 1
    guess = (values - edges[0]) * (n / (edges[-1] - edges[0]))
    idx = np.clip(guess.astype(np.int64), 0, n - 1)
    wrong = (values <= edges[idx]) | (values > edges[idx + 1])
    if wrong.any():  # next to an edge the arithmetic can be off: ask the edges themselves
        idx[wrong] = np.searchsorted(edges, values[wrong], side="left") - 1
    return np.bincount(idx, minlength=n)


def _select(
    block: np.ndarray,
    gather: list[tuple[float, float]],
    edges: dict[tuple[float, float], np.ndarray],
) -> dict[tuple[float, float], Any]:
    """Return, for each range (a, b], its values in this chunk, or their histogram and range."""
    values = _finite(block)
    out: dict[tuple[float, float], Any] = {}
    for a, b in (*gather, *edges):
        # float64 bounds: compared as float64, never rounded to the values' type
        sel = values[(values > np.float64(a)) & (values <= np.float64(b))]
        if (a, b) in edges:
            low, high = (sel.min(), sel.max()) if sel.size else (None, None)
            out[(a, b)] = (_histogram(sel, edges[(a, b)]), low, high)
        else:
            out[(a, b)] = sel
    return out


def order_statistics(
    gray: da.Array, ranks: Sequence[int], data_range: tuple[float, float], n_finite: int
) -> dict[int, float]:
    """Return the exact value of each rank (0-based) among the sorted finite values of gray.

    Histogram refinement: each pass over the chunks counts the values of every open range in
    :data:`HIST_BINS` bins and narrows it to the bin holding its rank; a range of at most
    :data:`GATHER_LIMIT` values is read out and sorted; a range whose values are all equal
    is done. Usually two passes; never more than the mask's memory in flight.
    """
    lo, hi = data_range
    start = float(np.nextafter(lo, -math.inf))
    targets = [_Target(r, start, hi, 0, n_finite) for r in sorted(set(ranks))]
    passes = 0
    while any(t.value is None for t in targets):
        passes += 1
        open_ranges = sorted({(t.low, t.high, t.inside or 0) for t in targets if t.value is None})
        gather = [(a, b) for a, b, n in open_ranges if n <= GATHER_LIMIT]
        split = [(a, b) for a, b, n in open_ranges if n > GATHER_LIMIT]
        edges = {r: np.linspace(r[0], r[1], HIST_BINS + 1) for r in split}

        results: dict[tuple[float, float], list[Any]] = {r: [] for r in (*gather, *split)}
        per_chunk = functools.partial(_select, gather=gather, edges=edges)
        for part in scan(gray, per_chunk, f"percentiles (pass {passes})"):
            for key, value in part.items():
                results[key].append(value)
        for key in gather:
            values = np.sort(np.concatenate(results[key]))
            for t in targets:
                if t.value is None and (t.low, t.high) == key:
                    t.value = float(values[t.rank - t.below])
        for key in split:
            parts = results[key]
            counts = np.sum([p[0] for p in parts], axis=0)
            mins = [p[1] for p in parts if p[1] is not None]
            maxs = [p[2] for p in parts if p[2] is not None]
            cum = np.cumsum(counts)
            for t in targets:
                if t.value is not None or (t.low, t.high) != key:
                    continue
                if min(mins) == max(maxs):  # every value of the range is the same
                    t.value = float(min(mins))
                    continue
                i = int(np.searchsorted(cum, t.rank - t.below, side="right"))
                t.below += int(cum[i - 1]) if i else 0
                t.low, t.high = float(edges[key][i]), float(edges[key][i + 1])
                t.inside = int(counts[i])
    return {t.rank: float(t.value) for t in targets if t.value is not None}


class _Ranks:
    """Stands for the sorted finite values in :func:`_pipeline.percentile_of_sorted`.

    First it records which ranks a percentile reads; then it gives their values.
    """

    def __init__(self, size: int, dtype: np.dtype, known: dict[int, float] | None = None):
        self.size = size
        self.dtype = dtype
        self.known = known
        self.asked: set[int] = set()

    def __getitem__(self, rank: int) -> Any:
        self.asked.add(int(rank))
        value = 0.0 if self.known is None else self.known[int(rank)]
        return self.dtype.type(value)


def percentiles_of(
    gray: da.Array,
    qs: Sequence[float],
    data_range: tuple[float, float],
    n_finite: int,
) -> dict[float, float]:
    """Return ``numpy.percentile`` (linear method) of the finite values for each q, exactly."""
    dtype = gray.dtype if np.issubdtype(gray.dtype, np.inexact) else np.dtype(np.float64)
    recorder = _Ranks(n_finite, dtype)
    for q in qs:
        pl.percentile_of_sorted(recorder, q)  # type: ignore[arg-type]
    known = order_statistics(gray, sorted(recorder.asked), data_range, n_finite)
    ranked = _Ranks(n_finite, dtype, known)
    return {q: pl.percentile_of_sorted(ranked, q) for q in qs}  # type: ignore[arg-type]


# --------------------------------------------------------------------------- display


def _aligned_chunks(chunks: Sequence[int], depth: int, align: int) -> tuple[int, ...]:
    """Return chunk sizes along one axis with bounds on multiples of ``align``.

    The last chunk ends where the axis does; each is at least ``depth`` long, so that an
    overlap reaches one neighbour only.
    """
    size = int(sum(chunks))
    ends = {min(size, round(int(b) / align) * align) for b in np.cumsum(chunks)[:-1]}
    bounds = [0, *sorted(b for b in ends if 0 < b < size), size]
    out = [b - a for a, b in itertools.pairwise(bounds)]
    while len(out) > 1 and min(out) < max(depth, 1):
        i = int(np.argmin(out))
        j = i - 1 if i > 0 else 1  # merge with the chunk before (bounds stay on the grid)
        out[min(i, j)] += out[max(i, j)]
        del out[max(i, j)]
    return tuple(out)


def display_array(
    gray: da.Array,
    blur_ksize: tuple[int, int] | None,
    data_range: tuple[float, float],
    all_finite: bool,
) -> da.Array:
    """Return the display field as a dask array, each chunk blurred with the overlap it needs.

    Every chunk goes through :func:`_pipeline.display_field` with the whole mask's range
    and finiteness, on a window laid out on the whole image's column grid (see
    :data:`ALIGN`), so each pixel equals the in-memory display field's exactly.
    """
    import dask.array as da

    scale = pl.display_scale(data_range)
    scaled = (data_range[0] * scale, data_range[1] * scale)
    dtype = np.dtype(np.float64 if pl.display_offset(scaled) else np.float32)
    ky, kx = (0, 0) if blur_ksize is None else (blur_ksize[1] // 2, blur_ksize[0] // 2)
    x_depth = -(-kx // ALIGN) * ALIGN
    rows = _aligned_chunks(gray.chunks[0], ky, 1)
    cols = _aligned_chunks(gray.chunks[1], x_depth, ALIGN)
    if len(cols) == 1:
        x_depth = 0
    chunks = gray.chunks
    if (rows, cols) != chunks:
        gray = gray.rechunk((rows, cols))
    pl.check_blur_work((max(rows) + 2 * ky, max(cols) + 2 * x_depth), blur_ksize)

    def block(chunk: np.ndarray) -> np.ndarray:
        return pl.display_field(chunk, blur_ksize, None, data_range, all_finite).astype(
            dtype, copy=False
        )

    depth = {0: ky if len(rows) > 1 else 0, 1: x_depth}
    meta = np.empty((0, 0), dtype)
    if depth == {0: 0, 1: 0}:
        out = da.map_blocks(block, gray, dtype=dtype, meta=meta)
    else:
        out = da.map_overlap(block, gray, depth=depth, boundary="none", dtype=dtype, meta=meta)
    return out if out.chunks == chunks else out.rechunk(chunks)  # the mask's chunks again


def pyramid(base: da.Array, top: int = PYRAMID_TOP) -> list[da.Array]:
    """Return levels for napari's multiscale view: the base, then every 2nd, 4th, ... pixel.

    Taking pixels (not averaging) keeps every value on screen a true display value, so its
    colour is the one the colour rule gives it; the coarsest level fits in ``top`` pixels.
    """
    levels = [base]
    step = 2
    while max(levels[-1].shape) > top:
        levels.append(base[::step, ::step])
        step *= 2
    return levels


def overview(levels: list[da.Array], side: int | None = None) -> list[Any]:
    """Return the pyramid with its levels of at most ``side`` pixels computed, in one pass.

    ``side`` defaults to :data:`OVERVIEW_SIDE`.

    The whole-image views (the first picture, the thumbnail, zooming out) then cost nothing
    and need no cache; the finer levels stay lazy and are computed where the view is.
    """
    side = OVERVIEW_SIDE if side is None else side
    small = [i for i, level in enumerate(levels) if i > 0 and max(level.shape) <= side]
    if not small:
        return list(levels)
    found = compute([levels[i] for i in small], [levels[0]], "drawing the overview")
    out: list[Any] = list(levels)
    for i, array in zip(small, found, strict=True):
        out[i] = array
    return out


# --------------------------------------------------------------------------- the field


@dataclass(frozen=True, eq=False)
class LazyField:
    """A prepared lazy mask: what the controller uses of a :class:`~napari_heatmap._field.Field`.

    Attributes
    ----------
    mask : array-like
        The mask exactly as given.
    gray : dask.array.Array
        The mask reduced to 2-D (never computed whole; a click reads one element).
    data_range : (float, float) or None
        Exact finite min and max of gray; None when nothing is finite.
    all_finite : bool
        Whether gray has no NaN and no inf.
    counts : dict
        ``count``, ``finite``, ``nan``, ``posinf``, ``neginf``.
    blur_ksize : (int, int) or None
        The display blur (a ``blur_function`` cannot be applied chunk by chunk).
    """

    mask: Any
    gray: da.Array
    data_range: tuple[float, float] | None
    all_finite: bool
    counts: dict[str, int]
    blur_ksize: tuple[int, int] | None
    _percentiles: dict[float, float] = field(default_factory=dict, repr=False)

    lazy = True

    @property
    def scale(self) -> float:
        """The power of two the display field holds the data at (1.0 for ordinary data)."""
        return pl.display_scale(self.data_range)

    @property
    def stack_shape(self) -> tuple[int, ...]:
        """The stack axes' shape: () (lazy stacks are not supported yet)."""
        return ()

    @property
    def plane_shape(self) -> tuple[int, int]:
        """The (H, W) of the mask."""
        return int(self.gray.shape[-2]), int(self.gray.shape[-1])

    @cached_property
    def display_base(self) -> da.Array:
        """The full-resolution display field (a dask array; NaN everywhere if nothing is finite)."""
        if self.data_range is None:
            import dask.array as da

            return da.full(self.gray.shape, np.nan, np.float32, chunks=self.gray.chunks)
        return display_array(self.gray, self.blur_ksize, self.data_range, self.all_finite)

    @cached_property
    def display(self) -> list[Any]:
        """The display field as napari's multiscale data: a list of ever coarser levels.

        The base and the finer levels are dask arrays; levels of at most
        :data:`OVERVIEW_SIDE` pixels are computed now, in one pass (see :func:`overview`).
        """
        return overview(pyramid(self.display_base))

    def value(self, y: int, x: int) -> float:
        """Return gray at (y, x), reading one element (straight from a 2-D source, no dask)."""
        import dask.array as da

        if self.gray.ndim == len(self.mask.shape) and not isinstance(self.mask, da.Array):
            return float(np.asarray(self.mask[y : y + 1, x : x + 1]).reshape(()))
        return float(self.gray[y, x].compute())

    def percentiles(self, qs: Sequence[float]) -> dict[float, float]:
        """Return these percentiles of the finite values (exact; computed once each)."""
        missing = [q for q in qs if q not in self._percentiles]
        if missing and self.data_range is not None:
            self._percentiles.update(
                percentiles_of(self.gray, missing, self.data_range, self.counts["finite"])
            )
        return {q: self._percentiles[q] for q in qs}

    def limits(
        self,
        vmin: float | None,
        vmax: float | None,
        percentiles: tuple[float, float] = (0.0, 100.0),
    ) -> tuple[float, float] | None:
        """Return the limits actually used with these settings (None: nothing finite)."""
        robust = self.data_range
        if robust is not None and percentiles != (0.0, 100.0):
            wanted = [q for q, end in zip(percentiles, (0.0, 100.0), strict=True) if q != end]
            found = self.percentiles(wanted)
            robust = (
                robust[0] if percentiles[0] == 0 else found[percentiles[0]],
                robust[1] if percentiles[1] == 100 else found[percentiles[1]],
            )
        return pl.infer_limits(robust, vmin, vmax)

    @cached_property
    def stats(self) -> dict[str, float | int | None]:
        """Counts, min, max, mean, std (ddof 0) and percentiles of the finite values.

        Counts, min, max and percentiles are exact; mean and std are summed per chunk in
        float64 (so they may differ from NumPy's in the last digits).
        """
        from ._field import STAT_PERCENTILES

        out: dict[str, float | int | None] = dict(self.counts)
        if self.data_range is None:
            keys = ("min", "max", "mean", "std", *(f"p{q}" for q in STAT_PERCENTILES))
            return out | dict.fromkeys(keys)
        out["min"], out["max"] = self.data_range
        mean, var = _combine_moments(list(scan(self.gray, _moments, "statistics")))
        out["mean"], out["std"] = mean, math.sqrt(var)
        found = self.percentiles([float(q) for q in STAT_PERCENTILES])
        for q in STAT_PERCENTILES:
            out[f"p{q}"] = found[float(q)]
        return out

    def display_limits(self, limits: tuple[float, float] | None) -> tuple[float, float] | None:
        """Return limits in the display field's units (times :attr:`scale`)."""
        return pl.scaled(limits, self.scale)

    def histogram(self, bins: int = 128, log: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
        """Return (counts, edges) of the finite values: ``bins`` equal bins, min to max.

        Counted chunk by chunk in one pass (napari's progress), once per ``bins``. ``log``
        (the log norm, not supported for lazy masks yet) gives None.
        """
        if log or self.data_range is None:
            return None
        from ._field import _spread

        cache = self.__dict__.setdefault("_histograms", {})
        if bins not in cache:
            span = _spread(*self.data_range)

            def count(block: np.ndarray) -> np.ndarray:
                return np.histogram(_finite(block), bins=bins, range=span)[0]

            counts = np.sum(scan(self.gray, count, "histogram"), axis=0).astype(np.int64)
            cache[bins] = (counts, np.histogram_bin_edges([], bins=bins, range=span))
        out: tuple[np.ndarray, np.ndarray] = cache[bins]
        return out

    def reblurred(
        self, blur_ksize: tuple[int, int] | None, blur_function: pl.BlurFunction | None
    ) -> LazyField:
        """Return this field with another display blur (nothing is read now)."""
        _refuse_blur_function(blur_function)
        out = LazyField(
            self.mask, self.gray, self.data_range, self.all_finite, self.counts, blur_ksize
        )
        out._percentiles.update(self._percentiles)
        if "stats" in self.__dict__:
            out.__dict__["stats"] = self.__dict__["stats"]
        return out

    def rgba(
        self, limits: tuple[float, float] | None, colormap: object, transparent_low: bool
    ) -> da.Array:
        """Return the picture, lazily: an (H, W, 4) uint8 dask array coloured by chunks."""
        return lazy_rgba(self.display_base, self.display_limits(limits), colormap, transparent_low)


def _refuse_blur_function(blur_function: object) -> None:
    if blur_function is not None:
        raise ValueError(
            "blur_function cannot be used with a lazy heatmap_mask (dask / zarr): it would see "
            "one chunk at a time; use blur_ksize, or pass an in-memory array"
        )


def prepare_lazy(
    mask: Any, blur_ksize: tuple[int, int] | None, blur_function: pl.BlurFunction | None
) -> LazyField:
    """Reduce and measure a lazy mask (one pass over its chunks); the blur stays lazy.

    Raises
    ------
    TypeError, ValueError
        Naming ``heatmap_mask`` (a bad mask) or ``blur_function`` (given: refused).
    """
    gray = reduce_lazy(mask)
    _refuse_blur_function(blur_function)
    data_range, counts = measure(gray)
    all_finite = counts["finite"] == counts["count"]
    return LazyField(mask, gray, data_range, all_finite, counts, blur_ksize)


def lazy_rgba(
    display: da.Array,
    limits: tuple[float, float] | None,
    colormap: object,
    transparent_low: bool,
) -> da.Array:
    """Colour a lazy display field chunk by chunk with the one colour rule (§2.4-§2.5)."""
    from ._colormaps import choose_colormap

    choice = choose_colormap(colormap)

    def block(chunk: np.ndarray) -> np.ndarray:
        return pl.rgba_from_display(chunk, limits, choice, transparent_low)

    import dask.array as da

    return da.map_blocks(
        block,
        display,
        dtype=np.uint8,
        new_axis=2,
        chunks=(*display.chunks, (4,)),
        meta=np.empty((0, 0, 0), np.uint8),
    )


def mask_to_rgba_lazy(
    mask: Any,
    colormap: object,
    transparent_low: bool,
    vmin: float | None,
    vmax: float | None,
    blur_ksize: tuple[int, int] | None,
    blur_function: pl.BlurFunction | None,
    percentiles: tuple[float, float],
) -> da.Array:
    """:func:`~napari_heatmap.mask_to_rgba` of a lazy mask: a lazy (H, W, 4) uint8 result.

    The limits are measured now (a pass over the chunks, more for percentiles); the blur and
    the colours are computed when the result is, chunk by chunk (``.to_zarr``, ``.store``).
    """
    from ._colormaps import choose_colormap

    choice = choose_colormap(colormap)
    if not isinstance(transparent_low, bool | np.bool_):
        raise TypeError(f"transparent_low must be True or False; got {transparent_low!r}")
    lo = pl.validate_limit("vmin", vmin)
    hi = pl.validate_limit("vmax", vmax)
    ksize = pl.validate_blur_ksize(blur_ksize)
    func = pl.validate_blur_function(blur_function)
    pcts = pl.validate_percentiles(percentiles)
    lazy_field = prepare_lazy(mask, ksize, func)
    limits = lazy_field.limits(lo, hi, pcts)
    return lazy_field.rgba(limits, choice, bool(transparent_low))
