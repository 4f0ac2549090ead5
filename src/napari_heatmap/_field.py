"""A mask and everything derived from it: the one recipe that prepares a field for display.

Pure floor: imports neither napari nor Qt. The controller, the sample, the reader and
:func:`~napari_heatmap.mask_to_rgba` all prepare a mask with :func:`prepare`, so the raw
values behind clicks, the finite range behind inferred limits and the blurred display field
on screen always come from the same steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from . import _pipeline as pl
from ._lazy import LazyField, is_lazy, prepare_lazy
from ._limits import NormLimits
from ._norms import Norm

__all__ = ["STAT_PERCENTILES", "AnyField", "Field", "prepare"]

#: The percentiles :attr:`Field.stats` reports, as ``p1`` ... ``p99``.
STAT_PERCENTILES = (1, 5, 25, 50, 75, 95, 99)


@dataclass(frozen=True)
class Field(NormLimits):
    """A prepared mask.

    Attributes
    ----------
    mask : array-like
        The mask exactly as given.
    gray : numpy.ndarray
        The mask reduced to 2-D (or an (…, H, W) stack): the raw values clicks report.
    data_range : (float, float) or None
        Finite min and max of gray; None when nothing is finite.
    all_finite : bool
        Whether gray has no NaN and no inf.
    display : numpy.ndarray
        gray after the display blur, in data units times :attr:`scale` (float32, or float64
        far from zero).
    """

    mask: Any
    gray: np.ndarray
    data_range: tuple[float, float] | None
    all_finite: bool
    display: np.ndarray

    @property
    def plane_shape(self) -> tuple[int, int]:
        """(H, W) of the mask's 2-D picture (of each slice for a stack)."""
        return self.gray.shape[-2], self.gray.shape[-1]

    @property
    def stack_shape(self) -> tuple[int, ...]:
        """The shape of the stack axes (before the last two); () for a 2-D mask."""
        return tuple(self.gray.shape[:-2])

    @property
    def scale(self) -> float:
        """The power of two the display field holds the data at (1.0 for ordinary data)."""
        return pl.display_scale(self.data_range)

    def _percentiles_of(self, qs: Sequence[float], positive: bool) -> dict[float, float]:
        """Return these percentiles of the (positive) finite values: O(1) once sorted."""
        values = self.sorted_values[self._first_positive :] if positive else self.sorted_values
        return {q: pl.percentile_of_sorted(values, q) for q in qs}

    @cached_property
    def _first_positive(self) -> int:
        """Index of the first positive value in :attr:`sorted_values` (found once)."""
        values = self.sorted_values
        return int(np.searchsorted(values, values.dtype.type(0), side="right"))

    @cached_property
    def positive_range(self) -> tuple[float, float] | None:
        """Min and max of the positive finite values of gray (None: there is none)."""
        gray = self.gray
        if self.data_range is None or self.data_range[1] <= 0:
            return None
        keep = gray > 0
        if not self.all_finite:
            keep &= np.isfinite(gray)
        # an integer min cannot start at inf: start at the type's max (a positive exists)
        start = np.iinfo(gray.dtype).max if np.issubdtype(gray.dtype, np.integer) else np.inf
        lo = gray.min(where=keep, initial=start)
        return float(lo), self.data_range[1]

    def histogram(self, bins: int = 128, log: bool = False) -> tuple[np.ndarray, np.ndarray] | None:
        """Return (counts, edges) of the finite values of gray, or None when there are none.

        ``bins`` equal bins between the finite min and max; with ``log``, bins equal in
        log10 between the positive min and max, over the positive values (None if none).
        Measured once per mask and arguments.
        """
        key = (int(bins), bool(log))
        cache = self.__dict__.setdefault("_histograms", {})
        if key not in cache:
            cache[key] = _histogram(self, *key)
        return cache[key]

    @cached_property
    def sorted_values(self) -> np.ndarray:
        """The finite values of gray, sorted (made on first use, then kept: 1× the mask)."""
        return pl.sorted_finite(self.gray)

    @cached_property
    def stats(self) -> dict[str, float | int | None]:
        """Counts, min, max, mean, std (ddof 0) and percentiles of the finite values of gray."""
        gray = self.gray
        values = self.sorted_values
        floating = np.issubdtype(gray.dtype, np.floating)
        out: dict[str, float | int | None] = {
            "count": int(gray.size),
            "finite": int(values.size),
            "nan": int(np.isnan(gray).sum()) if floating else 0,
            "posinf": int(np.isposinf(gray).sum()) if floating else 0,
            "neginf": int(np.isneginf(gray).sum()) if floating else 0,
        }
        if values.size == 0:
            keys = ("min", "max", "mean", "std", *(f"p{q}" for q in STAT_PERCENTILES))
            return out | dict.fromkeys(keys)
        out["min"], out["max"] = float(values[0]), float(values[-1])
        out["mean"] = float(np.mean(values, dtype=np.float64))
        out["std"] = float(np.std(values, dtype=np.float64))
        for q in STAT_PERCENTILES:
            out[f"p{q}"] = pl.percentile_of_sorted(values, q)
        return out

    def display_limits(self, limits: tuple[float, float] | None) -> tuple[float, float] | None:
        """Return limits in the display field's units (times :attr:`scale`)."""
        return pl.scaled(limits, self.scale)

    def layer_field(
        self, norm: Norm, limits: tuple[float, float] | None, threshold: float | None
    ) -> np.ndarray:
        """Return what the heatmap layer holds: the display field, normed and thresholded.

        The display field itself under the linear norm (or vmin == vmax) with no threshold;
        else a new array: the norm's layer field (see :meth:`Norm.layer_field`) with NaN
        where the display value is below ``threshold`` (one pass over the pixels).
        """
        display = self.display
        plain = limits is None or norm.linear or pl.is_constant(limits)
        if plain and threshold is None:
            return display
        if plain:
            out = display.copy()
        else:
            assert limits is not None
            scale = self.scale
            out = norm.layer_field(display if scale == 1.0 else display / scale, limits)
        if threshold is not None:
            with np.errstate(invalid="ignore"):
                out[display < threshold * self.scale] = np.nan
        return out

    def reblurred(
        self, blur_ksize: tuple[int, int] | None, blur_function: pl.BlurFunction | None
    ) -> Field:
        """Return this field with another display blur (the raw values stay)."""
        display = pl.display_field(
            self.gray, blur_ksize, blur_function, self.data_range, self.all_finite
        )
        out = Field(self.mask, self.gray, self.data_range, self.all_finite, display)
        # the same raw values: keep what was measured
        for name in ("sorted_values", "_first_positive", "stats", "positive_range", "_histograms"):
            if name in self.__dict__:
                out.__dict__[name] = self.__dict__[name]
        return out


