"""Open the demo as a ready heatmap.

napari-model floor: imports napari, never Qt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._console import CONSOLE_NAME, push_to_console
from ._sample import DEMO_OPACITY, DEMO_SETTINGS, demo_data

if TYPE_CHECKING:
    from napari.components import ViewerModel

    from ._heatmap import Heatmap

__all__ = ["CONSOLE_NAME", "open_demo", "push_to_console"]


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
