"""Render a whole napari window (canvas, docks, status bar) to a PNG, headless-friendly."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from qtpy.QtWidgets import QApplication

__all__ = ["process_events", "save_window"]


def process_events(seconds: float = 0.5) -> None:
    """Let Qt lay out and paint for about ``seconds`` (no event loop needed)."""
    app = QApplication.instance()
    if app is None:
        return
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def save_window(viewer: Any, path: str | Path, size: tuple[int, int] = (1200, 800)) -> Path:
    """Show the viewer's window at ``size`` (width, height), fit the view and save it.

    Returns
    -------
    pathlib.Path
        Where the PNG was written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    viewer.window.resize(*size)
    viewer.window.show()
    process_events()
    viewer.reset_view()
    process_events()
    viewer.screenshot(str(path), canvas_only=False)
    return path
