"""The two-way binding of a heatmap and its napari layer.

napari-model floor: imports napari, never Qt. The heatmap pushes its settings into the layer
(setting only what differs: each set costs napari a thumbnail); what napari's own layer
controls change on the layer — contrast limits and auto-contrast, colormap, opacity, blending,
visibility — is folded back into the heatmap's settings through the same path a setter takes,
so the API, the events, the dock and the screen never disagree. Gamma and smooth interpolation,
which the colour rule cannot honour, are put back (1, "nearest") with a notification.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from napari.utils.notifications import show_info, show_warning

from ._layers import (
    decode_colormap,
    is_constant,
    layer_contrast_limits,
    limits_from_layer,
    napari_colormap,
)

if TYPE_CHECKING:
    from napari.layers import Image

    from ._heatmap import Heatmap

__all__ = ["LAYER_EVENTS", "LayerBinding"]

#: Heatmap-layer events folded back into the settings.
LAYER_EVENTS = (
    "contrast_limits",
    "colormap",
    "opacity",
    "blending",
    "visible",
    "gamma",
    "interpolation2d",
)
#: Controls the colour rule cannot honour: put back, with why.
_REFUSALS = {
    "gamma": (
        "gamma stays 1 on a heatmap layer: its colours follow the colormap's table at "
        "round(255·t); use vmin/vmax, a norm or another colormap"
    ),
    "interpolation2d": (
        "interpolation stays 'nearest' on a heatmap layer: a smoothed texture would paint "
        "colours between the table's entries, unlike mask_to_rgba; use blur_ksize to smooth"
    ),
}
#: At most one "gamma refused" notification per this many seconds.
NOTIFY_EVERY_S = 5.0


class LayerBinding:
    """Keeps one heatmap and its heatmap layer in one state, both ways."""

    def __init__(self, heatmap: Heatmap) -> None:
        self._hm = heatmap
        self._pushing = False
        self._last_notice: dict[str, float] = {}
        self._display_range: tuple[float, float] | None = None
        self._range_stale = True

    def connect(self, layer: Image) -> None:
        """Listen to what napari's controls change on ``layer``."""
        for name in LAYER_EVENTS:
            getattr(layer.events, name).connect(self.on_layer_changed)

    def disconnect(self, layer: Image) -> None:
        """Stop listening to ``layer``."""
        for name in LAYER_EVENTS:
            getattr(layer.events, name).disconnect(self.on_layer_changed)

    def forget_field(self) -> None:
        """Forget the layer field's range (for auto-contrast, the slider): the field changed."""
        self._display_range = None
        self._range_stale = True

    @contextmanager
    def pushing(self) -> Iterator[None]:
        """Mark changes the heatmap itself makes to the layer (they are not folded back)."""
        old, self._pushing = self._pushing, True
        try:
            yield
        finally:
            self._pushing = old

    def push(self) -> None:
        """Make the heatmap layer show the settings, setting only what differs."""
        hm = self._hm
        layer = hm.heatmap_layer
        if layer is None:
            return
        s = hm._settings
        cmap = napari_colormap(s.colormap, s.transparent_low, is_constant(hm.limits))
        clim = layer_contrast_limits(hm._layer_limits())
        with self.pushing():  # each set costs napari a thumbnail: set what changed
            if layer.colormap is not cmap:
                layer.colormap = cmap
            if tuple(layer.contrast_limits) != clim:
                layer.contrast_limits = clim
            if self._range_stale:  # the slider spans the field in the layer's units
                self._range_stale = False
                span = hm._layer_range()
                if span is not None:
                    lo, hi = min(span[0], clim[0]), max(span[1], clim[1])
                    if list(layer.contrast_limits_range) != [lo, hi]:
                        layer.contrast_limits_range = (lo, hi)
            if layer.opacity != s.opacity / 100.0:
                layer.opacity = s.opacity / 100.0
            if str(layer.blending) != s.blending:
                layer.blending = s.blending
            if layer.visible != s.visible:
                layer.visible = s.visible
            if layer.gamma != 1:
                layer.gamma = 1.0
            if str(layer.interpolation2d) != "nearest":
                layer.interpolation2d = "nearest"

    def on_layer_changed(self, event: Any) -> None:
        """Fold a change made on the heatmap layer (napari's controls) into the settings."""
        hm = self._hm
        layer = hm.heatmap_layer
        if self._pushing or layer is None or hm.viewer is None:
            return
        try:
            self._fold(event.type, layer)
        except (ValueError, TypeError) as exc:  # cannot honour it: show the settings again
            show_warning(f"napari-heatmap: {exc}")
            self.push()

    def _fold(self, kind: str, layer: Image) -> None:
        hm = self._hm
        if kind == "contrast_limits":
            clim = tuple(float(v) for v in layer.contrast_limits)
            if clim == layer_contrast_limits(hm._layer_limits()):
                return
            if self._is_auto_contrast(clim):  # napari's auto-contrast: limits from the data
                hm._update(vmin=None, vmax=None)
                self.push()  # the inferred limits, widened, whether they changed or not
                return
            vmin, vmax = hm._limits_from_layer(limits_from_layer((clim[0], clim[1])))
            hm._update(vmin=vmin, vmax=vmax)
        elif kind == "colormap":
            choice, transparent_low = decode_colormap(layer.colormap)
            changes: dict[str, Any] = {"colormap": choice}
            if transparent_low is not None:
                changes["transparent_low"] = transparent_low
            hm._update(**changes)
            self.push()  # napari's own colormap is replaced by the binned one
        elif kind == "opacity":
            if layer.opacity != hm.opacity / 100.0:
                hm._update(opacity=float(layer.opacity) * 100.0)
        elif kind == "blending":
            hm._update(blending=str(layer.blending))
        elif kind == "visible":
            hm._update(visible=bool(layer.visible))
        elif kind in _REFUSALS and (
            layer.gamma != 1 if kind == "gamma" else str(layer.interpolation2d) != "nearest"
        ):
            self.push()
            now = time.monotonic()
            if now - self._last_notice.get(kind, -math.inf) > NOTIFY_EVERY_S:
                self._last_notice[kind] = now
                show_info(f"napari-heatmap: {_REFUSALS[kind]}")

    def _is_auto_contrast(self, clim: tuple[float, ...]) -> bool:
        """Whether napari just set the contrast limits to the layer field's range."""
        data = self._hm._picture.data
        if data is None:
            return False
        if self._display_range is None:
            from napari.layers.utils.layer_utils import calc_data_range

            # a lazy mask's pyramid: napari reads its coarsest level
            lo, hi = calc_data_range(data[-1] if isinstance(data, list) else data)
            self._display_range = (float(lo), float(hi))
        return clim == self._display_range
