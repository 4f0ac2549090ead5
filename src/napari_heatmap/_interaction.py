"""Clicks, hover values and the click marker of one heatmap.

napari-model floor: imports napari, never Qt. A click must work whatever layer is selected,
so the hook goes on ``viewer.mouse_drag_callbacks`` (added and removed idempotently) rather
than on a layer; a press/move/release generator tells a click from a drag (which pans).
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from napari.layers import Points

    from ._heatmap import Heatmap

__all__ = ["DRAG_TOLERANCE_PX", "Interaction", "format_value"]

#: A press and release further apart than this many screen pixels is a drag, not a click.
DRAG_TOLERANCE_PX = 4.0


#: Per viewer, the hooked interactions (several heatmaps may share a viewer).
_PEERS: weakref.WeakKeyDictionary[Any, list[Interaction]] = weakref.WeakKeyDictionary()
#: Per viewer, (napari's own status text, the line the heatmaps last wrote from it).
_STATUS: weakref.WeakKeyDictionary[Any, tuple[str, str | None]] = weakref.WeakKeyDictionary()
#: Where the labels of several markers at one point go, top heatmap first.
_MARKER_ANCHORS = ("upper_left", "lower_left", "upper_right", "lower_right")


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

    # hooks ------------------------------------------------------------------------

    def connect(self) -> None:
        """Start reporting clicks and hover values (idempotent)."""
        viewer = self._hm.viewer
        if self._hooked or viewer is None:
            return
        viewer.mouse_drag_callbacks.append(self.on_mouse_drag)
        viewer.events.status.connect(self.on_status, position="last")
        viewer.cursor.events.position.connect(self.on_status, position="last")
        _PEERS.setdefault(viewer, []).append(self)
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
        peers = _PEERS.get(viewer, [])
        if self in peers:
            peers.remove(self)
        self._hooked = False
        self.on_status()  # take this heatmap's value off the status bar

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
        if event.type == "mouse_release" and not dragged and self._hm.visible:
            self._hm.click_at(world)  # a hidden heatmap is not under the cursor

    # status bar -------------------------------------------------------------------

    def on_status(self, event: Any = None) -> None:
        """Show the raw value under the cursor in napari's status bar, once per heatmap.

        Runs when napari sets a new status and when the cursor moves, so the value is there
        whether napari computes its status in a thread or not. Every heatmap of the viewer
        writes the same whole line (:func:`_status_line`): napari's own text, then each
        heatmap under the cursor with its name, pixel and raw value, the top one first. When
        napari's own status is about a heatmap layer (it is the one selected), its value — the
        blurred display value — is replaced by that heatmap's raw one.
        """
        viewer = self._hm.viewer
        if self._in_status or viewer is None:
            return
        status = viewer.status
        current = str(status.get("coordinates", "")) if isinstance(status, dict) else status
        napari_text, written = _STATUS.get(viewer, ("", None))
        if current != written:  # napari wrote a new status since the heatmaps last did
            napari_text = current
        updated = _status_line(viewer, status, napari_text)
        _STATUS[viewer] = (napari_text, updated)
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
        label, anchor = format_value(value), "upper_left"
        sharing = [
            peer
            for peer in _peers_on_top(viewer)
            if peer._hm.visible and peer._hm.pixel_at(world) is not None
        ]
        if len(sharing) > 1 and self in sharing and hm.heatmap_layer is not None:
            # several heatmaps answer this click: each label says whose value it is, and
            # the labels sit round the point instead of on top of each other
            label = f"{hm.heatmap_layer.name}: {label}"
            anchor = _MARKER_ANCHORS[sharing.index(self) % len(_MARKER_ANCHORS)]
        text = {
            "string": {"constant": label},
            "color": "white",
            "size": 12,
            "anchor": anchor,
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


def _peers_on_top(viewer: Any) -> list[Interaction]:
    """Return the hooked interactions of a viewer, the one whose layer is drawn on top first."""
    layers = list(viewer.layers)

    def depth(peer: Interaction) -> int:
        layer = peer._hm.heatmap_layer
        return -layers.index(layer) if layer in layers else 0

    return sorted(_PEERS.get(viewer, []), key=depth)


def _status_line(viewer: Any, status: Any, napari_text: str) -> str:
    """Return napari's status text with the raw value of every heatmap under the cursor."""
    parts: list[str] = []
    lead = napari_text
    if viewer.mouse_over_canvas:
        position = tuple(viewer.cursor.position)
        selection = viewer.layers.selection
        for peer in _peers_on_top(viewer):
            hm, layer = peer._hm, peer._hm.heatmap_layer
            if layer is None or not layer.visible:  # a hidden heatmap is not under the cursor
                continue
            target = hm.index_at(position)  # the slice on screen
            if target is None or layer is None:
                continue
            text = f"{layer.name} mask[{', '.join(map(str, target))}] = "
            text += format_value(hm.value_at(*target[-2:], index=target[:-2]))
            names = hm.slice_names
            if names is not None and len(target) == 3:  # a stack of annotation files
                text += f" ({names[target[0]]})"
            own = (
                isinstance(status, dict)
                and selection.active is layer
                and len(selection) < 2
                and status.get("layer_name") == layer.name
            )
            napari_part = f"{status.get('coords', '')}: {status.get('value', '')}" if own else ""
            if own and napari_part in lead:  # napari's blurred value of this layer: ours instead
                lead = text + lead.replace(napari_part, "", 1)
            else:
                parts.append(text)
    return " | ".join(part for part in (lead, *parts) if part)
