"""Geometry value types of parsed labels.

All coordinates are integer pixel indices. Vertex arrays are ``int64`` of shape ``(N, 2)`` in
**(x, y) = (column, row)** order, as in the JSON and as OpenCV draws them.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "GEOMETRY_TYPES",
    "AlphaMask",
    "AnyGeometry",
    "Bitmap",
    "Cuboid",
    "Geometry",
    "Graph",
    "GraphNode",
    "MultiPolygon",
    "OrientedBBox",
    "Point",
    "Polygon",
    "Polyline",
    "Rectangle",
    "clip_box",
    "mask_box",
]


#: ``(x0, y0, x1, y1)``: the smallest and largest column and row of some vertices.
Bounds = tuple[int, int, int, int]


@dataclass(frozen=True)
class Point:
    """A single pixel."""

    row: int
    col: int


@dataclass(frozen=True)
class Rectangle:
    """An axis-aligned box; both corners inclusive, ``top <= bottom``, ``left <= right``."""

    top: int
    left: int
    bottom: int
    right: int


@dataclass(frozen=True, eq=False)
class Polygon:
    """A filled ring with holes (each ring has at least 3 vertices).

    ``bounds``, when known, is ``(x0, y0, x1, y1)`` of all rings' vertices, ends inclusive (set
    by the parser so that cropping needs no pass over the vertices).
    """

    exterior: np.ndarray
    interiors: tuple[np.ndarray, ...] = ()
    bounds: Bounds | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, eq=False)
class Polyline:
    """An open 1-pixel line through at least 2 vertices; ``bounds`` as for `Polygon`."""

    points: np.ndarray
    bounds: Bounds | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, eq=False)
class Bitmap:
    """A boolean mask cropped to its tight bounding box; ``origin`` = (row, col) of its corner."""

    origin: tuple[int, int]
    data: np.ndarray


@dataclass(frozen=True, eq=False)
class AlphaMask:
    """A uint8 alpha mask (0..255) cropped to its non-zero pixels; drawn as alpha / 255."""

    origin: tuple[int, int]
    data: np.ndarray


class GraphNode(NamedTuple):
    """A keypoint; disabled nodes are neither drawn nor joined by edges.

    A named tuple: graphs hold many, and a tuple is made several times faster than a frozen
    dataclass.
    """

    row: int
    col: int
    disabled: bool = False


@dataclass(frozen=True)
class Graph:
    """Keypoints (``graph``) or a 2-D cuboid (``cuboid_2d``) with the class template's edges.

    ``edges`` holds ``(src, dst, has_colour)``; ``has_colour`` is False for template edges
    without a colour, on which the SDK would crash.
    """

    nodes: Mapping[str, GraphNode]
    edges: tuple[tuple[str, str, bool], ...] = ()
    #: ``(x0, y0, x1, y1)`` of all nodes, ends inclusive, when known (as for `Polygon`).
    bounds: Bounds | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True, eq=False)
class Cuboid:
    """Legacy cuboid: vertices and three 4-vertex faces (indices), drawn as a filled union."""

    points: np.ndarray
    faces: tuple[tuple[int, int, int, int], ...]


@dataclass(frozen=True)
class OrientedBBox:
    """A box rotated by ``angle`` radians (clockwise on screen) about its integer centre."""

    top: int
    left: int
    bottom: int
    right: int
    angle: float


@dataclass(frozen=True)
class MultiPolygon:
    """Several polygons drawn as one label (a part's hole never clears another part)."""

    parts: tuple[Polygon, ...]


@dataclass(frozen=True)
class AnyGeometry:
    """A geometry this package does not draw; counted as a label, contributes nothing."""

    data: Mapping[str, Any] = field(default_factory=dict)


Geometry = (
    Point
    | Rectangle
    | Polygon
    | Polyline
    | Bitmap
    | AlphaMask
    | Graph
    | Cuboid
    | OrientedBBox
    | MultiPolygon
    | AnyGeometry
)


#: Every geometry type; each operation on geometries (crop, resize, draw, show) handles each.
GEOMETRY_TYPES: tuple[type, ...] = typing.get_args(Geometry)


def clip_box(
    box: tuple[int, int, int, int], height: int, width: int
) -> tuple[int, int, int, int] | None:
    """Intersect a box with an image of `height` x `width`; ``None`` when nothing is left.

    Parameters
    ----------
    box : tuple of int
        ``(top, left, bottom, right)``, ends exclusive.
    height, width : int
        The image size.

    Returns
    -------
    tuple of int or None
        The clipped ``(top, left, bottom, right)``, ends exclusive.
    """
    top, left, bottom, right = box
    top, left, bottom, right = max(top, 0), max(left, 0), min(bottom, height), min(right, width)
    if top >= bottom or left >= right:
        return None
    return top, left, bottom, right


def mask_box(g: Bitmap | AlphaMask) -> tuple[int, int, int, int]:
    """Return the box ``(top, left, bottom, right)`` a mask covers, ends exclusive."""
    (r0, c0), (mh, mw) = g.origin, g.data.shape
    return r0, c0, r0 + mh, c0 + mw
