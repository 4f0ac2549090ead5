"""The density of a folder's objects as a heatmap layer-data tuple, live once in a viewer."""

from __future__ import annotations

from .._field import prepare
from .._layers import heatmap_layer_kwargs
from .._placement import layer_transform
from ..supervisely import Annotation, density_map
from ._layers import LayerData

__all__ = ["DENSITY_COLORMAP", "DENSITY_OPACITY", "density_layer"]

DENSITY_COLORMAP = "jet"
DENSITY_OPACITY = 0.7


def density_layer(anns: list[Annotation], frame: tuple[int, int], title: str) -> LayerData | None:
    """Build the density of all labels as a heatmap layer, stretched over `frame`.

    Returns ``None`` when there are no labels at all (nothing to show).
    """
    try:
        grid = density_map(anns)
    except ValueError:
        return None
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
