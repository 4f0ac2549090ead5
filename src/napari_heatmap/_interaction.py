"""Clicks, hover values and the click marker of one heatmap.

napari-model floor: imports napari, never Qt. A click must work whatever layer is selected,
so the hook goes on ``viewer.mouse_drag_callbacks`` (added and removed idempotently) rather
than on a layer; a press/move/release generator tells a click from a drag (which pans).
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from napari.layers import Points

    from ._heatmap import Heatmap

__all__ = ["DRAG_TOLERANCE_PX", "Interaction", "format_value"]

#: A press and release further apart than this many screen pixels is a drag, not a click.
DRAG_TOLERANCE_PX = 4.0


def format_value(value: float) -> str:
    """Format a mask value for the marker and the status bar."""
    return "nan" if math.isnan(value) else f"{value:.4g}"


class Interaction:
    """The mouse hook, the status-bar value and the marker of one :class:`Heatmap`."""

    def __init__(self, heatmap: Heatmap) -> None:
        self._hm = heatmap
        self.marker_layer: Points | None = None
        self._hooked = False
        self._in_status = False
        self._status_text = ""

    # hooks ------------------------------------------------------------------------

    def connect(self) -> None:
        """Start reporting clicks and hover values (idempotent)."""
        viewer = self._hm.viewer
        if self._hooked or viewer is None:
            return
        viewer.mouse_drag_callbacks.append(self.on_mouse_drag)
        viewer.events.status.connect(self.on_status, position="last")
        viewer.cursor.events.position.connect(self.on_status, position="last")
        self._hooked = True

    def disconnect(self) -> None:
        """Stop reporting clicks and hover values (idempotent)."""
        viewer = self._hm.viewer
        if not self._hooked or viewer is None:
            return
        if self.on_mouse_drag in viewer.mouse_drag_callbacks:
            viewer.mouse_drag_callbacks.remove(self.on_mouse_drag)
        viewer.events.status.disconnect(self.on_status)
        viewer.cursor.events.position.disconnect(self.on_status)
        self._hooked = False

    @property
    def connected(self) -> bool:
        """Whether the mouse and status hooks are in place."""
        return self._hooked

    def on_mouse_drag(self, viewer: Any, event: Any) -> Generator[None, None, None]:
        """Report a left click (press and release without dragging); a drag pans."""
        if event.type != "mouse_press" or event.button != 1:
            return
        start = np.asarray(event.pos, dtype=float)
        world = tuple(float(v) for v in event.position)
        dragged = False
        yield
        while event.type == "mouse_move":
            if np.hypot(*(np.asarray(event.pos, dtype=float) - start)) > DRAG_TOLERANCE_PX:
                dragged = True
            yield
        if event.type == "mouse_release" and not dragged:
            self._hm.click_at(world)

    # status bar -------------------------------------------------------------------

    def on_status(self, event: Any = None) -> None:
        """Show the raw value under the cursor in napari's status bar, once.

        Runs when napari sets a new status and when the cursor moves, so the value is there
        whether napari computes its status in a thread or not. When napari's own status is
        about the heatmap layer (it is the one selected), its value — the blurred display
        value — is replaced by the raw one; otherwise the raw value is appended.
        """
        hm = self._hm
        viewer, layer = hm.viewer, hm.heatmap_layer
        if self._in_status or viewer is None:
            return
        target = None
        if viewer.mouse_over_canvas and layer is not None:
            target = hm.index_at(tuple(viewer.cursor.position))  # the slice on screen
        status = viewer.status
        current = str(status.get("coordinates", "")) if isinstance(status, dict) else status
        # drop what this heatmap wrote before (another heatmap's text stays)
        base = current.replace(self._status_text, "") if self._status_text else current
        text = ""
        if target is not None and layer is not None:
            raw = format_value(hm.value_at(*target[-2:], index=target[:-2]))
            text = f"{layer.name} mask[{', '.join(map(str, target))}] = {raw}"
            selection = viewer.layers.selection
            own = (
                isinstance(status, dict)
                and selection.active is layer
                and len(selection) < 2
                and status.get("layer_name") == layer.name
            )
            napari_part = f"{status.get('coords', '')}: {status.get('value', '')}" if own else ""
            if own and napari_part in base:  # napari's blurred value of this layer: ours instead
                base = base.replace(napari_part, "", 1)
                updated = text + base  # what other heatmaps appended follows
            else:
                text = " | " + text
                updated = base + text
        else:
            updated = base
        self._status_text = text
        if updated == current:
            return
        self._in_status = True
        try:
            viewer.status = (
                {**status, "coordinates": updated} if isinstance(status, dict) else updated
            )
        finally:
            self._in_status = False

    # marker -----------------------------------------------------------------------

    def show_marker(self, world: tuple[float, ...], value: float) -> None:
        """Put the marker, labelled with the value, at a world point."""
        hm = self._hm
        viewer, frame = hm.viewer, hm.frame
        if viewer is None or frame is None:
            return
        index = hm.click_index or ()
        # on a stack the marker is a point of the clicked slice: it shows on that slice only
        point = np.array([[*index[:-2], world[-2], world[-1]]], dtype=float)
        text = {
            "string": {"constant": format_value(value)},
            "color": "white",
            "size": 12,
            "anchor": "upper_left",
        }
        if self.marker_layer is not None and self.marker_layer.ndim != point.shape[1]:
            self.remove_marker()  # a marker of a 2-D mask cannot hold a stack's point
        if self.marker_layer is None or self.marker_layer not in viewer.layers:
            selected = list(viewer.layers.selection)
            active = viewer.layers.selection.active
            self.marker_layer = viewer.add_points(
                point,
                name="Heatmap click",
                size=max(frame) * 0.015,
                face_color="white",
                border_color="black",
                text=text,
                metadata=hm.layer_metadata("marker"),
            )
            viewer.layers.selection.clear()  # adding a layer selects it: give it back
            viewer.layers.selection.update(selected)
            viewer.layers.selection.active = active
        else:
            self.marker_layer.data = point
            self.marker_layer.text = text
            self.marker_layer.size = max(frame) * 0.015

    def remove_marker(self) -> None:
        """Take the marker off the viewer (if it is there)."""
        layer, self.marker_layer = self.marker_layer, None
        if layer is not None:
            self._hm.drop_layer(layer)
