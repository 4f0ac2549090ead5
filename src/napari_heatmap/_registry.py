"""Which heatmaps a viewer has, and heatmap layers that become live as they arrive.

napari-model floor: imports napari, never Qt. The registry holds viewers weakly: a viewer
that goes away takes its entry with it (and closing a viewer removes its layers, which
closes its heatmaps). A layer whose metadata carries a mask and settings under
:data:`~napari_heatmap._layers.LAYER_KEY` (the sample's, the reader's density) is turned into
a live :class:`~napari_heatmap.Heatmap` as soon as it is inserted into a watched viewer.
"""

from __future__ import annotations

import logging
import weakref
from typing import TYPE_CHECKING, Any

from ._layers import LAYER_KEY

if TYPE_CHECKING:
    from ._heatmap import Heatmap

__all__ = ["adopt_layers", "heatmaps", "register", "unregister", "watch"]

logger = logging.getLogger(__name__)

_HEATMAPS: weakref.WeakKeyDictionary[Any, list[Heatmap]] = weakref.WeakKeyDictionary()
_WATCHERS: weakref.WeakKeyDictionary[Any, _Watcher] = weakref.WeakKeyDictionary()
#: Layers that could not be made live: said once, not tried again.
_REFUSED: weakref.WeakSet[Any] = weakref.WeakSet()


def register(heatmap: Heatmap) -> None:
    """Add an open heatmap to its viewer's list."""
    _HEATMAPS.setdefault(heatmap.viewer, []).append(heatmap)


def unregister(heatmap: Heatmap, viewer: Any) -> None:
    """Remove a heatmap from its viewer's list (no error if absent)."""
    listed = _HEATMAPS.get(viewer, [])
    if heatmap in listed:
        listed.remove(heatmap)


def heatmaps(viewer: Any = None) -> list[Heatmap]:
    """Return the open heatmaps of ``viewer`` (of every viewer when None), oldest first."""
    if viewer is not None:
        viewer = getattr(viewer, "__wrapped__", viewer)  # a plugin widget gets a proxy
        return list(_HEATMAPS.get(viewer, []))
    return [hm for listed in list(_HEATMAPS.values()) for hm in listed]


def owner_of(layer: Any) -> Heatmap | None:
    """Return the open heatmap that owns ``layer``, if any."""
    for hm in heatmaps():
        if any(own is layer for own in hm.layers):
            return hm
    return None


def watch(viewer: Any) -> None:
    """Make heatmap layers inserted into ``viewer`` live, from now on (idempotent)."""
    if viewer is None:
        return
    viewer = getattr(viewer, "__wrapped__", viewer)
    if viewer not in _WATCHERS:
        watcher = _Watcher(viewer)
        _WATCHERS[viewer] = watcher  # napari's emitters hold bound methods weakly
        viewer.layers.events.inserted.connect(watcher.on_inserted)


def adopt_layers(viewer: Any) -> list[Heatmap]:
    """Make every heatmap layer already in ``viewer`` that no heatmap owns live."""
    viewer = getattr(viewer, "__wrapped__", viewer)
    made = []
    for layer in list(viewer.layers):
        hm = _adopt(viewer, layer)
        if hm is not None:
            made.append(hm)
    return made


def _spec(layer: Any) -> dict[str, Any] | None:
    meta = getattr(layer, "metadata", {}).get(LAYER_KEY)
    if isinstance(meta, dict) and meta.get("role") == "heatmap" and "mask" in meta:
        return meta
    return None


def _adopt(viewer: Any, layer: Any) -> Heatmap | None:
    spec = _spec(layer)
    if spec is None or layer in _REFUSED or owner_of(layer) is not None:
        return None
    from ._heatmap import Heatmap

    token = spec.get("token")
    background = None
    if token is not None:
        for other in viewer.layers:
            meta = other.metadata.get(LAYER_KEY)
            if (
                isinstance(meta, dict)
                and meta.get("role") == "background"
                and meta.get("token") == token
                and owner_of(other) is None
            ):
                background = other
    try:
        return Heatmap._adopt(viewer, layer, background, spec)
    except (ValueError, TypeError) as exc:  # a layer we cannot honour stays a plain layer
        from napari.utils.notifications import show_warning

        _REFUSED.add(layer)
        logger.warning("napari-heatmap: layer %r not made a heatmap: %s", layer.name, exc)
        show_warning(f"napari-heatmap: layer {layer.name!r} stays a plain image: {exc}")
        return None


class _Watcher:
    """Adopts heatmap layers as napari inserts them into one viewer."""

    def __init__(self, viewer: Any) -> None:
        self._viewer = weakref.ref(viewer)

    def on_inserted(self, event: Any) -> None:
        viewer = self._viewer()
        if viewer is not None:
            _adopt(viewer, event.value)
