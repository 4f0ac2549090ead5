"""Share a heatmap with napari's console as ``heatmap``.

napari-model floor: imports nothing of napari at import time, never Qt.
"""

from __future__ import annotations

import contextlib
from typing import Any

__all__ = ["CONSOLE_NAME", "push_to_console"]

#: The name under which the heatmap appears in napari's console.
CONSOLE_NAME = "heatmap"


def push_to_console(viewer: Any, hm: Any) -> bool:
    """Make ``hm`` available as ``heatmap`` in the viewer's console.

    A viewer without a window (``ViewerModel``) or whose window is gone is left alone.
    When the console has not been opened yet, napari keeps the name until it is.

    Returns
    -------
    bool
        Whether the name was handed to the console (or its backlog).
    """
    viewer = getattr(viewer, "__wrapped__", viewer)  # a plugin widget gets a proxy
    update = getattr(viewer, "update_console", None)
    if update is None:
        return False
    # A closed window has no Qt viewer any more: nothing to push to.
    with contextlib.suppress(AttributeError, RuntimeError):
        update({CONSOLE_NAME: hm})
        return True
    return False
