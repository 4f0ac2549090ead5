"""A mask and everything derived from it: the one recipe that prepares a field for display.

Pure floor: imports neither napari nor Qt. The controller, the sample, the reader and
:func:`~napari_heatmap.mask_to_rgba` all prepare a mask with :func:`prepare`, so the raw
values behind clicks, the finite range behind inferred limits and the blurred display field
on screen always come from the same steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _pipeline as pl

__all__ = ["Field", "prepare"]


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

    def limits(self, vmin: float | None, vmax: float | None) -> tuple[float, float] | None:
        """Return the limits actually used with these settings (None: nothing finite)."""
        return pl.infer_limits(self.data_range, vmin, vmax)

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
        return Field(self.mask, self.gray, self.data_range, self.all_finite, display)


def prepare(
    mask: Any, blur_ksize: tuple[int, int] | None, blur_function: pl.BlurFunction | None
) -> Field:
    """Reduce, measure and blur a mask (behaviour §2.1-§2.3). A failure raises, naming it.

    Raises
    ------
    TypeError, ValueError
        Naming ``heatmap_mask`` (a bad mask) or ``blur_function`` (a bad blur).
    """
    gray = pl.reduce_mask(mask)
    data_range, all_finite = pl.finite_stats(gray)
    display = pl.display_field(gray, blur_ksize, blur_function, data_range, all_finite)
    return Field(mask, gray, data_range, all_finite, display)
