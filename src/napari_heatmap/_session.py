"""Open the demo as a ready heatmap and share a heatmap with napari's console.

napari-model floor: imports napari, never Qt.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

from ._sample import DEMO_OPACITY, DEMO_SETTINGS, demo_data

if TYPE_CHECKING:
    from napari.components import ViewerModel

    from ._heatmap import Heatmap

__all__ = ["CONSOLE_NAME", "open_demo", "push_to_console"]

#: The name under which the heatmap appears in napari's console.
CONSOLE_NAME = "heatmap"


def open_demo(viewer: ViewerModel | None = None) -> Heatmap:
    """Show the documented demo (gradient background, two blobs) as a ready heatmap.

    Parameters
    ----------
    viewer : napari.Viewer or ViewerModel or None
        Where to draw: the current viewer when None, else a new one.

    Returns
    -------
    Heatmap
        The demo heatmap, with the demo's settings and opacity 70; also pushed to the
        console as ``heatmap``.
    """
    from ._heatmap import Heatmap

    if viewer is None:
        import napari

        viewer = napari.current_viewer() or napari.Viewer()
    background, mask = demo_data()
    hm = Heatmap(background_image=background, heatmap_mask=mask, viewer=viewer, **DEMO_SETTINGS)
    hm.opacity = DEMO_OPACITY
    push_to_console(viewer, hm)
    return hm


def push_to_console(viewer: Any, hm: Heatmap | None) -> bool:
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
