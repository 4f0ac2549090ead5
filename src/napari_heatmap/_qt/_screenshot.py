"""Render a whole napari window (canvas, docks, status bar) to a PNG, headless-friendly."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import cv2
from qtpy.QtWidgets import QApplication

from .._output import IMAGE_SUFFIXES, WINDOW_SIZE, check_image_path

__all__ = ["IMAGE_SUFFIXES", "WINDOW_SIZE", "process_events", "save_window"]


def process_events(seconds: float = 0.5) -> None:
    """Let Qt lay out and paint for about ``seconds`` (no event loop needed)."""
    app = QApplication.instance()
    if app is None:
        return
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def save_window(viewer: Any, path: str | Path, size: tuple[int, int] = WINDOW_SIZE) -> Path:
    """Show the viewer's window at ``size`` (width, height), fit the view and save it.

    The file type follows the suffix (see ``IMAGE_SUFFIXES``); JPEG and BMP drop alpha.

    Returns
    -------
    pathlib.Path
        Where the image was written.

    Raises
    ------
    ValueError
        If the suffix is not an image type we write or the folder is missing or not
        writable (checked before the window is shown, see `check_image_path`).
    """
    path = check_image_path(path)
    suffix = path.suffix.lower()
    viewer.window.show()
    process_events()
    viewer.window.resize(*size)  # after show(): napari sizes a window it shows (to the screen)
    process_events()
    viewer.reset_view()
    process_events()
    rgba = viewer.screenshot(canvas_only=False, flash=False)
    code = cv2.COLOR_RGBA2BGR if suffix in (".jpg", ".jpeg", ".bmp") else cv2.COLOR_RGBA2BGRA
    ok, buf = cv2.imencode(suffix, cv2.cvtColor(rgba, code))
    if not ok:
        raise ValueError(f"screenshot: could not encode {str(path)!r}")
    path.write_bytes(buf.tobytes())
    return path
