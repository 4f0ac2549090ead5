"""Helpers for real-window tests: world <-> canvas pixels, real mouse clicks."""

from __future__ import annotations

from typing import Any

import numpy as np
from qtpy.QtCore import QPoint, Qt
from qtpy.QtTest import QTest


def canvas_fraction(viewer: Any, world_yx: tuple[float, float]) -> tuple[float, float]:
    """Return where a world point is on the canvas, as (fx, fy) fractions of its size."""
    canvas = viewer.window._qt_viewer.canvas
    top_left, bottom_right = np.asarray(canvas._viewbox_corners_in_world)[:, -2:]
    fy, fx = (np.asarray(world_yx, float) - top_left) / (bottom_right - top_left)
    return float(fx), float(fy)


def screen_pixel(viewer: Any, world_yx: tuple[float, float]) -> np.ndarray:
    """Return the RGB colour drawn at a world point (from a canvas screenshot)."""
    shot = viewer.screenshot(canvas_only=True, flash=False)
    fx, fy = canvas_fraction(viewer, world_yx)
    row, col = int(fy * shot.shape[0]), int(fx * shot.shape[1])
    return shot[row, col, :3].astype(int)


def click_canvas(viewer: Any, world_yx: tuple[float, float]) -> None:
    """Press and release the left mouse button on the canvas over a world point."""
    native = viewer.window._qt_viewer.canvas.native
    fx, fy = canvas_fraction(viewer, world_yx)
    point = QPoint(int(fx * native.width()), int(fy * native.height()))
    QTest.mouseClick(native, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
