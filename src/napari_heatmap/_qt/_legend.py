"""The legend: the colormap as drawn, labelled with the effective limits and the data range."""

from __future__ import annotations

from functools import cache

import numpy as np
from magicgui.widgets import Container, Label
from qtpy.QtGui import QImage, QPixmap

from .._colormaps import colormap_lut

__all__ = ["Legend", "format_number", "gradient_pixmap"]

_BAR_HEIGHT = 14


def format_number(value: float) -> str:
    """Format a limit for the legend (4 significant digits)."""
    return f"{value:.4g}"


@cache
def gradient_pixmap(cmap_id: int, height: int = _BAR_HEIGHT) -> QPixmap:
    """Return the 256 colours of an OpenCV colormap as a 256 x ``height`` pixmap, low to high."""
    rgb = np.ascontiguousarray(np.repeat(colormap_lut(cmap_id)[None], height, axis=0))
    raw = rgb.tobytes()
    image = QImage(raw, 256, height, 256 * 3, QImage.Format.Format_RGB888)
    return QPixmap.fromImage(image.copy())  # copy: the QImage must not outlive ``raw``


class Legend(Container):
    """Gradient of the colormap between the effective vmin and vmax, and the data range."""

    def __init__(self) -> None:
        self.low = Label(value="")
        self.bar = Label(value="")
        self.high = Label(value="")
        self.data = Label(value="")
        bar_row = Container(widgets=[self.low, self.bar, self.high], layout="horizontal",
                            labels=False)
        bar_row.margins = (0, 0, 0, 0)
        super().__init__(widgets=[bar_row, self.data], labels=False, label="legend")
        self.margins = (0, 0, 0, 0)
        self.bar.native.setScaledContents(True)
        self.bar.native.setMinimumWidth(120)
        self.bar.native.setFixedHeight(_BAR_HEIGHT)
        self.bar.native.setToolTip("the colormap as drawn: vmin (left) to vmax (right)")
        self.show_state(None, None, None)

    def show_state(
        self,
        cmap_id: int | None,
        limits: tuple[float, float] | None,
        data_range: tuple[float, float] | None,
    ) -> None:
        """Draw the legend for a colormap id, the effective limits and the data range."""
        if cmap_id is None:
            self.bar.native.clear()
        else:
            self.bar.native.setPixmap(gradient_pixmap(cmap_id))
        self.low.value = "-" if limits is None else format_number(limits[0])
        self.high.value = "-" if limits is None else format_number(limits[1])
        if data_range is None:
            self.data.value = "data: no finite values"
        else:
            lo, hi = data_range
            self.data.value = f"data: {format_number(lo)} … {format_number(hi)}"
