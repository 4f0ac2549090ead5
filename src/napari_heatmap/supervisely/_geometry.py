"""Parsing of object geometry payloads (coordinates floored) and load-time cropping.

Cropping follows the SDK's ``Annotation`` constructor: every label except an oriented box is
cut to the image ``[0, H-1] x [0, W-1]``. Polygons, lines and multipolygons are clipped
without shapely (``_clip.py``): the same region and vertices, except that a concave outline
leaving and re-entering the image stays one ring joined along the image edge.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._bitmap import decode_alpha, decode_bitmap
from ._clip import clip_polyline, clip_ring, ring_area
from ._errors import SuperviselyFormatError
from ._meta import ObjClass
from ._shapes import (
    AlphaMask,
    AnyGeometry,
    Bitmap,
    Cuboid,
    Geometry,
    Graph,
    GraphNode,
    MultiPolygon,
    OrientedBBox,
    Point,
    Polygon,
    Polyline,
    Rectangle,
    clip_box,
    mask_box,
)

__all__ = ["crop_geometry", "parse_geometry"]

_MAX_COORD = 2**30


def _coords(value: Any, what: str) -> np.ndarray:
    """Return ``(N, 2)`` int64 floored ``[x, y]`` coordinates of a JSON vertex list."""
    if not isinstance(value, list | tuple):
        raise SuperviselyFormatError(f"{what} must be a list of [x, y] pairs")
    if len(value) == 0:
        return np.zeros((0, 2), np.int64)
    try:
        arr = np.asarray(value)
    except ValueError:
        arr = np.asarray([None])
    if arr.ndim != 2 or arr.shape[1] != 2 or arr.dtype.kind not in "iuf":
        raise SuperviselyFormatError(f"{what} must be a list of [x, y] number pairs")
    if arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise SuperviselyFormatError(f"{what} holds a non-finite coordinate")
        arr = np.floor(arr)
    if np.abs(arr).max() >= _MAX_COORD:
        raise SuperviselyFormatError(f"{what} holds a coordinate out of range")
    return arr.astype(np.int64)


def _xy(value: Any, what: str) -> tuple[int, int]:
    """Return floored ``(row, col)`` of one ``[x, y]`` pair."""
    if isinstance(value, list | tuple) and len(value) == 2:  # the common case, without NumPy
        x, y = value
        plain = type(x) in (int, float) and type(y) in (int, float)  # not bool, not str
        if plain and math.isfinite(x) and math.isfinite(y):
            col, row = math.floor(x), math.floor(y)
            if max(abs(col), abs(row)) < _MAX_COORD:
                return row, col
    pts = _coords([value], what) if isinstance(value, list | tuple) else _coords(value, what)
    return int(pts[0, 1]), int(pts[0, 0])


def _points_block(obj: Mapping[str, Any]) -> tuple[np.ndarray, list[np.ndarray]]:
    block = obj.get("points")
    if not isinstance(block, Mapping) or "exterior" not in block:
        raise SuperviselyFormatError("'points' must hold 'exterior' (and 'interior')")
    exterior = _coords(block["exterior"], "points.exterior")
    interior = block.get("interior") or []
    if not isinstance(interior, list):
        raise SuperviselyFormatError("points.interior must be a list of rings")
    return exterior, [_coords(r, "points.interior ring") for r in interior]


def _ring(points: np.ndarray, what: str) -> np.ndarray:
    """Pad a ring of 1-2 vertices by repeating the last one, as the SDK does."""
    if len(points) == 0:
        raise SuperviselyFormatError(f"{what} has no vertices")
    if len(points) < 3:
        points = np.concatenate([points, np.repeat(points[-1:], 3 - len(points), axis=0)])
    return points


def _polygon(exterior: np.ndarray, interior: list[np.ndarray]) -> Polygon:
    return Polygon(
        _ring(exterior, "polygon exterior"),
        tuple(_ring(r, "polygon hole") for r in interior),
    )


def _bitmap_block(obj: Mapping[str, Any]) -> tuple[tuple[int, int], Any]:
    block = obj.get("bitmap")
    if not isinstance(block, Mapping) or "data" not in block or "origin" not in block:
        raise SuperviselyFormatError("'bitmap' must hold 'origin' and 'data'")
    return _xy(block["origin"], "bitmap.origin"), block["data"]


def _tight(origin: tuple[int, int], data: np.ndarray) -> tuple[tuple[int, int], np.ndarray]:
    """Crop `data` to its non-zero pixels (raises if there are none)."""
    rows = np.flatnonzero(data.any(axis=1))
    if rows.size == 0:
        raise SuperviselyFormatError("bitmap has no set pixel")
    cols = np.flatnonzero(data.any(axis=0))
    r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
    return (origin[0] + int(r0), origin[1] + int(c0)), data[r0:r1, c0:c1]


def _nodes(raw: Any, what: str) -> dict[str, GraphNode]:
    if not isinstance(raw, Mapping):
        raise SuperviselyFormatError(f"'{what}' must map ids to {{'loc': [x, y]}}")
    nodes = {}
    for key, node in raw.items():
        if not isinstance(node, Mapping) or "loc" not in node:
            raise SuperviselyFormatError(f"{what}[{key!r}] has no 'loc'")
        row, col = _xy(node["loc"], f"{what}[{key!r}].loc")
        nodes[str(key)] = GraphNode(row, col, bool(node.get("disabled", False)))
    return nodes


def _oriented_bbox(obj: Mapping[str, Any]) -> OrientedBBox:
    raw = obj.get("points")
    if isinstance(raw, Mapping):  # {exterior, interior}: seen in third-party exports
        raw = raw.get("exterior")
    pts = _coords(raw, "points")
    if len(pts) != 2:
        raise SuperviselyFormatError("oriented_bbox 'points' must hold exactly two corners")
    angle = obj.get("angle")
    if isinstance(angle, bool) or not isinstance(angle, int | float) or not math.isfinite(angle):
        raise SuperviselyFormatError("oriented_bbox needs a numeric 'angle' (radians)")
    (c0, r0), (c1, r1) = pts.tolist()
    return OrientedBBox(min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1), float(angle))


def _cuboid(obj: Mapping[str, Any]) -> Cuboid:
    pts = _coords(obj.get("points"), "points")
    faces = obj.get("faces")
    if not isinstance(faces, list) or len(faces) != 3:
        raise SuperviselyFormatError("cuboid must have exactly 3 'faces'")
    out = []
    for face in faces:
        if (
            not isinstance(face, list)
            or len(face) != 4
            or not all(isinstance(i, int) and 0 <= i < len(pts) for i in face)
        ):
            raise SuperviselyFormatError("a cuboid face must hold 4 indices into 'points'")
        out.append((face[0], face[1], face[2], face[3]))
    return Cuboid(pts, tuple(out))


def parse_geometry(
    gtype: str, obj: Mapping[str, Any], img_size: tuple[int, int], obj_class: ObjClass | None
) -> Geometry:
    """Parse the payload of one object as geometry `gtype`.

    Parameters
    ----------
    gtype : str
        Geometry name deciding how the payload is read.
    obj : dict
        The object's JSON.
    img_size : tuple of int
        ``(height, width)`` of the image: bounds the size of bitmap PNGs.
    obj_class : ObjClass or None
        The object's class: supplies graph template edges.

    Returns
    -------
    Geometry
        The parsed, uncropped geometry.

    Raises
    ------
    SuperviselyFormatError
        If the payload does not fit `gtype`.
    """
    max_pixels = img_size[0] * img_size[1]
    if gtype == "point":
        exterior, _ = _points_block(obj)
        if len(exterior) != 1:
            raise SuperviselyFormatError("a point needs exactly one vertex")
        return Point(int(exterior[0, 1]), int(exterior[0, 0]))
    if gtype == "rectangle":
        exterior, _ = _points_block(obj)
        if len(exterior) != 2:
            raise SuperviselyFormatError("a rectangle needs exactly two corners")
        (c0, r0), (c1, r1) = exterior.tolist()
        return Rectangle(min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1))
    if gtype == "polygon":
        return _polygon(*_points_block(obj))
    if gtype == "line":
        exterior, _ = _points_block(obj)
        if len(exterior) < 2:
            raise SuperviselyFormatError("a line needs at least two vertices")
        return Polyline(exterior)
    if gtype == "bitmap":
        origin, text = _bitmap_block(obj)
        return Bitmap(*_tight(origin, decode_bitmap(text, max_pixels)))
    if gtype == "alpha_mask":
        origin, text = _bitmap_block(obj)
        return AlphaMask(*_tight(origin, decode_alpha(text, max_pixels)))
    if gtype in ("graph", "cuboid_2d"):
        key = "nodes" if gtype == "graph" else "vertices"
        if key not in obj and "nodes" in obj:
            key = "nodes"
        edges = obj_class.edges if obj_class is not None else ()
        if gtype == "cuboid_2d" and (obj_class is None or obj_class.shape != "cuboid_2d"):
            edges = ObjClass("", "cuboid_2d", (0, 0, 0)).edges
        return Graph(_nodes(obj.get(key), key), edges)
    if gtype == "cuboid":
        return _cuboid(obj)
    if gtype == "oriented_bbox":
        return _oriented_bbox(obj)
    if gtype == "multipolygon":
        parts = obj.get("parts")
        if not isinstance(parts, list):
            raise SuperviselyFormatError("multipolygon needs a 'parts' list")
        out = []
        for part in parts:
            if not isinstance(part, Mapping):
                raise SuperviselyFormatError("a multipolygon part must hold 'exterior'")
            out.append(_polygon(*_points_block({"points": part})))
        return MultiPolygon(tuple(out))
    return AnyGeometry(dict(obj))


def _outside(pts: np.ndarray, h: int, w: int) -> bool:
    """Whether the bounding box of `pts` misses the image entirely."""
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    return bool(x1 < 0 or y1 < 0 or x0 > w - 1 or y0 > h - 1)


def _inside(pts: np.ndarray, h: int, w: int) -> bool:
    if len(pts) == 0:
        return True
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    return bool(x0 >= 0 and y0 >= 0 and x1 <= w - 1 and y1 <= h - 1)


def _crop_polygon(p: Polygon, h: int, w: int) -> Polygon | None:
    """Clip a polygon to the image; ring vertices rounded half-to-even (docs/supervisely.md)."""
    if _inside(p.exterior, h, w) and all(_inside(r, h, w) for r in p.interiors):
        return p
    if _outside(p.exterior, h, w):
        return None
    clipped = clip_ring(p.exterior, h, w)
    if len(clipped) < 3 or ring_area(clipped) == 0:  # shapely: a line or a point, no polygon
        return None
    holes = (clip_ring(r, h, w) for r in p.interiors)
    return Polygon(
        np.rint(clipped).astype(np.int64),
        tuple(np.rint(r).astype(np.int64) for r in holes if len(r) >= 3 and ring_area(r) > 0),
    )


def _crop_polyline(line: Polyline, h: int, w: int) -> list[Geometry] | None:
    """Clip a line to the image: one label a stretch inside, vertices floored."""
    if _inside(line.points, h, w):
        return [line]
    pieces = clip_polyline(line.points, h, w)
    return [Polyline(np.floor(piece).astype(np.int64)) for piece in pieces] or None


def _crop_mask(g: Bitmap | AlphaMask, h: int, w: int) -> Bitmap | AlphaMask | None:
    whole = mask_box(g)
    box = clip_box(whole, h, w)
    if box is None:
        return None
    if box == whole:
        return g
    (r0, c0), (top, left, bottom, right) = g.origin, box
    data = g.data[top - r0 : bottom - r0, left - c0 : right - c0]
    if not data.any():
        return None
    return type(g)(*_tight((top, left), data))


def crop_geometry(g: Geometry, img_size: tuple[int, int]) -> list[Geometry]:
    """Crop `g` to its image like the SDK does on load: zero, one or several labels.

    Parameters
    ----------
    g : Geometry
        A parsed geometry.
    img_size : tuple of int
        ``(height, width)`` of the image.

    Returns
    -------
    list of Geometry
        What remains: empty when the label is cut away, several pieces for a line that
        leaves and re-enters its image (each piece is a label of its own, as in the SDK).
    """
    out = _crop(g, *img_size)
    if out is None:
        return []
    return out if isinstance(out, list) else [out]


@functools.singledispatch
def _crop(g: object, h: int, w: int) -> Geometry | list[Geometry] | None:
    """Crop one geometry to an image of `h` x `w`: one per geometry type, see `crop_geometry`."""
    raise TypeError(f"cannot crop {type(g).__name__}")


@_crop.register
def _crop_point(g: Point, h: int, w: int) -> Point | None:
    return g if 0 <= g.row < h and 0 <= g.col < w else None


@_crop.register
def _crop_rectangle(g: Rectangle, h: int, w: int) -> Rectangle | None:
    box = clip_box((g.top, g.left, g.bottom + 1, g.right + 1), h, w)
    if box is None:
        return None
    top, left, bottom, right = box
    return Rectangle(top, left, bottom - 1, right - 1)


_crop.register(Bitmap, _crop_mask)
_crop.register(AlphaMask, _crop_mask)
_crop.register(Polygon, _crop_polygon)
_crop.register(Polyline, _crop_polyline)


@_crop.register
def _crop_multipolygon(g: MultiPolygon, h: int, w: int) -> MultiPolygon | None:
    parts = tuple(piece for p in g.parts if (piece := _crop_polygon(p, h, w)) is not None)
    return MultiPolygon(parts) if parts else None


@_crop.register
def _crop_graph(g: Graph, h: int, w: int) -> Graph | None:
    pts = np.array([[n.col, n.row] for n in g.nodes.values()], np.int64).reshape(-1, 2)
    return g if _inside(pts, h, w) else None


@_crop.register
def _crop_cuboid(g: Cuboid, h: int, w: int) -> Cuboid | None:
    used = sorted({i for face in g.faces for i in face})
    return g if _inside(g.points[used], h, w) else None


@_crop.register(OrientedBBox)
@_crop.register(AnyGeometry)
def _kept(g: OrientedBBox | AnyGeometry, h: int, w: int) -> OrientedBBox | AnyGeometry:
    """Oriented boxes and unknown geometries are kept as they are."""
    return g
