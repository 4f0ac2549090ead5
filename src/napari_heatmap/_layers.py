"""napari colormaps and contrast limits that reproduce the colour rule of contract §2.

napari-model floor: imports napari, never Qt. The display field goes to the GPU as a float
image; these colormaps make napari pick the same OpenCV colour ``lut[round(255·t)]`` that
:func:`napari_heatmap.mask_to_rgba` picks on the CPU, so a change of limits, colormap or
transparency is a change of two layer attributes, not a pass over the pixels.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from napari.utils.colormaps import Colormap

from ._colormaps import colormap_lut, colormap_name, resolve_colormap
from ._pipeline import MIDDLE_INDEX

__all__ = ["layer_contrast_limits", "napari_colormap"]


@cache
def _napari_colormap(cmap_id: int, transparent_low: bool, constant: bool) -> Colormap:
    rgb = colormap_lut(cmap_id).astype(np.float32) / 255.0
    rgba = np.concatenate([rgb, np.ones((256, 1), np.float32)], axis=1)
    name = f"opencv-{colormap_name(cmap_id)}"
    if constant:
        # vmin == vmax: every finite pixel gets the middle colour (never transparent).
        colours = np.repeat(rgba[MIDDLE_INDEX][None], 2, axis=0)
        controls = np.array([0.0, 0.5, 1.0], np.float32)
        name += "-constant"
    else:
        # Colour k covers t in [(k - 0.5)/255, (k + 0.5)/255): that is lut[round(255 t)].
        edges = (np.arange(1, 256, dtype=np.float64) - 0.5) / 255.0
        controls = np.concatenate([[0.0], edges, [1.0]])
        colours = rgba
        if transparent_low:
            # t < 1/255 is transparent: the first bin ends at 1/255 instead of 0.5/255.
            colours = rgba.copy()
            colours[0] = 0.0
            controls[1] = 1.0 / 255.0
            name += "-transparent-low"
    return Colormap(
        colors=colours,
        controls=controls.astype(np.float32),
        interpolation="zero",
        name=name,
        display_name=name,
        nan_color=[0.0, 0.0, 0.0, 0.0],
    )


def napari_colormap(colormap: object, transparent_low: bool, constant: bool = False) -> Colormap:
    """Return the napari colormap drawing an OpenCV colormap under contract §2.4-§2.5.

    Parameters
    ----------
    colormap : int or str
        OpenCV colormap id or name.
    transparent_low : bool
        Make t < 1/255 (values at or below vmin) transparent.
    constant : bool
        vmin == vmax: paint everything the middle colour.
    """
    return _napari_colormap(resolve_colormap(colormap), bool(transparent_low), bool(constant))


def layer_contrast_limits(limits: tuple[float, float] | None) -> tuple[float, float]:
    """Return contrast limits napari accepts (low < high) for the effective limits."""
    if limits is None:
        return 0.0, 1.0
    lo, hi = limits
    if hi > lo:
        return lo, hi
    pad = max(1.0, abs(lo))
    return lo - pad, lo + pad
