"""The legend: the colormap as drawn, labelled with the effective limits and the data range."""

from __future__ import annotations

from functools import cache

import numpy as np
from magicgui.widgets import Container, Label
from qtpy.QtGui import QImage, QPixmap
from qtpy.QtWidgets import QSizePolicy

from .._colormaps import ColormapChoice
from .._layers import is_constant
from .._pipeline import rgba_from_display

__all__ = ["Legend", "format_number", "gradient_rgba", "legend_image"]

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
        super().__init__(widgets=[bar_row, self.data], labels=False, label="legend")
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
    ) -> None:
        """Draw the legend for a colormap, the effective limits and the data range."""
        if colormap is None:
            self.bar.native.clear()
            self.under.native.clear()
        else:
            row = gradient_rgba(colormap, transparent_low, is_constant(limits))
            self.bar.native.setPixmap(_pixmap(legend_image(row)))
            under = np.repeat(row[:1], _SWATCH_WIDTH, axis=0)
            self.under.native.setPixmap(_pixmap(legend_image(under)))
            self.under.native.setToolTip(
                "values at or below vmin: "
                + ("transparent (transparent low)" if under[0, 3] == 0 else "the lowest colour")
            )
        self.low.value = "-" if limits is None else format_number(limits[0])
        self.high.value = "-" if limits is None else format_number(limits[1])
        if data_range is None:
            self.data.value = "data: no finite values"
        else:
            lo, hi = data_range
            self.data.value = f"data: {format_number(lo)} … {format_number(hi)}"
