"""A heatmap's settings: one frozen value, validated whole before anything changes.

Pure floor: imports neither napari nor Qt (a colormap that is not OpenCV's is looked up in
napari by :func:`~napari_heatmap._colormaps.choose_colormap`). Every setter of ``Heatmap``
builds a new :class:`Settings` with :meth:`Settings.replace`; a bad value raises there,
naming the parameter, and nothing is committed.
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import _pipeline as pl
from ._colormaps import ColormapChoice, choose_colormap
from ._norms import Norm, validate_linthresh, validate_norm, validate_threshold, validate_vcenter
from ._placement import validate_size

__all__ = ["BLENDINGS", "Settings", "validate_bool", "validate_opacity"]

#: napari's blending modes for a 2-D image layer.
BLENDINGS = ("translucent", "translucent_no_depth", "additive", "minimum", "opaque")


def validate_bool(name: str, value: object) -> bool:
    """Check a flag: True or False (NumPy's bools too)."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise TypeError(f"{name} must be True or False; got {value!r}")


def validate_opacity(value: object) -> float:
    """Check ``opacity``: a percentage, clamped to 0-100."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"opacity must be a number from 0 to 100; got {value!r}")
    out = pl.to_float("opacity", value)
    if math.isnan(out):
        raise ValueError(f"opacity must be a number from 0 to 100; got {value!r}")
    return min(100.0, max(0.0, out))


def validate_blending(value: object) -> str:
    """Check ``blending``: one of napari's blending modes (by name)."""
    raw = getattr(value, "value", value)  # napari's Blending enum, or its name
    if isinstance(raw, str) and raw.lower() in BLENDINGS:
        return raw.lower()
    raise ValueError(f"blending must be one of {', '.join(BLENDINGS)}; got {value!r}")


_VALIDATORS: dict[str, Any] = {
    "vmin": lambda v: pl.validate_limit("vmin", v),
    "vmax": lambda v: pl.validate_limit("vmax", v),
    "transparent_low": lambda v: validate_bool("transparent_low", v),
    "colormap": choose_colormap,
    "width": lambda v: validate_size("width", v),
    "height": lambda v: validate_size("height", v),
    "blur_ksize": pl.validate_blur_ksize,
    "blur_function": pl.validate_blur_function,
    "opacity": validate_opacity,
    "blending": validate_blending,
    "percentiles": pl.validate_percentiles,
    "visible": lambda v: validate_bool("visible", v),
    "norm": validate_norm,
    "linthresh": validate_linthresh,
    "vcenter": validate_vcenter,
    "threshold": validate_threshold,
}


@dataclass(frozen=True)
class Settings:
    """Everything a user sets on a heatmap, validated (see ``Heatmap`` for the meanings)."""

    vmin: float | None = None
    vmax: float | None = None
    transparent_low: bool = False
    colormap: ColormapChoice = dataclasses.field(default_factory=lambda: choose_colormap(2))
    width: float | None = None
    height: float | None = None
    blur_ksize: tuple[int, int] | None = (5, 5)
    blur_function: pl.BlurFunction | None = None
    opacity: float = 70.0
    blending: str = "translucent"
    visible: bool = True
    percentiles: tuple[float, float] = (0.0, 100.0)
    norm: str = "linear"
    linthresh: float = 1.0
    vcenter: float = 0.0
    threshold: float | None = None

    @property
    def norm_spec(self) -> Norm:
        """The norm with its parameter."""
        return Norm(self.norm, self.linthresh, self.vcenter)

    def replace(self, **changes: Any) -> Settings:
        """Return these settings with ``changes`` validated and applied; raise if one is bad.

        Raises
        ------
        ValueError, TypeError
            Naming the parameter, what it got and what it accepts; ``vmin > vmax`` too.
        """
        for key in changes:
            if key not in _VALIDATORS:
                raise TypeError(f"unknown heatmap setting {key!r}")
        clean = {key: _VALIDATORS[key](value) for key, value in changes.items()}
        new = dataclasses.replace(self, **clean)
        if new.vmin is not None and new.vmax is not None and new.vmin > new.vmax:
            raise ValueError(
                f"vmin must not be greater than vmax; got vmin={new.vmin!r} > vmax={new.vmax!r}"
            )
        if new.norm == "log":
            for name in ("vmin", "vmax"):
                value = getattr(new, name)
                if value is not None and value <= 0:
                    raise ValueError(
                        f"norm='log' needs positive limits; got {name}={value!r} (set {name} "
                        "to None or a positive number, or choose another norm)"
                    )
        return new
