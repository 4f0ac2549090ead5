"""A histogram of the raw values in the heatmap's colours, with lines to drag for the limits.

A small painted widget (QPainter, no plotting library): napari's own histogram widget is
private (``napari._qt``), shows a layer's display data and has no lines to drag. It knows
nothing of the heatmap: the dock feeds it counts, bin edges and the colour of each bin, and
listens to :attr:`HistogramView.dragged` / :attr:`HistogramView.released`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from qtpy.QtCore import QPoint, QPointF, QRect, Qt, Signal
from qtpy.QtGui import QBrush, QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen, QPolygonF
from qtpy.QtWidgets import QCheckBox, QToolTip, QVBoxLayout, QWidget

__all__ = ["LINES", "HistogramPanel", "HistogramView", "bin_centres", "tidy"]

#: The lines the user can drag, in the order they are drawn.
LINES = ("vmin", "vmax", "threshold")
#: How far (in pixels) from a line a press still grabs it.
GRAB_PX = 6
_HEIGHT = 110
_PAD = 6  # left/right padding of the plot, so a line at an end stays grabbable
_TOP = 8  # room for the limit handles
_HANDLE = 5
_PLOT_BG = QColor(58, 58, 58)
_CHECKER = (QColor(204, 204, 204), QColor(153, 153, 153))
_LINE = {"vmin": QColor(255, 255, 255), "vmax": QColor(255, 255, 255)}
_THRESHOLD = QColor(255, 159, 28)


def _fmt(value: float) -> str:
    return f"{value:.4g}"


def tidy(value: float, resolution: float) -> float:
    """Round ``value`` to the power of ten just below ``resolution`` (what one pixel spans)."""
    if not (math.isfinite(value) and resolution > 0 and math.isfinite(resolution)):
        return value
    step = 10.0 ** math.floor(math.log10(resolution))
    digits = max(0, -math.floor(math.log10(step)))
    return float(round(round(value / step) * step, digits))


class HistogramView(QWidget):
    """Bars of counts per bin, each in its own colour, with vmin, vmax and threshold lines.

    The x axis runs from the first to the last edge, linearly or (``log_x``) logarithmically;
    bar heights are the counts, or ``log10(1 + count)`` with :attr:`log_counts`. A bar whose
    colour is (partly) transparent is drawn over a checkerboard, as the legend does.

    Lines: vmin and vmax (white, handles at the top) and the threshold (orange, dashed,
    handle at the bottom; at the left end, hollow, while it is None). Pressing near a line
    grabs it (the upper half of the plot prefers vmin/vmax, the lower half the threshold);
    moving emits :attr:`dragged` and releasing :attr:`released` with ``(name, value)``.
    vmin cannot be dragged past vmax nor vmax past vmin.
    """

    #: (name, value) while a line is dragged.
    dragged = Signal(str, float)
    #: (name, value) when a dragged line is let go.
    released = Signal(str, float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(160, _HEIGHT)
        self.setMouseTracking(True)
        self._counts = np.zeros(0, np.int64)
        self._edges = np.zeros(0, np.float64)
        self._colours = np.zeros((0, 4), np.uint8)
        self._log_x = False
        self._log_counts = False
        self._height_cache: np.ndarray | None = None
        self._lines: dict[str, float | None] = dict.fromkeys(LINES)
        self._dragging: str | None = None
        self._checker = _checker_brush()

    # ------------------------------------------------------------------ data

    def set_histogram(
        self,
        counts: np.ndarray | None,
        edges: np.ndarray | None,
        colours: np.ndarray | None,
        *,
        log_x: bool = False,
    ) -> None:
        """Show ``counts`` (N) between ``edges`` (N + 1), bar i in ``colours[i]`` (RGBA uint8).

        None (or no bin) shows an empty plot. ``log_x`` puts the axis on a log scale (the
        edges must then be positive).
        """
        if counts is None or edges is None or len(counts) == 0:
            self._counts = np.zeros(0, np.int64)
            self._edges = np.zeros(0, np.float64)
            self._colours = np.zeros((0, 4), np.uint8)
        else:
            self._counts = np.asarray(counts, np.int64)
            self._edges = np.asarray(edges, np.float64)
            if self._edges.shape != (len(self._counts) + 1,):
                raise ValueError("edges: need one more edge than counts")
            self._colours = self._checked_colours(colours)
        self._log_x = bool(log_x) and self.has_data and bool(self._edges[0] > 0)
        self._height_cache = None
        self.update()

    def set_colours(self, colours: np.ndarray | None) -> None:
        """Recolour the bars (one RGBA row per bin) without changing the counts."""
        self._colours = self._checked_colours(colours)
        self.update()

    def _checked_colours(self, colours: np.ndarray | None) -> np.ndarray:
        n = len(self._counts)
        if colours is None:
            return np.full((n, 4), 128, np.uint8)
        rgba = np.asarray(colours, np.uint8)
        if rgba.shape != (n, 4):
            raise ValueError(f"colours: need shape ({n}, 4), got {rgba.shape}")
        return rgba

    def set_lines(
        self, vmin: float | None, vmax: float | None, threshold: float | None = None
    ) -> None:
        """Place the vmin, vmax and threshold lines (None: vmin/vmax hidden, threshold unset).

        A line being dragged stays under the mouse.
        """
        for name, value in zip(LINES, (vmin, vmax, threshold), strict=True):
            if name != self._dragging:
                self._lines[name] = None if value is None else float(value)
        self.update()

    @property
    def log_counts(self) -> bool:
        """Whether bar heights are ``log10(1 + count)`` rather than counts."""
        return self._log_counts

    @log_counts.setter
    def log_counts(self, value: bool) -> None:
        self._log_counts = bool(value)
        self._height_cache = None
        self.update()

    @property
    def counts(self) -> np.ndarray:
        """The counts shown (a copy)."""
        return self._counts.copy()

    @property
    def edges(self) -> np.ndarray:
        """The bin edges shown (a copy)."""
        return self._edges.copy()

    @property
    def colours(self) -> np.ndarray:
        """The RGBA colour of each bar (a copy)."""
        return self._colours.copy()

    @property
    def has_data(self) -> bool:
        """Whether there are bins to show."""
        return len(self._counts) > 0

    @property
    def lines(self) -> dict[str, float | None]:
        """The values of the lines as drawn now (a copy)."""
        return dict(self._lines)

    @property
    def dragging(self) -> str | None:
        """The line being dragged, or None."""
        return self._dragging

    # ------------------------------------------------------------------ geometry

    def plot_rect(self) -> QRect:
        """Return the rectangle the bars are drawn in (widget coordinates)."""
        label = self.fontMetrics().height() + 4
        return QRect(_PAD, _TOP, max(1, self.width() - 2 * _PAD), self.height() - _TOP - label)

    def _axis(self) -> tuple[float, float]:
        """Return the axis ends in axis units (log10 of the values under ``log_x``), never equal."""
        lo, hi = float(self._edges[0]), float(self._edges[-1])
        if self._log_x:
            lo, hi = math.log10(lo), math.log10(hi)
        if not hi > lo:
            lo, hi = lo - 0.5, hi + 0.5
        return lo, hi

    def x_of(self, value: float) -> float:
        """Return the x (widget pixels, maybe outside the plot) where ``value`` sits."""
        lo, hi = self._axis()
        rect = self.plot_rect()
        if self._log_x:
            value = math.log10(value) if value > 0 else -math.inf
        u = (value - lo) / (hi - lo)
        u = min(max(u, -1.0), 2.0)  # -inf/inf and far values: just beyond the ends
        return rect.left() + u * rect.width()

    def value_at(self, x: float) -> float:
        """Return the value at pixel ``x``, clamped to the axis, rounded to what a pixel spans."""
        lo, hi = self._axis()
        rect = self.plot_rect()
        u = min(max((x - rect.left()) / rect.width(), 0.0), 1.0)
        a = lo + u * (hi - lo)
        step = (hi - lo) / rect.width()
        if self._log_x:
            value = 10.0**a
            return tidy(value, value * (10.0**step - 1.0))
        return tidy(a, step)

    def bar_rect(self, i: int) -> QRect:
        """Return the rectangle of bar ``i`` (widget pixels); at least one pixel wide."""
        rect = self.plot_rect()
        x0 = round(self.x_of(float(self._edges[i])))
        x1 = max(x0 + 1, round(self.x_of(float(self._edges[i + 1]))))
        h = round(float(self._heights()[i]) * rect.height())
        return QRect(x0, rect.bottom() + 1 - h, x1 - x0, h)

    def _heights(self) -> np.ndarray:
        """Return the bar heights as fractions of the plot height (kept until data change)."""
        if self._height_cache is None:
            c = self._counts.astype(np.float64)
            if self._log_counts:
                c = np.log10(1.0 + c)
            peak = c.max() if c.size else 0.0
            self._height_cache = c / peak if peak > 0 else c
        return self._height_cache

    def bin_at(self, x: float) -> int | None:
        """Return the bin under pixel ``x``, or None."""
        if not self.has_data:
            return None
        for i in range(len(self._counts)):
            r = self.bar_rect(i)
            if r.left() <= x <= r.right():
                return i
        return None

    def line_at(self, x: float, y: float) -> str | None:
        """Return the line a press at (x, y) grabs, or None (see the class docstring)."""
        if not self.has_data:
            return None
        where = {name: self._line_x(name) for name in LINES}
        near = {
            name: abs(lx - x)
            for name, lx in where.items()
            if lx is not None and abs(lx - x) <= GRAB_PX
        }
        if not near:
            return None
        rect = self.plot_rect()
        lower = y > rect.top() + rect.height() / 2
        limits = [n for n in ("vmin", "vmax") if n in near]
        if "threshold" in near and (lower or not limits):
            return "threshold"
        if len(limits) == 2:
            if self._lines["vmin"] == self._lines["vmax"]:  # one line: the side says which
                return "vmin" if x < self._line_x("vmin") else "vmax"  # type: ignore[operator]
            return min(limits, key=near.__getitem__)
        return limits[0] if limits else None

    def _line_x(self, name: str) -> float | None:
        """Where a line is drawn; an unset threshold sits at the left end."""
        value = self._lines[name]
        if value is None:
            return float(self.plot_rect().left()) if name == "threshold" else None
        rect = self.plot_rect()
        return min(max(self.x_of(value), rect.left()), rect.right() + 1)

    def line_x(self, name: str) -> float | None:
        """Where line ``name`` is drawn (pixels), or None when it is not drawn."""
        return self._line_x(name) if self.has_data else None

    def tooltip_at(self, x: float, y: float) -> str:
        """Return what the hover tooltip says at (x, y)."""
        if not self.has_data:
            return "no finite values"
        line = self.line_at(x, y)
        if line is not None:
            value = self._lines[line]
            shown = "none" if value is None else _fmt(value)
            return f"{line} = {shown}: drag to change"
        i = self.bin_at(x)
        if i is None:
            return ""
        a, b = self._edges[i], self._edges[i + 1]
        close = "]" if i == len(self._counts) - 1 else ")"
        return f"[{_fmt(a)}, {_fmt(b)}{close}: {int(self._counts[i])} values"

    # ------------------------------------------------------------------ painting

    def paintEvent(self, event: QPaintEvent | None) -> None:
        """Draw the plot, the bars, the lines and the axis labels (Qt API)."""
        painter = QPainter(self)
        try:
            rect = self.plot_rect()
            painter.fillRect(rect, _PLOT_BG)
            if not self.has_data:
                painter.setPen(self.palette().windowText().color())
                painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "no finite values")
                return
            for i in range(len(self._counts)):
                bar = self.bar_rect(i)
                if bar.height() <= 0:
                    continue
                r, g, b, a = (int(v) for v in self._colours[i])
                if a < 255:
                    painter.fillRect(bar, self._checker)
                painter.fillRect(bar, QColor(r, g, b, a))
            for name in LINES:
                self._draw_line(painter, name, rect)
            self._draw_labels(painter, rect)
        finally:
            painter.end()

    def _draw_line(self, painter: QPainter, name: str, rect: QRect) -> None:
        x = self._line_x(name)
        if x is None:
            return
        top, bottom = rect.top(), rect.bottom() + 1
        unset = self._lines[name] is None
        colour = _THRESHOLD if name == "threshold" else _LINE[name]
        if not unset:
            painter.setPen(QPen(QColor(0, 0, 0), 3))
            painter.drawLine(QPointF(x, top), QPointF(x, bottom))
            pen = QPen(colour, 1)
            if name == "threshold":
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawLine(QPointF(x, top), QPointF(x, bottom))
        # handle: a triangle at the top for the limits, at the bottom for the threshold
        tip = top if name != "threshold" else bottom - 1
        base = tip - _HANDLE if name != "threshold" else tip - 2 * _HANDLE
        if name == "threshold":
            points = [QPointF(x, base), QPointF(x - _HANDLE, tip), QPointF(x + _HANDLE, tip)]
        else:
            points = [QPointF(x, tip), QPointF(x - _HANDLE, base), QPointF(x + _HANDLE, base)]
        painter.setPen(QPen(colour if unset else QColor(0, 0, 0), 1))
        painter.setBrush(Qt.BrushStyle.NoBrush if unset else QBrush(colour))
        painter.drawPolygon(QPolygonF(points))
        painter.setBrush(Qt.BrushStyle.NoBrush)

    def _draw_labels(self, painter: QPainter, rect: QRect) -> None:
        painter.setPen(self.palette().windowText().color())
        y = rect.bottom() + 2
        h = self.height() - y
        left = QRect(rect.left(), y, rect.width(), h)
        lo, hi = float(self._edges[0]), float(self._edges[-1])
        painter.drawText(left, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop, _fmt(lo))
        painter.drawText(left, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop, _fmt(hi))
        scale = ("log x, " if self._log_x else "") + ("log counts" if self._log_counts else "")
        if scale:
            painter.drawText(
                left, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, scale.strip(", ")
            )

    # ------------------------------------------------------------------ mouse

    def mousePressEvent(self, event: QMouseEvent | None) -> None:
        """Grab the line under the mouse (Qt API)."""
        if event is None or event.button() != Qt.MouseButton.LeftButton:
            return
        p = event.position()
        self._dragging = self.line_at(p.x(), p.y())
        if self._dragging is not None:
            self.setCursor(Qt.CursorShape.SizeHorCursor)

    def mouseMoveEvent(self, event: QMouseEvent | None) -> None:
        """Move the grabbed line, or show the hover tooltip (Qt API)."""
        if event is None:
            return
        p = event.position()
        if self._dragging is None:
            grab = self.line_at(p.x(), p.y())
            self.setCursor(
                Qt.CursorShape.SizeHorCursor if grab is not None else Qt.CursorShape.ArrowCursor
            )
            QToolTip.showText(
                self.mapToGlobal(QPoint(round(p.x()), round(p.y()))), self.tooltip_at(p.x(), p.y())
            )
            return
        name = self._dragging
        value = self._clamped(name, self.value_at(p.x()))
        self._lines[name] = value
        self.update()
        self.dragged.emit(name, value)

    def mouseReleaseEvent(self, event: QMouseEvent | None) -> None:
        """Let go of the grabbed line and say where it ended (Qt API)."""
        if event is None or self._dragging is None:
            return
        name, self._dragging = self._dragging, None
        self.setCursor(Qt.CursorShape.ArrowCursor)
        value = self._clamped(name, self.value_at(event.position().x()))
        self._lines[name] = value
        self.update()
        self.released.emit(name, value)

    def _clamped(self, name: str, value: float) -> float:
        """Keep vmin at or below vmax and vmax at or above vmin."""
        vmin, vmax = self._lines["vmin"], self._lines["vmax"]
        if name == "vmin" and vmax is not None:
            return min(value, vmax)
        if name == "vmax" and vmin is not None:
            return max(value, vmin)
        return value


def _checker_brush() -> QBrush:
    """Return the legend's checkerboard (32-bit: a screen-depth pixmap would dither it)."""
    size = 4
    image = QImage(2 * size, 2 * size, QImage.Format.Format_RGB32)
    image.fill(_CHECKER[0])
    painter = QPainter(image)
    painter.fillRect(0, 0, size, size, _CHECKER[1])
    painter.fillRect(size, size, size, size, _CHECKER[1])
    painter.end()
    return QBrush(image)


class HistogramPanel(QWidget):
    """The histogram view with its "log counts" toggle."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = HistogramView(self)
        self.log_counts = QCheckBox("log counts", self)
        self.log_counts.setToolTip("bar heights: log10(1 + count) instead of counts")
        self.log_counts.toggled.connect(self._on_log_counts)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.view)
        layout.addWidget(self.log_counts)
        self.view.setToolTip("")

    def _on_log_counts(self, checked: bool) -> None:
        self.view.log_counts = checked


def bin_centres(edges: Sequence[float] | np.ndarray, log_x: bool = False) -> np.ndarray:
    """Return the centre of each bin: arithmetic, or geometric on a log axis."""
    e = np.asarray(edges, np.float64)
    if log_x:
        return np.sqrt(e[:-1] * e[1:])
    return (e[:-1] + e[1:]) / 2.0
