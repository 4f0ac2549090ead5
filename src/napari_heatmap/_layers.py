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
        controls = np.array([0.0, 0.5, 1.0], np.float64)
        name += "-constant"
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


def layer_contrast_limits(
    limits: tuple[float, float] | None, offset: float = 0.0
) -> tuple[float, float]:
    """Return napari contrast limits for the effective limits (see :func:`napari_colormap`).

    They are the limits widened by half a colour step on each side, so that napari's
    uniform colour bins pick ``lut[floor(255 t + 0.5)]``; ``offset`` is what the display
    field had subtracted (see ``_pipeline.display_offset``).
    """
    if limits is None:
        return 0.0, 1.0
    lo, hi = limits[0] - offset, limits[1] - offset
    if hi > lo:
        half = (hi - lo) / 255.0 / 2.0
        return lo - half, hi + half
    pad = max(1.0, abs(lo))
    return lo - pad, lo + pad
