"""Helpers for real-window tests: world <-> canvas pixels, screenshots, real mouse clicks.

And `widget_pixels`: a Qt widget painted into an image, for pixel checks of the dock's views.

One piece of maths for all of them: where a world point falls on the canvas, as fractions of
the canvas size, from napari's own view box (so HiDPI screenshots and any zoom agree).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from qtpy.QtCore import QPoint, Qt
from qtpy.QtGui import QImage
from qtpy.QtTest import QTest


def canvas_fraction(viewer: Any, world_yx: tuple[float, float]) -> tuple[float, float]:
    """Return where a world point is on the canvas, as (fx, fy) fractions of its size."""
    canvas = viewer.window._qt_viewer.canvas
    top_left, bottom_right = np.asarray(canvas._viewbox_corners_in_world)[:, -2:]
    fy, fx = (np.asarray(world_yx, float) - top_left) / (bottom_right - top_left)
    return float(fx), float(fy)


def canvas_point(viewer: Any, world_yx: tuple[float, float]) -> tuple[float, float]:
    """Return the canvas widget's (x, y), in Qt's logical pixels, of a world point."""
    native = viewer.window._qt_viewer.canvas.native
    fx, fy = canvas_fraction(viewer, world_yx)
    return fx * native.width(), fy * native.height()


def shot_pixel(viewer: Any, shot: np.ndarray, world_yx: tuple[float, float]) -> np.ndarray:
    """Return the RGB of a canvas screenshot at a world point (as ints)."""
    fx, fy = canvas_fraction(viewer, world_yx)
    row, col = int(fy * shot.shape[0]), int(fx * shot.shape[1])
    return shot[row, col, :3].astype(int)


def screen_pixel(viewer: Any, world_yx: tuple[float, float]) -> np.ndarray:
    """Return the RGB colour drawn at a world point (from a fresh canvas screenshot)."""
    return shot_pixel(viewer, viewer.screenshot(canvas_only=True, flash=False), world_yx)


def click_canvas(
    viewer: Any, world_yx: tuple[float, float], drag_to: tuple[int, int] | None = None
) -> None:
    """Click the left button on the canvas over a world point, or press there and release
    after dragging ``drag_to`` screen pixels (dx, dy) in five steps."""
    native = viewer.window._qt_viewer.canvas.native
    x, y = canvas_point(viewer, world_yx)
    start = QPoint(int(round(x)), int(round(y)))
    buttons = (Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    if drag_to is None:
        QTest.mouseClick(native, *buttons, start)
        QTest.qWait(20)
        return
    QTest.mouseMove(native, start)
    QTest.mousePress(native, *buttons, start)
    end = start
    for k in range(1, 6):
        end = QPoint(start.x() + drag_to[0] * k // 5, start.y() + drag_to[1] * k // 5)
        QTest.mouseMove(native, end)
        QTest.qWait(5)
    QTest.mouseRelease(native, *buttons, end)
    QTest.qWait(20)


def canvas_shot(viewer: Any) -> np.ndarray:
    """Return a screenshot of the canvas once Qt has drawn what is pending."""
    QTest.qWait(50)
    return viewer.screenshot(canvas_only=True, flash=False)


def widget_pixels(widget: Any) -> np.ndarray:
    """The widget painted into a 32-bit image, as (h, w, 4) RGBA (exact, whatever the screen)."""
    image = QImage(widget.size(), QImage.Format.Format_RGBA8888)
    image.fill(0)
    widget.render(image)
    ptr = image.constBits()
    ptr.setsize(image.sizeInBytes())
    rows = np.frombuffer(ptr, np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, : 4 * image.width()].reshape(image.height(), image.width(), 4).copy()
