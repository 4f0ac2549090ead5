"""Masks larger than memory: the lazy twin of :class:`~napari_heatmap._field.Field` (§13).

A lazy mask is a dask array, a zarr array or anything with ``shape``, ``dtype``, ``chunks``
and NumPy-style slicing: 2-D, H×W×C, or with ``stack=True`` an (…, H, W) stack. It is never
read whole: the display field is a dask array blurred chunk by chunk (each chunk with the
overlap the kernel reaches, none across a stack's slices, through the very
:func:`~napari_heatmap._pipeline.display_field` an in-memory mask goes through, so every
display pixel equals the in-memory one bit for bit), shown as a lazily computed pyramid
(of the norm's layer field with a norm or threshold: an elementwise step per chunk);
min/max, counts, positives, percentiles, histograms and ``stats`` come from passes over
the chunks with napari's ``progress``.

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
from ._limits import NormLimits
from ._norms import LINEAR, Norm

if TYPE_CHECKING:
    import dask.array as da

__all__ = ["LazyField", "Measured", "is_lazy", "lazy_rgba", "prepare_lazy", "reduce_lazy"]

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


def reduce_lazy(mask: Any, stack: bool = False) -> da.Array:
    """Return gray of a lazy mask as a dask array (behaviour §2.1, §12; nothing is read).

    With ``stack`` an (…, H, W) mask is a stack of 2-D slices and is kept as it is.

    Raises
    ------
    TypeError
        If ``heatmap_mask`` does not hold numbers.
    ValueError
        If ``heatmap_mask`` is empty or not 2-D / 3-D ((…, H, W) with ``stack``).
    """
    import dask.array as da

    dtype = np.dtype(mask.dtype)
    numeric = np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)
    if not (dtype == np.bool_ or numeric):
        raise TypeError(f"heatmap_mask must hold integers, floats or bools; got dtype {dtype}")
    shape = tuple(int(n) for n in mask.shape)
    if stack and len(shape) < 2:
        raise ValueError(
            f"heatmap_mask must be (…, H, W) with stack=True (at least 2-D); got shape {shape}"
        )
    if not stack and len(shape) not in (2, 3):
        raise ValueError(
            f"heatmap_mask must be 2-D (H×W) or 3-D (H×W×C); got shape {shape}"
            + (" (for a stack of 2-D slices use stack=True)" if len(shape) > 3 else "")
        )
    if 0 in shape:
        raise ValueError(f"heatmap_mask must not be empty; got shape {shape}")
    arr = mask if isinstance(mask, da.Array) else da.from_array(mask, chunks=mask.chunks)
    if dtype == np.bool_:
        arr = arr.astype(np.uint8)
    if arr.ndim == 3 and not stack:
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


@dataclass(frozen=True)
class Measured:
    """What one pass over a lazy mask's chunks finds.

    Attributes
    ----------
    data_range : (float, float) or None
        Exact finite min and max (None: nothing finite).
    counts : dict
        ``count``, ``finite``, ``nan``, ``posinf``, ``neginf``.
    positive_min : float or None
        The least positive finite value (None: there is none), for the log norm.
    n_positive : int
        How many finite values are positive.
    plane_finite : numpy.ndarray or None
        For a stack, whether each 2-D slice is all finite (the stack's shape); else None.
    """

    data_range: tuple[float, float] | None
    counts: dict[str, int]
    positive_min: float | None
    n_positive: int
    plane_finite: np.ndarray | None


def _measure_block(block: np.ndarray) -> tuple[float, float, np.ndarray, float, int, Any]:
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
    planes = None
    if block.ndim > 2:
        planes = np.isfinite(block).all(axis=(-2, -1)) if floating else True
    if values.size == 0:
        return math.inf, -math.inf, counts, math.inf, 0, planes
    positive = values[values > 0]
    pos_min = float(positive.min()) if positive.size else math.inf
    return float(values.min()), float(values.max()), counts, pos_min, positive.size, planes


def measure(gray: da.Array) -> Measured:
    """One pass: the exact finite range of gray, its counts, positives and finite slices."""
    lo, hi, pos_min, n_pos = math.inf, -math.inf, math.inf, 0
    counts = np.zeros(len(_COUNTS), np.int64)
    lead = gray.shape[:-2]
    planes = np.ones(lead, bool) if lead else None
    starts = [np.cumsum((0, *c[:-1])) for c in gray.chunks[:-2]]
    found = scan(gray, _measure_block, "measuring the mask")
    for where, part in zip(np.ndindex(*gray.numblocks), found, strict=True):
        b_lo, b_hi, b_counts, b_pos_min, b_pos, b_planes = part
        lo, hi = min(lo, b_lo), max(hi, b_hi)
        pos_min, n_pos = min(pos_min, b_pos_min), n_pos + int(b_pos)
        counts += b_counts
        if planes is not None:
            at = tuple(
                slice(int(st[i]), int(st[i]) + int(c[i]))
                for st, c, i in zip(starts, gray.chunks[:-2], where, strict=False)
            )
            planes[at] &= b_planes
    data_range = None if counts[1] == 0 else (lo, hi)
    return Measured(
        data_range,
        dict(zip(_COUNTS, (int(c) for c in counts), strict=True)),
        None if n_pos == 0 else pos_min,
        n_pos,
        planes,
    )


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
    plane_finite: np.ndarray | None = None,
) -> da.Array:
    """Return the display field as a dask array, each chunk blurred with the overlap it needs.

    Every chunk goes through :func:`_pipeline.display_field` with the whole mask's range
    and finiteness, on a window laid out on the whole image's column grid (see
    :data:`ALIGN`), so each pixel equals the in-memory display field's exactly. A stack
    (…, H, W) is blurred slice by slice (no overlap across the stack axes), each slice with
    its own finiteness (``plane_finite``), as :func:`_pipeline.display_field` does in memory.
    """
    import dask.array as da

    scale = pl.display_scale(data_range)
    scaled = (data_range[0] * scale, data_range[1] * scale)
    dtype = np.dtype(np.float64 if pl.display_offset(scaled) else np.float32)
    ky, kx = (0, 0) if blur_ksize is None else (blur_ksize[1] // 2, blur_ksize[0] // 2)
    x_depth = -(-kx // ALIGN) * ALIGN
    rows = _aligned_chunks(gray.chunks[-2], ky, 1)
    cols = _aligned_chunks(gray.chunks[-1], x_depth, ALIGN)
    if len(cols) == 1:
        x_depth = 0
    chunks = gray.chunks
    if (rows, cols) != chunks[-2:]:
        gray = gray.rechunk((*chunks[:-2], rows, cols))
    pl.check_blur_work((max(rows) + 2 * ky, max(cols) + 2 * x_depth), blur_ksize)
    lead = gray.ndim - 2

    def plane(chunk: np.ndarray, finite: bool) -> np.ndarray:
        return pl.display_field(chunk, blur_ksize, None, data_range, finite).astype(
            dtype, copy=False
        )

    def block(chunk: np.ndarray, block_info: Any = None) -> np.ndarray:
        if not lead:
            return plane(chunk, all_finite)
        flags: Any = True
        if not all_finite and plane_finite is not None and block_info is not None:
            # depth 0 on the stack axes: their locations are the mask's own
            where = block_info[0]["array-location"][:lead]
            flags = plane_finite[tuple(slice(a, b) for a, b in where)]
        out = np.empty(chunk.shape, dtype)
        for index in np.ndindex(*chunk.shape[:-2]):
            finite = all_finite or bool(np.broadcast_to(flags, chunk.shape[:-2])[index])
            out[index] = plane(chunk[index], finite)
        return out

    depth = {**dict.fromkeys(range(lead), 0), lead: ky if len(rows) > 1 else 0, lead + 1: x_depth}
    meta = np.empty((0,) * gray.ndim, dtype)
    if not any(depth.values()):
        out = da.map_blocks(block, gray, dtype=dtype, meta=meta)
    else:
        out = da.map_overlap(block, gray, depth=depth, boundary="none", dtype=dtype, meta=meta)
    return out if out.chunks == chunks else out.rechunk(chunks)  # the mask's chunks again


def pyramid(base: da.Array, top: int = PYRAMID_TOP) -> list[da.Array]:
    """Return levels for napari's multiscale view: the base, then every 2nd, 4th, ... pixel.

    Taking pixels (not averaging) keeps every value on screen a true display value, so its
    colour is the one the colour rule gives it; the coarsest level fits in ``top`` pixels.
    Only the last two axes (H, W) are thinned: a stack keeps every slice on every level.
    """
    levels = [base]
    step = 2
    while max(levels[-1].shape[-2:]) > top:
        levels.append(base[..., ::step, ::step])
        step *= 2
    return levels


def overview(levels: list[da.Array], side: int | None = None) -> list[Any]:
    """Return the pyramid with its levels of at most ``side`` pixels computed, in one pass.

    ``side`` defaults to :data:`OVERVIEW_SIDE`; a stack's level is computed when all its
    slices together hold at most ``side``² pixels.

    The whole-image views (the first picture, the thumbnail, zooming out) then cost nothing
    and need no cache; the finer levels stay lazy and are computed where the view is.
    """
    side = OVERVIEW_SIDE if side is None else side
    small = [
        i
        for i, level in enumerate(levels)  # a stack's level: at most side² pixels in all
        if i > 0 and max(level.shape[-2:]) <= side and level.size <= side * side
    ]
    if not small:
        return list(levels)
    found = compute([levels[i] for i in small], [levels[0]], "drawing the overview")
    out: list[Any] = list(levels)
    for i, array in zip(small, found, strict=True):
        out[i] = array
    return out


# --------------------------------------------------------------------------- the field


@dataclass(frozen=True, eq=False)
class LazyField(NormLimits):
    """A prepared lazy mask: what the controller uses of a :class:`~napari_heatmap._field.Field`.

    Attributes
    ----------
    mask : array-like
        The mask exactly as given.
    gray : dask.array.Array
        The mask reduced to 2-D, or an (…, H, W) stack (never computed whole; a click reads
        one element).
    measured : Measured
        What the pass over the chunks found (range, counts, positives, finite slices).
    blur_ksize : (int, int) or None
        The display blur (a ``blur_function`` cannot be applied chunk by chunk).
    """

    mask: Any
    gray: da.Array
    measured: Measured
    blur_ksize: tuple[int, int] | None
    _percentiles: dict[tuple[bool, float], float] = field(default_factory=dict, repr=False)

    lazy = True

    @property
    def data_range(self) -> tuple[float, float] | None:
        """Exact finite min and max of gray; None when nothing is finite."""
        return self.measured.data_range

    @property
    def counts(self) -> dict[str, int]:
        """``count``, ``finite``, ``nan``, ``posinf``, ``neginf`` of gray."""
        return self.measured.counts

    @property
    def all_finite(self) -> bool:
        """Whether gray has no NaN and no inf."""
        return self.counts["finite"] == self.counts["count"]

    @property
    def positive_range(self) -> tuple[float, float] | None:
        """Min and max of the positive finite values of gray (None: there is none)."""
        low, rng = self.measured.positive_min, self.data_range
        return None if low is None or rng is None else (low, rng[1])

    @property
    def scale(self) -> float:
        """The power of two the display field holds the data at (1.0 for ordinary data)."""
        return pl.display_scale(self.data_range)

    @property
    def stack_shape(self) -> tuple[int, ...]:
        """The shape of the stack axes (before the last two); () for a 2-D mask."""
        return tuple(int(n) for n in self.gray.shape[:-2])

    @property
    def plane_shape(self) -> tuple[int, int]:
        """(H, W) of the mask's 2-D picture (of each slice for a stack)."""
        return int(self.gray.shape[-2]), int(self.gray.shape[-1])

    @cached_property
    def display_base(self) -> da.Array:
        """The full-resolution display field (a dask array; NaN everywhere if nothing is finite)."""
        if self.data_range is None:
            import dask.array as da

            return da.full(self.gray.shape, np.nan, np.float32, chunks=self.gray.chunks)
        return display_array(
            self.gray,
            self.blur_ksize,
            self.data_range,
            self.all_finite,
            self.measured.plane_finite,
        )

    @cached_property
    def display(self) -> list[Any]:
        """The display field as napari's multiscale data: a list of ever coarser levels.

        The base and the finer levels are dask arrays; levels of at most
        :data:`OVERVIEW_SIDE` pixels are computed now, in one pass (see :func:`overview`).
        """
        return overview(pyramid(self.display_base))

    def value(self, index: Sequence[int]) -> float:
        """Return gray at a full index (…, y, x), reading one element (a plain source: no dask)."""
        import dask.array as da

        at = tuple(int(i) for i in index)
        if self.gray.ndim == len(self.mask.shape) and not isinstance(self.mask, da.Array):
            return float(np.asarray(self.mask[tuple(slice(i, i + 1) for i in at)]).reshape(()))
        return float(self.gray[at].compute())

    def percentiles(self, qs: Sequence[float], positive: bool = False) -> dict[float, float]:
        """Return these percentiles of the finite values (exact; computed once each).

        With ``positive``, of the positive finite values (the log norm's).
        """
        missing = [q for q in qs if (positive, q) not in self._percentiles]
        rng = self.positive_range if positive else self.data_range
        if missing and rng is not None:
            n = self.measured.n_positive if positive else self.counts["finite"]
            found = percentiles_of(self.gray, missing, rng, n)
            self._percentiles.update({(positive, q): v for q, v in found.items()})
        return {q: self._percentiles[(positive, q)] for q in qs}

    def _percentiles_of(self, qs: Sequence[float], positive: bool) -> dict[float, float]:
        """Return these percentiles, found by passes over the chunks (see :meth:`percentiles`)."""
        return self.percentiles(qs, positive=positive)

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

    def layer_field(
        self, norm: Norm, limits: tuple[float, float] | None, threshold: float | None
    ) -> list[Any]:
        """Return what the heatmap layer holds: the pyramid of the normed, thresholded display.

        :attr:`display` itself under the linear norm (or vmin == vmax) with no threshold;
        else every level through the in-memory rule of :meth:`Field.layer_field
        <napari_heatmap._field.Field.layer_field>`, which is elementwise: the computed
        levels now, the lazy ones chunk by chunk when napari reads them.
        """
        plain = limits is None or norm.linear or pl.is_constant(limits)
        if plain and threshold is None:
            return self.display
        levels = self.display
        func = functools.partial(_layer_block, norm=norm, limits=limits, threshold=threshold)
        func = functools.partial(func, plain=plain, scale=self.scale)
        dtype = np.dtype(levels[0].dtype if plain else np.float32)
        out: list[Any] = []
        for level in levels:
            if isinstance(level, np.ndarray):
                out.append(func(level))
            else:
                meta = np.empty((0,) * level.ndim, dtype)
                out.append(level.map_blocks(func, dtype=dtype, meta=meta))
        return out

    def histogram(self, bins: int = 128, log: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
        """Return (counts, edges) of the finite values: ``bins`` equal bins, min to max.

        With ``log``, bins equal in log10 between the positive min and max, over the positive
        values (None if none). Counted chunk by chunk in one pass (napari's progress), once
        per ``bins`` and ``log``.
        """
        from ._field import _spread

        if bins < 1:
            raise ValueError(f"bins must be a positive int; got {bins!r}")
        rng = self.positive_range if log else self.data_range
        if rng is None:
            return None
        key = (int(bins), bool(log))
        cache = self.__dict__.setdefault("_histograms", {})
        if key not in cache:
            if log:
                span = _spread(float(np.log10(rng[0])), float(np.log10(rng[1])))
            else:
                span = _spread(*rng)

            def count(block: np.ndarray) -> np.ndarray:
                values = _finite(block)
                if log:  # as in memory: log10 of the positive values, in float64
                    values = np.log10(values[values > 0], dtype=np.float64)
                return np.histogram(values, bins=bins, range=span)[0]

            counts = np.sum(scan(self.gray, count, "histogram"), axis=0).astype(np.int64)
            # the edges in the type NumPy bins the values in, as the in-memory histogram's
            kind = np.float64 if log else _finite(np.empty(0, self.gray.dtype)).dtype
            edges = np.histogram_bin_edges(np.empty(0, kind), bins=bins, range=span)
            edges = edges.astype(np.float64)
            cache[key] = (counts, 10.0**edges if log else edges)
        out: tuple[np.ndarray, np.ndarray] = cache[key]
        return out

    def reblurred(
        self, blur_ksize: tuple[int, int] | None, blur_function: pl.BlurFunction | None
    ) -> LazyField:
        """Return this field with another display blur (nothing is read now)."""
        _refuse_blur_function(blur_function)
        out = LazyField(self.mask, self.gray, self.measured, blur_ksize)
        out._percentiles.update(self._percentiles)
        for name in ("stats", "_histograms"):
            if name in self.__dict__:
                out.__dict__[name] = self.__dict__[name]
        return out

    def rgba(
        self,
        limits: tuple[float, float] | None,
        colormap: object,
        transparent_low: bool,
        *,
        norm: Norm = LINEAR,
        threshold: float | None = None,
    ) -> da.Array:
        """Return the picture, lazily: an (…, H, W, 4) uint8 dask array coloured by chunks."""
        return lazy_rgba(
            self.display_base,
            limits,
            colormap,
            transparent_low,
            norm=norm,
            threshold=threshold,
            scale=self.scale,
        )


def _layer_block(
    d: np.ndarray,
    *,
    norm: Norm,
    limits: tuple[float, float] | None,
    threshold: float | None,
    plain: bool,
    scale: float,
) -> np.ndarray:
    """Return the layer field of display values ``d``: the steps of ``Field.layer_field``."""
    if plain:
        out = d.copy()
    else:
        assert limits is not None
        out = norm.layer_field(d if scale == 1.0 else d / scale, limits)
    if threshold is not None:
        with np.errstate(invalid="ignore"):
            out[d < threshold * scale] = np.nan
    return out


def _refuse_blur_function(blur_function: object) -> None:
    if blur_function is not None:
        raise ValueError(
            "blur_function cannot be used with a lazy heatmap_mask (dask / zarr): it would see "
            "one chunk at a time; use blur_ksize, or pass an in-memory array"
        )


def prepare_lazy(
    mask: Any,
    blur_ksize: tuple[int, int] | None,
    blur_function: pl.BlurFunction | None,
    stack: bool = False,
) -> LazyField:
    """Reduce and measure a lazy mask (one pass over its chunks); the blur stays lazy.

    ``stack`` reads an (…, H, W) mask as a stack of 2-D slices (behaviour §12).

    Raises
    ------
    TypeError, ValueError
        Naming ``heatmap_mask`` (a bad mask) or ``blur_function`` (given: refused).
    """
    gray = reduce_lazy(mask, stack)
    _refuse_blur_function(blur_function)
    return LazyField(mask, gray, measure(gray), blur_ksize)


def lazy_rgba(
    display: da.Array,
    limits: tuple[float, float] | None,
    colormap: object,
    transparent_low: bool,
    *,
    norm: Norm = LINEAR,
    threshold: float | None = None,
    scale: float = 1.0,
) -> da.Array:
    """Colour a lazy display field chunk by chunk with the one colour rule (§2.4-§2.5, §11).

    The arguments are those of :func:`_pipeline.rgba_from_display`, which colours each chunk.
    """
    from ._colormaps import choose_colormap

    choice = choose_colormap(colormap)

    def block(chunk: np.ndarray) -> np.ndarray:
        return pl.rgba_from_display(
            chunk, limits, choice, transparent_low, norm=norm, threshold=threshold, scale=scale
        )

    import dask.array as da

    return da.map_blocks(
        block,
        display,
        dtype=np.uint8,
        new_axis=display.ndim,
        chunks=(*display.chunks, (4,)),
        meta=np.empty((0,) * (display.ndim + 1), np.uint8),
    )
