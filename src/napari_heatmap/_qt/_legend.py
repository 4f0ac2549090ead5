"""The legend: the colormap as drawn, labelled with the effective limits and the data range.

The colours along the bar are always the table's entries at round(255·t), t running evenly
from 0 (left) to 1 (right), whatever the norm; a norm only moves where values sit along it,
which ticks under the bar show. With a threshold the part of the bar below it is drawn
transparent (over the checkerboard), as the heatmap draws those pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from magicgui.widgets import Container, Label
from qtpy.QtCore import QPoint, QRect, Qt
from qtpy.QtGui import QImage, QPainter, QPaintEvent, QPixmap
from qtpy.QtWidgets import QSizePolicy, QWidget

from .._colormaps import ColormapChoice
from .._layers import is_constant
from .._norms import Norm
from .._pipeline import rgba_from_display

__all__ = [
    "Legend",
    "LegendScale",
    "format_number",
    "gradient_rgba",
    "legend_image",
    "scale_t",
    "scale_ticks",
]

_BAR_HEIGHT = 14
#: Two columns per colour step (one for each end step): the bins of behaviour §2.4 exactly.
_BAR_WIDTH = 510
_SWATCH_WIDTH = 12
_CHECKER = 4
_CHECKER_LIGHT, _CHECKER_DARK = 204, 153


def format_number(value: float) -> str:
    """Format a limit for the legend (4 significant digits)."""
    return f"{value:.4g}"


@cache
def gradient_rgba(
    colormap: ColormapChoice,
    transparent_low: bool,
    constant: bool = False,
    width: int = _BAR_WIDTH,
) -> np.ndarray:
    """Return the colours drawn from vmin (left) to vmax (right) as a ``(width, 4)`` RGBA row.

    Column ``c`` stands for t = (c + 0.5) / width, coloured by the same recipe as the
    heatmap (:func:`~napari_heatmap._pipeline.rgba_from_display`): transparent where
    ``transparent_low`` hides t < 1/255, the middle colour throughout when ``constant``.
    """
    t = ((np.arange(width) + 0.5) / width)[None]
    limits = (0.0, 0.0) if constant else (0.0, 1.0)
    rgba = rgba_from_display(t, limits, colormap, transparent_low)[0]
    rgba.setflags(write=False)
    return rgba


@dataclass(frozen=True)
class LegendScale:
    """How values sit along the bar: the heatmap's norm, its parameters and the threshold."""

    norm: str = "linear"
    linthresh: float = 1.0
    vcenter: float = 0.0
    threshold: float | None = None


def scale_t(values: np.ndarray, limits: tuple[float, float], scale: LegendScale) -> np.ndarray:
    """Return t in [0, 1] (the position along the bar) of each value under the scale's norm.

    The heatmap's own rule (:meth:`napari_heatmap._norms.Norm.t`, matplotlib's norms),
    clipped; equal limits put every value in the middle.
    """
    d = np.asarray(values, np.float64)
    if limits[0] == limits[1]:
        return np.full(d.shape, 0.5)
    norm = Norm(scale.norm, scale.linthresh, scale.vcenter)
    return np.clip(norm.t(d, limits), 0.0, 1.0)


#: At most this many ticks inside the bar (the ends are labelled beside it).
MAX_TICKS = 5


def scale_ticks(limits: tuple[float, float], scale: LegendScale) -> list[float]:
    """Return the values worth a tick strictly inside the limits under a non-linear norm.

    ``"log"``: the powers of ten; ``"symlog"``: 0, ±linthresh and the powers of ten beyond;
    ``"centered"``: vcenter; ``"linear"``: none (the bar is even). Thinned to
    :data:`MAX_TICKS`, keeping every other one.
    """
    lo, hi = limits
    if not hi > lo:
        return []
    if scale.norm == "centered":
        ticks = [scale.vcenter]
    elif scale.norm == "log" and lo > 0:
        ticks = _decades(lo, hi)
    elif scale.norm == "symlog":
        c = scale.linthresh
        ticks = [0.0, c, -c]
        ticks += [x for x in _decades(c, max(abs(lo), abs(hi))) if x > c]
        ticks += [-x for x in _decades(c, max(abs(lo), abs(hi))) if x > c]
    else:
        ticks = []
    inside = sorted({x for x in ticks if lo < x < hi})
    while len(inside) > MAX_TICKS:
        inside = inside[::2]
    return inside


