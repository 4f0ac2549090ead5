"""Colour norms and the threshold (behaviour §11): how a display value becomes t.

Pure floor: imports neither napari nor Qt. With a norm, t is what matplotlib's ``LogNorm``,
``SymLogNorm(linthresh, linscale=1, base=10)`` and ``TwoSlopeNorm(vcenter)`` compute, with the
same floating-point steps (matplotlib is the reference in the tests, not a dependency); the
colour is then the table's entry at round(255·t) as for the linear norm.

The GPU sees a *transformed* field: the norm is a fixed monotone transform g followed by a
linear map between g(vmin) and g(vmax) (log10 for "log", the symmetric-log transform for
"symlog"), so changing the limits stays a change of two layer attributes. "centered" is
piecewise linear with a kink that moves with the limits: the layer holds t itself, and a
change of limits costs one pass over the display field.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np

__all__ = [
    "LINEAR",
    "LOG_FLOOR",
    "NORMS",
    "Norm",
    "validate_linthresh",
    "validate_norm",
    "validate_threshold",
    "validate_vcenter",
]

#: The norms, by name.
NORMS = ("linear", "log", "symlog", "centered")

#: The layer value of display values <= 0 under the log norm: below log10 of any positive
#: float (the value matplotlib's LogTransform clips them to).
LOG_FLOOR = -1000.0

#: How far outside [0, 1] the "centered" layer field keeps t (the clip makes the rest equal).
_T_MARGIN = 1.0

_BASE = 10.0
_LINSCALE = 1.0


def _finite_number(name: str, value: object) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a finite number; got {value!r}")
    try:
        out = float(value)
    except OverflowError:
        raise ValueError(f"{name} must be a number a float can hold; got {value!r}") from None
    if not math.isfinite(out):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    return out


def validate_norm(value: object) -> str:
    """Check ``norm``: one of :data:`NORMS` (by name, any case)."""
    if isinstance(value, str) and value.lower() in NORMS:
        return value.lower()
    raise ValueError(f"norm must be one of {', '.join(map(repr, NORMS))}; got {value!r}")


def validate_linthresh(value: object) -> float:
    """Check ``linthresh``: a finite number > 0 (the symlog norm's linear range)."""
    out = _finite_number("linthresh", value)
    if not out > 0:
        raise ValueError(f"linthresh must be greater than 0; got {value!r}")
    return out


def validate_vcenter(value: object) -> float:
    """Check ``vcenter``: a finite number (the centred norm's centre)."""
    return _finite_number("vcenter", value)


def validate_threshold(value: object) -> float | None:
    """Check ``threshold``: None (no threshold) or a finite number."""
    return None if value is None else _finite_number("threshold", value)


@dataclass(frozen=True)
class Norm:
    """A norm with its parameter: ``kind`` is one of :data:`NORMS`."""

    kind: str = "linear"
    linthresh: float = 1.0
    vcenter: float = 0.0

    @property
    def linear(self) -> bool:
        """Whether t is linear in the display value (the GPU reads the display field)."""
        return self.kind == "linear"

    @property
    def follows_limits(self) -> bool:
        """Whether the layer's field changes with the limits ("centered": it holds t)."""
        return self.kind == "centered"

    # -- the transform g: t = (g(d) - g(vmin)) / (g(vmax) - g(vmin)) --------------------------

    def transform(self, d: np.ndarray) -> np.ndarray:
        """Return g(d) in float64 for "log" and "symlog" (matplotlib's transforms, exactly).

        Under "log", values <= 0 give -inf and NaN stays NaN.
        """
        d = np.asarray(d, np.float64)
        if self.kind == "log":
            with np.errstate(divide="ignore", invalid="ignore"):
                out = np.log10(d)
            out[d <= 0] = -np.inf  # below vmin (matplotlib masks them)
            return out
        if self.kind == "symlog":
            return _symlog(d, self.linthresh)
        raise ValueError(f"the {self.kind!r} norm has no fixed transform")

    def t(self, d: np.ndarray, limits: tuple[float, float]) -> np.ndarray:
        """Return t (float64, unclipped; NaN stays NaN) of display values ``d`` in data units."""
        lo, hi = limits
        d = np.asarray(d, np.float64)
        if self.kind == "linear":
            with np.errstate(invalid="ignore"):
                return (d - lo) / (hi - lo)
        if self.kind == "centered":
            return np.interp(d, [lo, self.vcenter, hi], [0.0, 0.5, 1.0], left=-np.inf, right=np.inf)
        g = self.transform(d)
        g_lo, g_hi = self.transform(np.array([lo, hi]))
        with np.errstate(invalid="ignore"):
            g -= g_lo
            g /= g_hi - g_lo
        return g

    # -- what the layer holds -----------------------------------------------------------------

    def layer_field(self, d: np.ndarray, limits: tuple[float, float]) -> np.ndarray:
        """Return the field the heatmap layer holds for display values ``d`` (data units).

        float32; NaN stays NaN. "log": log10(d), :data:`LOG_FLOOR` for d <= 0; "symlog": the
        symmetric-log transform; "centered": t, kept within [-1, 2].
        """
        if self.kind == "centered":
            out = self.t(d, limits)
            np.clip(out, -_T_MARGIN, 1.0 + _T_MARGIN, out=out)
        else:
            out = self.transform(d)
            if self.kind == "log":
                out[out == -np.inf] = LOG_FLOOR
        return out.astype(np.float32)

    def layer_limits(self, limits: tuple[float, float]) -> tuple[float, float]:
        """Return the limits in the layer field's units (before the half-step widening)."""
        if self.kind == "centered":
            return 0.0, 1.0
        g_lo, g_hi = self.transform(np.array([limits[0], limits[1]]))
        return float(g_lo), float(g_hi)

    def limits_from_layer(
        self, layer_limits: tuple[float, float], limits: tuple[float, float]
    ) -> tuple[float, float]:
        """Return data limits for limits in the layer field's units (napari's slider).

        ``limits`` are the current ones ("centered" maps t back through them).
        """
        a, b = layer_limits
        if self.kind == "log":
            return 10.0**a, 10.0**b
        if self.kind == "symlog":
            out = _symlog_inverse(np.array([a, b]), self.linthresh)
            return float(out[0]), float(out[1])
        lo, hi = limits
        vc = self.vcenter
        out = np.interp([a, b], [0.0, 0.5, 1.0], [lo, vc, hi], left=np.nan, right=np.nan)
        for i, t in enumerate((a, b)):  # beyond [0, 1]: the outer slopes go on
            if t < 0:
                out[i] = lo + 2.0 * t * (vc - lo)
            elif t > 1:
                out[i] = hi + 2.0 * (t - 1.0) * (hi - vc)
        return float(out[0]), float(out[1])


LINEAR = Norm()


def _symlog(d: np.ndarray, linthresh: float) -> np.ndarray:
    """Return matplotlib's ``SymmetricalLogTransform(10, linthresh, 1)`` of ``d``, elementwise."""
    linscale_adj = _LINSCALE / (1.0 - 1.0 / _BASE)
    log_base = np.log(_BASE)
    abs_a = np.abs(d)
    inside = abs_a <= linthresh
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (
            np.sign(d)
            * linthresh
            * (linscale_adj - np.log(linthresh) / log_base + np.log(abs_a) / log_base)
        )
    out[inside] = d[inside] * linscale_adj
    return out


def _symlog_inverse(g: np.ndarray, linthresh: float) -> np.ndarray:
    """Return the inverse of :func:`_symlog` (matplotlib's inverted transform)."""
    linscale_adj = _LINSCALE / (1.0 - 1.0 / _BASE)
    invlinthresh = linthresh * linscale_adj
    abs_a = np.abs(g)
    inside = abs_a <= invlinthresh
    with np.errstate(over="ignore"):
        out = np.sign(g) * linthresh * np.power(_BASE, abs_a / linthresh - linscale_adj)
    out[inside] = g[inside] / linscale_adj
    return out
