"""A mask and everything derived from it: the one recipe that prepares a field for display.

Pure floor: imports neither napari nor Qt. The controller, the sample, the reader and
:func:`~napari_heatmap.mask_to_rgba` all prepare a mask with :func:`prepare`, so the raw
values behind clicks, the finite range behind inferred limits and the blurred display field
on screen always come from the same steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from . import _pipeline as pl
from ._lazy import LazyField, is_lazy, prepare_lazy

__all__ = ["STAT_PERCENTILES", "AnyField", "Field", "prepare"]

#: The percentiles :attr:`Field.stats` reports, as ``p1`` ... ``p99``.
STAT_PERCENTILES = (1, 5, 25, 50, 75, 95, 99)


@dataclass(frozen=True)
class Field:
    """A prepared mask.

    Attributes
    ----------
    mask : array-like
        The mask exactly as given.
    gray : numpy.ndarray
        The mask reduced to 2-D: the raw values clicks report.
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
    def scale(self) -> float:
        """The power of two the display field holds the data at (1.0 for ordinary data)."""
        return pl.display_scale(self.data_range)

    def limits(
        self,
        vmin: float | None,
        vmax: float | None,
        percentiles: tuple[float, float] = (0.0, 100.0),
    ) -> tuple[float, float] | None:
        """Return the limits actually used with these settings (None: nothing finite).

        A None limit is the ``percentiles`` of the finite values (their min / max for
        (0, 100)); the values are sorted once per mask, so a new percentile costs O(1).
        """
        robust = self.data_range
        if robust is not None and percentiles != (0.0, 100.0):
            robust = pl.robust_range(self.gray, self.data_range, percentiles, self.sorted_values)
        return pl.infer_limits(robust, vmin, vmax)

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

    def reblurred(
        self, blur_ksize: tuple[int, int] | None, blur_function: pl.BlurFunction | None
    ) -> Field:
        """Return this field with another display blur (the raw values stay)."""
        display = pl.display_field(
            self.gray, blur_ksize, blur_function, self.data_range, self.all_finite
        )
        out = Field(self.mask, self.gray, self.data_range, self.all_finite, display)
        for name in ("sorted_values", "stats"):  # same raw values: keep what was measured
            if name in self.__dict__:
                out.__dict__[name] = self.__dict__[name]
        return out


#: What :func:`prepare` gives: an in-memory field, or a lazy one (behaviour §13).
AnyField = Field | LazyField


def prepare(
    mask: Any, blur_ksize: tuple[int, int] | None, blur_function: pl.BlurFunction | None
) -> AnyField:
    """Reduce, measure and blur a mask (behaviour §2.1-§2.3). A failure raises, naming it.

    A lazy mask (dask, zarr, see §13) gives a :class:`~napari_heatmap._lazy.LazyField`.

    Raises
    ------
    TypeError, ValueError
        Naming ``heatmap_mask`` (a bad mask) or ``blur_function`` (a bad blur).
    """
    if is_lazy(mask):
        return prepare_lazy(mask, blur_ksize, blur_function)
    gray = pl.reduce_mask(mask)
    data_range, all_finite = pl.finite_stats(gray)
    display = pl.display_field(gray, blur_ksize, blur_function, data_range, all_finite)
    return Field(mask, gray, data_range, all_finite, display)
