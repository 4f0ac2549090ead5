"""The density of a folder's objects as a heatmap layer-data tuple, live once in a viewer.

Also the progress bar the napari floor hands to the napari-free density code.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np

from .._field import prepare
from .._layers import heatmap_layer_kwargs
from .._placement import layer_transform
from ._layers import LayerData

__all__ = ["DENSITY_COLORMAP", "DENSITY_OPACITY", "density_layer", "density_progress"]

DENSITY_COLORMAP = "jet"
DENSITY_OPACITY = 0.7


def density_progress(*, total: int, desc: str) -> contextlib.AbstractContextManager[Any]:
    """Make napari's progress bar (shown in the viewer's activity dock) for a density."""
    from napari.utils import progress

    return progress(total=total, desc=desc)


def density_layer(grid: np.ndarray, frame: tuple[int, int], title: str) -> LayerData:
    """Build the density `grid` as a heatmap layer, stretched over `frame`."""
    settings = {
        "colormap": DENSITY_COLORMAP,
        "opacity": DENSITY_OPACITY * 100.0,
        "blur_ksize": None,  # counts are shown exactly
        "height": float(frame[0]),
        "width": float(frame[1]),
    }
    field = prepare(grid, None, None)
    scale, translate = layer_transform(frame, grid.shape)
    kwargs = heatmap_layer_kwargs(
        colormap=DENSITY_COLORMAP,
        transparent_low=False,
        limits=field.display_limits(field.limits(None, None)),
        opacity=DENSITY_OPACITY,
        metadata={"role": "heatmap", "density": True, "mask": grid, "settings": settings},
        name=f"density ({title})",
        transform={"scale": scale, "translate": translate},
    )
    return field.display, kwargs, "image"
