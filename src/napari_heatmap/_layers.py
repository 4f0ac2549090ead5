"""The heatmap layer's recipe: its napari colormap, contrast limits and keyword arguments.

napari-model floor: imports napari, never Qt. The display field goes to the GPU as a float
image; these colormaps make napari pick the colour ``table[round(255·t)]`` that
:func:`napari_heatmap.mask_to_rgba` picks on the CPU, so a change of limits, colormap or
transparency is a change of two layer attributes, not a pass over the pixels. The inverse
functions read a layer that napari's own controls changed back into heatmap settings.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import cache
from typing import Any

import numpy as np
from napari.utils.colormaps import Colormap

from ._colormaps import ColormapChoice, choose_colormap, napari_table
from ._pipeline import MIDDLE_INDEX, is_constant

__all__ = [
    "LAYER_KEY",
    "decode_colormap",
    "heatmap_layer_kwargs",
    "is_constant",
    "layer_contrast_limits",
    "limits_from_layer",
    "napari_colormap",
]

#: Metadata key that marks a layer as napari-heatmap's (its value says whose and what).
LAYER_KEY = "napari_heatmap"

#: Our napari colormaps by name, with what they draw: (colormap, transparent_low).
_DERIVED: dict[str, tuple[ColormapChoice, bool]] = {}


@cache
def _napari_colormap(choice: ColormapChoice, transparent_low: bool, constant: bool) -> Colormap:
    rgba = choice.table.astype(np.float32) / 255.0
    name = choice.key
    label = f"{choice.name} ({'OpenCV' if choice.opencv else 'heatmap'})"
    if constant:
        # vmin == vmax: every finite pixel gets the middle colour (never transparent).
        colours = np.repeat(rgba[MIDDLE_INDEX][None], 2, axis=0)
        controls = np.array([0.0, 0.5, 1.0], np.float64)
        name += "-constant"
        label += ", vmin = vmax"
    else:
        # napari's contrast limits are widened by half a colour step on each side (see
        # layer_contrast_limits), so the shader's t' = (255 t + 0.5) / 256 and colour k
        # covers t' in [k/256, (k+1)/256): k = floor(255 t + 0.5). Uniform bins of 1/256 fall
        # exactly on vispy's 1024-entry lookup texture (4 entries a bin).
        controls = np.arange(257, dtype=np.float64) / 256.0
        colours = rgba
        if transparent_low:
            # t < 1/255 is transparent: 255 t + 0.5 < 1.5, so the first bin ends at 1.5/256.
            colours = rgba.copy()
            colours[0] = 0.0
            controls[1] = 1.5 / 256.0
            name += "-transparent-low"
            label += ", transparent low"
    _DERIVED[name] = (choice, transparent_low)
    return Colormap(
        colors=colours,
        controls=controls.astype(np.float32),
        interpolation="zero",
        name=name,
        display_name=label,
        nan_color=[0.0, 0.0, 0.0, 0.0],
    )


def napari_colormap(colormap: object, transparent_low: bool, constant: bool = False) -> Colormap:
    """Return the napari colormap drawing ``colormap`` under the colour rule (behaviour §2.4).

    Parameters
    ----------
    colormap : int, str, napari.utils.Colormap or ColormapChoice
        OpenCV colormap id or name, or a colormap napari knows.
    transparent_low : bool
        Make t < 1/255 (values at or below vmin) transparent.
    constant : bool
        vmin == vmax: paint everything the middle colour.
    """
    return _napari_colormap(choose_colormap(colormap), bool(transparent_low), bool(constant))


def decode_colormap(cmap: Colormap) -> tuple[ColormapChoice, bool | None]:
    """Read a layer's colormap back as (colormap, transparent_low).

    One of ours gives what it draws; any other napari colormap (picked in napari's colormap
    box) gives its own table and ``None`` for transparent_low: the heatmap keeps its own.
    """
    derived = _DERIVED.get(str(cmap.name))
    if derived is not None:
        return derived
    name = str(cmap.name)
    return ColormapChoice(name, name, napari_table(cmap), False), None


def layer_contrast_limits(limits: tuple[float, float] | None) -> tuple[float, float]:
    """Return napari contrast limits for the effective limits (see :func:`napari_colormap`).

    They are the limits widened by half a colour step on each side, so that napari's
    uniform colour bins pick ``table[floor(255 t + 0.5)]``; :func:`limits_from_layer` is
    the inverse.
    """
    if limits is None:
        return 0.0, 1.0
    lims = (float(limits[0]), float(limits[1]))
    clim = _TAKEN.get(lims) or _widen(*lims)
    _remember(_GIVEN, clim, lims)
    return clim


def _widen(lo: float, hi: float) -> tuple[float, float]:
    if hi > lo:
        half = (hi - lo) / 255.0 / 2.0
        return lo - half, hi + half
    pad = max(1.0, abs(lo))
    return lo - pad, lo + pad


#: The limits behind the contrast limits given out lately, so that reading them back is exact.
_GIVEN: OrderedDict[tuple[float, float], tuple[float, float]] = OrderedDict()
#: The contrast limits behind limits read from a layer, so that giving them out again is exact.
_TAKEN: OrderedDict[tuple[float, float], tuple[float, float]] = OrderedDict()
_REMEMBER = 16


def _remember(
    memory: OrderedDict[tuple[float, float], tuple[float, float]],
    key: tuple[float, float],
    value: tuple[float, float],
) -> None:
    memory[key] = value
    memory.move_to_end(key)
    while len(memory) > _REMEMBER:
        memory.popitem(last=False)


def limits_from_layer(clim: tuple[float, float]) -> tuple[float, float]:
    """Return the (vmin, vmax) whose widened contrast limits are ``clim``: the exact inverse.

    Contrast limits this module gave out map back to the very numbers they came from; others
    (napari's slider) are unwidened, the result nudged by a few ulps where that makes widening
    it give ``clim`` exactly, and remembered, so that :func:`layer_contrast_limits` of the
    result gives ``clim`` back in any case (the slider is never moved by a rounding error).
    """
    lo_w, hi_w = float(clim[0]), float(clim[1])
    given = _GIVEN.get((lo_w, hi_w))
    if given is not None:
        return given
    if not hi_w > lo_w:
        limits = (lo_w, lo_w)
    else:
        half = (hi_w - lo_w) / 512.0  # (hi - lo)·256/255 = hi_w - lo_w; half = (hi - lo)/510
        limits = _nudged(lo_w + half, hi_w - half, (lo_w, hi_w))
    _remember(_TAKEN, limits, (lo_w, hi_w))
    return limits


def _nudged(lo: float, hi: float, clim: tuple[float, float]) -> tuple[float, float]:
    for dlo in (0, -1, 1, -2, 2):
        for dhi in (0, -1, 1, -2, 2):
            a, b = _ulps(lo, dlo), _ulps(hi, dhi)
            if b > a and _widen(a, b) == clim:
                return a, b
    return lo, hi


def _ulps(x: float, n: int) -> float:
    direction = np.inf if n > 0 else -np.inf
    for _ in range(abs(n)):
        x = float(np.nextafter(x, direction))
    return x


def heatmap_layer_kwargs(
    *,
    colormap: object,
    transparent_low: bool,
    limits: tuple[float, float] | None,
    opacity: float,
    metadata: dict[str, Any],
    constant: bool | None = None,
    name: str = "Heatmap",
    transform: dict[str, tuple[float, ...]] | None = None,
) -> dict[str, Any]:
    """Return ``add_image`` keyword arguments of a heatmap layer: the one recipe.

    Used by the controller, the sample and the reader, so that every heatmap layer is
    coloured, limited and blended the same way. ``opacity`` is 0-1 (napari's unit);
    ``limits`` are in the layer field's units; ``constant`` (vmin == vmax) defaults to
    whether they are equal.
    """
    if constant is None:
        constant = is_constant(limits)
    return {
        "name": name,
        "colormap": napari_colormap(colormap, transparent_low, constant),
        "contrast_limits": layer_contrast_limits(limits),
        "opacity": opacity,
        "blending": "translucent",
        "metadata": {LAYER_KEY: metadata},
        **(transform or {}),
    }