#: What :func:`prepare` gives: an in-memory field, or a lazy one (behaviour §13).
AnyField = Field | LazyField


def prepare(
    mask: Any,
    blur_ksize: tuple[int, int] | None,
    blur_function: pl.BlurFunction | None,
    stack: bool = False,
) -> AnyField:
    """Reduce, measure and blur a mask (behaviour §2.1-§2.3). A failure raises, naming it.

    ``stack=True`` reads an (…, H, W) mask as a stack of 2-D slices (behaviour §12). A lazy
    mask (dask, zarr, see §13) gives a :class:`~napari_heatmap._lazy.LazyField` (2-D or a stack).

    Raises
    ------
    TypeError, ValueError
        Naming ``heatmap_mask`` (a bad mask) or ``blur_function`` (a bad blur).
    """
    if is_lazy(mask):
        return prepare_lazy(mask, blur_ksize, blur_function, stack)
    gray = pl.reduce_mask(mask, stack)
    data_range, all_finite = pl.finite_stats(gray)
    display = pl.display_field(gray, blur_ksize, blur_function, data_range, all_finite)
    return Field(mask, gray, data_range, all_finite, display)


def _histogram(field: Field, bins: int, log: bool) -> tuple[np.ndarray, np.ndarray] | None:
    if bins < 1:
        raise ValueError(f"bins must be a positive int; got {bins!r}")
    rng = field.positive_range if log else field.data_range
    if rng is None:
        return None
    gray = field.gray
    keep = np.isfinite(gray) if not field.all_finite else None
    if log:
        keep = gray > 0 if keep is None else keep & (gray > 0)
    values = gray if keep is None else gray[keep]
    if log:  # equal bins in log10: count the log10 values (NumPy's fast equal-bin path)
        lo, hi = _spread(float(np.log10(rng[0])), float(np.log10(rng[1])))
        logs = np.log10(values, dtype=np.float64)  # the same steps as for the range: none lost
        counts, edges = np.histogram(logs, bins=bins, range=(lo, hi))
        edges = 10.0**edges
    else:
        counts, edges = np.histogram(values, bins=bins, range=_spread(*rng))
    return counts.astype(np.int64), edges.astype(np.float64)


def _spread(lo: float, hi: float) -> tuple[float, float]:
    """Give one value a bin of its own: (lo, hi) widened when they are equal."""
    if hi > lo:
        return lo, hi
    pad = max(0.5, abs(lo) * 2.0**-40)
    return lo - pad, hi + pad