def _decades(lo: float, hi: float) -> list[float]:
    """Return the powers of ten in [lo, hi] (lo > 0)."""
    if not (lo > 0 and hi >= lo and math.isfinite(hi)):
        return []
    first, last = math.ceil(math.log10(lo)), math.floor(math.log10(hi))
    return [10.0**k for k in range(first, last + 1)]


def thresholded(
    row: np.ndarray,
    limits: tuple[float, float] | None,
    scale: LegendScale,
) -> np.ndarray:
    """Return the bar's row with the columns below the threshold made transparent.

    Column c stands for t = (c + 0.5) / width; a norm is monotonic, so the columns hidden
    are those whose t is below the threshold's.
    """
    if scale.threshold is None or limits is None or limits[0] == limits[1]:
        return row
    width = row.shape[0]
    t = (np.arange(width) + 0.5) / width
    t_thr = float(scale_t(np.array([scale.threshold]), limits, scale)[0])
    if scale.threshold <= limits[0]:
        return row
    out = row.copy()
    out[t < t_thr, 3] = 0
    return out


def legend_image(row: np.ndarray, height: int = _BAR_HEIGHT) -> np.ndarray:
    """Return an RGBA row repeated ``height`` times over a checkerboard, as ``(h, w, 3)`` RGB."""
    rows = np.repeat(row[None].astype(np.float32), height, axis=0)
    yy, xx = np.mgrid[:height, : row.shape[0]]
    light = ((yy // _CHECKER + xx // _CHECKER) % 2 == 0)[..., None]
    checker = np.where(light, _CHECKER_LIGHT, _CHECKER_DARK).astype(np.float32)
    alpha = rows[..., 3:] / 255.0
    rgb = rows[..., :3] * alpha + checker * (1.0 - alpha)
    return np.ascontiguousarray(np.round(rgb).astype(np.uint8))


def _pixmap(rgb: np.ndarray) -> QPixmap:
    h, w = rgb.shape[:2]
    raw = rgb.tobytes()
    image = QImage(raw, w, h, w * 3, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(image.copy())  # copy: the QImage must not outlive ``raw``


class Legend(Container):
    """Gradient of the colormap between the effective vmin and vmax, and the data range.

    Left of the gradient a swatch shows how values at or below vmin are drawn: the lowest
    colour, or a checkerboard (transparent) with ``transparent_low``. The gradient itself
    shows the transparent lowest step (t < 1/255) the same way.
    """

    def __init__(self) -> None:
        self.low = Label(value="")
        self.under = Label(value="")
        self.bar = Label(value="")
        self.high = Label(value="")
        self.data = Label(value="")
        bar_row = Container(
            widgets=[self.low, self.under, self.bar, self.high], layout="horizontal", labels=False
        )
        bar_row.margins = (0, 0, 0, 0)
        self.ticks = TickStrip(self.bar.native)
        self._ticks_holder: Container[Any] = Container(labels=False)
        self._ticks_holder.margins = (0, 0, 0, 0)
        self._ticks_holder.native.layout().addWidget(self.ticks)
        super().__init__(
            widgets=[bar_row, self._ticks_holder, self.data], labels=False, label="legend"
        )
        self.margins = (0, 0, 0, 0)
        self.under.native.setFixedSize(_SWATCH_WIDTH, _BAR_HEIGHT)
        self.bar.native.setScaledContents(True)
        # the pixmap's 510 columns must not set the dock's width: take the room there is
        self.bar.native.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.bar.native.setMinimumWidth(120)
        self.bar.native.setFixedHeight(_BAR_HEIGHT)
        self.bar.native.setToolTip("the colormap as drawn: vmin (left) to vmax (right)")
        self.show_state(None, None, None)

    def show_state(
        self,
        colormap: ColormapChoice | None,
        limits: tuple[float, float] | None,
        data_range: tuple[float, float] | None,
        transparent_low: bool = False,
        scale: LegendScale | None = None,
    ) -> None:
        """Draw the legend for a colormap, the effective limits and the data range.

        ``scale`` (default: linear, no threshold) places the ticks and hides what lies below
        the threshold.
        """
        scale = LegendScale() if scale is None else scale
        if colormap is None:
            self.bar.native.clear()
            self.under.native.clear()
        else:
            row = thresholded(
                gradient_rgba(colormap, transparent_low, is_constant(limits)), limits, scale
            )
            self.bar.native.setPixmap(_pixmap(legend_image(row)))
            under = np.repeat(row[:1], _SWATCH_WIDTH, axis=0)
            below = scale.threshold is not None and limits is not None
            if below and scale.threshold > limits[0]:  # type: ignore[operator, index]
                under = under.copy()
                under[:, 3] = 0
                why = "transparent (below the threshold)"
            else:
                why = "transparent (transparent low)" if under[0, 3] == 0 else "the lowest colour"
            self.under.native.setPixmap(_pixmap(legend_image(under)))
            self.under.native.setToolTip("values at or below vmin: " + why)
        ticks = [] if limits is None else scale_ticks(limits, scale)
        positions = [] if limits is None else scale_t(np.array(ticks), limits, scale).tolist()
        self.ticks.set_ticks([(t, format_number(v)) for t, v in zip(positions, ticks, strict=True)])
        self._ticks_holder.visible = bool(ticks)
        self.low.value = "-" if limits is None else format_number(limits[0])
        self.high.value = "-" if limits is None else format_number(limits[1])
        if data_range is None:
            self.data.value = "data: no finite values"
        else:
            lo, hi = data_range
            self.data.value = f"data: {format_number(lo)} … {format_number(hi)}"


class TickStrip(QWidget):
    """Tick marks and labels under the legend's bar, at positions t in [0, 1] along it."""

    def __init__(self, bar: QWidget) -> None:
        super().__init__()
        self._bar = bar
        self._ticks: list[tuple[float, str]] = []
        self.setFixedHeight(self.fontMetrics().height() + 4)

    @property
    def ticks(self) -> list[tuple[float, str]]:
        """The (t, label) pairs shown."""
        return list(self._ticks)

    def set_ticks(self, ticks: list[tuple[float, str]]) -> None:
        """Show these (t, label) ticks."""
        self._ticks = list(ticks)
        self.setToolTip("where these values sit along the bar under the norm")
        self.update()

    def tick_x(self, t: float) -> float:
        """Return the x (own pixels) under position t of the bar."""
        left = self.mapFromGlobal(self._bar.mapToGlobal(QPoint(0, 0))).x()
        return left + t * self._bar.width()

    def paintEvent(self, event: QPaintEvent | None) -> None:
        """Draw each tick and, where it does not overlap the previous one, its label (Qt API)."""
        painter = QPainter(self)
        try:
            painter.setPen(self.palette().windowText().color())
            metrics = self.fontMetrics()
            right_of_last = -math.inf
            for t, label in self._ticks:
                x = round(self.tick_x(t))
                painter.drawLine(x, 0, x, 3)
                w = metrics.horizontalAdvance(label)
                left = x - w // 2
                if left > right_of_last + 2:
                    painter.drawText(
                        QRect(left, 3, w + 1, self.height() - 3),
                        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
                        label,
                    )
                    right_of_last = left + w
        finally:
            painter.end()
