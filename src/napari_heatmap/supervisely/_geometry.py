"""Parsing of object geometry payloads (coordinates floored) and load-time cropping.

Cropping follows the SDK's ``Annotation`` constructor: every label except an oriented box is
cut to the image ``[0, H-1] x [0, W-1]``. Polygons, lines and multipolygons are clipped
without shapely (``_clip.py``): the same region and vertices, except that a concave outline
leaving and re-entering the image stays one ring joined along the image edge.

Speed: a project holds thousands of small labels, so the common case avoids NumPy's
per-call cost. Plain JSON vertex lists are read in Python (anything unusual goes through
NumPy, which decides and names every error), a parsed polygon, line or graph keeps its
``bounds`` so that a label inside its image is kept without a pass over its vertices, and
each fast path gives exactly what its general path gives (tests/test_sly_fast_paths.py).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any, TypeGuard

import cv2
import numpy as np

from ._bitmap import decode_alpha, decode_bitmap
from ._clip import clip_polyline, clip_ring, ring_area
from ._errors import SuperviselyFormatError
from ._meta import ObjClass
from ._shapes import (
    AlphaMask,
    AnyGeometry,
    Bitmap,
    Bounds,
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
    flat = _plain_flat(value) if type(value) is list else None
    if flat is not None:
        return _array(flat)
    return _checked_coords(value, what)


def _checked_coords(value: Any, what: str) -> np.ndarray:
    """`_coords` for any input: NumPy decides what is a number pair, every error is named."""
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


def _plain_flat(value: list[Any]) -> list[int] | None:
    """Floored ``[x0, y0, x1, y1, ...]`` of a list of ``[x, y]`` lists of plain numbers.

    The common case, without NumPy: ``None`` for anything else (tuples, bools, strings,
    non-finite or out-of-range numbers, an empty list), which `_checked_coords` then reads
    or refuses. Where both accept a list they agree: floor of a finite float, ints as they are.
    """
    flat: list[int] = []
    try:
        for pair in value:
            if type(pair) is not list:
                return None
            x, y = pair  # not a pair: ValueError
            if type(x) is float:
                x = math.floor(x)  # NaN: ValueError, inf: OverflowError
            elif type(x) is not int:
                return None
            if type(y) is float:
                y = math.floor(y)
            elif type(y) is not int:
                return None
            flat += (x, y)
    except (ValueError, OverflowError):
        return None
    if not flat or max(flat) >= _MAX_COORD or min(flat) <= -_MAX_COORD:
        return None
    return flat


def _flat(value: Any, what: str) -> list[int]:
    """Return floored ``[x0, y0, x1, y1, ...]`` of a JSON vertex list (see `_coords`)."""
    flat = _plain_flat(value) if type(value) is list else None
    if flat is not None:
        return flat
    out: list[int] = _checked_coords(value, what).ravel().tolist()
    return out


def _array(flat: list[int]) -> np.ndarray:
    """``(N, 2)`` int64 vertices of flat ``[x0, y0, x1, y1, ...]``."""
    return np.fromiter(flat, np.int64, len(flat)).reshape(-1, 2)


def _bounds(flat: list[int]) -> Bounds:
    """``(x0, y0, x1, y1)`` of flat ``[x0, y0, ...]`` (not empty)."""
    xs, ys = flat[0::2], flat[1::2]
    return min(xs), min(ys), max(xs), max(ys)


def _plain_xy(value: Any) -> tuple[int, int] | None:
    """Floored ``(row, col)`` of a plain ``[x, y]`` pair, else ``None`` (see `_xy`)."""
    if type(value) is not list or len(value) != 2:
        return None
    x, y = value
    if type(x) is float:
        if not math.isfinite(x):
            return None
        x = math.floor(x)
    elif type(x) is not int:
        return None
    if type(y) is float:
        if not math.isfinite(y):
            return None
        y = math.floor(y)
    elif type(y) is not int:
        return None
    if -_MAX_COORD < x < _MAX_COORD and -_MAX_COORD < y < _MAX_COORD:
        return y, x
    return None


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


def _is_mapping(value: Any) -> TypeGuard[Mapping[Any, Any]]:
    """``isinstance(value, Mapping)``, quicker for the usual ``dict``."""
    return type(value) is dict or isinstance(value, Mapping)


def _points_block(obj: Mapping[str, Any]) -> tuple[list[int], list[list[int]]]:
    """Flat exterior and interior rings of a ``points`` block (see `_flat`)."""
    return _rings_block(obj.get("points"))


def _rings_block(block: Any) -> tuple[list[int], list[list[int]]]:
    """Flat rings of ``{"exterior": ..., "interior": [...]}`` (see `_points_block`)."""
    if not (type(block) is dict or isinstance(block, Mapping)) or "exterior" not in block:
        raise SuperviselyFormatError("'points' must hold 'exterior' (and 'interior')")
    exterior = _flat(block["exterior"], "points.exterior")
    interior = block.get("interior") or []
    if not isinstance(interior, list):
        raise SuperviselyFormatError("points.interior must be a list of rings")
    return exterior, [_flat(r, "points.interior ring") for r in interior]


def _ring(flat: list[int], what: str) -> list[int]:
    """Pad a ring of 1-2 vertices by repeating the last one, as the SDK does."""
    if not flat:
        raise SuperviselyFormatError(f"{what} has no vertices")
    if len(flat) < 6:
        flat = flat + flat[-2:] * ((6 - len(flat)) // 2)
    return flat


def _rings(exterior: list[int], interior: list[list[int]]) -> list[list[int]]:
    """Return the rings of a polygon, exterior first, each padded to 3 vertices (`_ring`)."""
    return [_ring(exterior, "polygon exterior"), *(_ring(r, "polygon hole") for r in interior)]


def _polygons(parts: list[list[list[int]]]) -> tuple[Polygon, ...]:
    """Build polygons from their rings (as `_rings` gives) with one array for all vertices."""
    flat: list[int] = []
    for rings in parts:
        for ring in rings:
            flat += ring
    vertices = _array(flat)
    out = []
    stop = 0  # in `flat`
    for rings in parts:
        first = stop
        arrays = []
        for ring in rings:
            start, stop = stop, stop + len(ring)
            arrays.append(vertices[start // 2 : stop // 2])
        out.append(Polygon(arrays[0], tuple(arrays[1:]), _bounds(flat[first:stop])))
    return tuple(out)


def _bitmap_block(obj: Mapping[str, Any]) -> tuple[tuple[int, int], Any]:
    block = obj.get("bitmap")
    if not _is_mapping(block) or "data" not in block or "origin" not in block:
        raise SuperviselyFormatError("'bitmap' must hold 'origin' and 'data'")
    origin = block["origin"]
    return _plain_xy(origin) or _xy(origin, "bitmap.origin"), block["data"]


def _tight(origin: tuple[int, int], data: np.ndarray) -> tuple[tuple[int, int], np.ndarray]:
    """Crop `data` to its non-zero pixels (raises if there are none)."""
    box = _set_box(data)
    if box is None:
        raise SuperviselyFormatError("bitmap has no set pixel")
    r0, r1, c0, c1 = box
    return (origin[0] + r0, origin[1] + c0), data[r0:r1, c0:c1]


def _set_box(data: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(r0, r1, c0, c1)`` (ends exclusive) of the non-zero pixels of a 2-D mask, or ``None``."""
    if data.dtype.itemsize == 1 and data.size and data.strides[1] == 1:
        col, row, width, height = cv2.boundingRect(data.view(np.uint8))  # one C pass
        return (row, row + height, col, col + width) if width else None
    rows = np.flatnonzero(data.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(data.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _nodes(raw: Any, what: str) -> tuple[dict[str, GraphNode], Bounds | None]:
    """Return the nodes of a graph by id, and their bounds (``None`` without nodes)."""
    if not _is_mapping(raw):
        raise SuperviselyFormatError(f"'{what}' must map ids to {{'loc': [x, y]}}")
    nodes = {}
    rows, cols = [], []
    for key, node in raw.items():
        if not (type(node) is dict or isinstance(node, Mapping)) or "loc" not in node:
            raise SuperviselyFormatError(f"{what}[{key!r}] has no 'loc'")
        loc = node["loc"]
        row, col = _plain_xy(loc) or _xy(loc, f"{what}[{key!r}].loc")
        nodes[str(key)] = GraphNode(row, col, bool(node.get("disabled", False)))
        rows.append(row)
        cols.append(col)
    if len(rows) != len(nodes):  # ids equal as strings: the last one stays
        rows = [n.row for n in nodes.values()]
        cols = [n.col for n in nodes.values()]
    return nodes, (min(cols), min(rows), max(cols), max(rows)) if nodes else None


def _oriented_bbox(obj: Mapping[str, Any]) -> OrientedBBox:
    raw = obj.get("points")
    if _is_mapping(raw):  # {exterior, interior}: seen in third-party exports
        raw = raw.get("exterior")
    pts = _flat(raw, "points")
    if len(pts) != 4:
        raise SuperviselyFormatError("oriented_bbox 'points' must hold exactly two corners")
    angle = obj.get("angle")
    if isinstance(angle, bool) or not isinstance(angle, int | float) or not math.isfinite(angle):
        raise SuperviselyFormatError("oriented_bbox needs a numeric 'angle' (radians)")
    c0, r0, c1, r1 = pts
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
    parse = _PARSERS.get(gtype)
    if parse is None:
        return AnyGeometry(dict(obj))
    return parse(obj, img_size, obj_class)


# One parser per geometry name: (obj, img_size, obj_class) -> Geometry.


def _parse_point(obj: Mapping[str, Any], img_size: tuple[int, int], cls: Any) -> Point:
    exterior, _ = _points_block(obj)
    if len(exterior) != 2:
        raise SuperviselyFormatError("a point needs exactly one vertex")
    return Point(exterior[1], exterior[0])


def _parse_rectangle(obj: Mapping[str, Any], img_size: tuple[int, int], cls: Any) -> Rectangle:
    exterior, _ = _points_block(obj)
    if len(exterior) != 4:
        raise SuperviselyFormatError("a rectangle needs exactly two corners")
    c0, r0, c1, r1 = exterior
    return Rectangle(min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1))


def _parse_polygon(obj: Mapping[str, Any], img_size: tuple[int, int], cls: Any) -> Polygon:
    return _polygons([_rings(*_points_block(obj))])[0]


def _parse_line(obj: Mapping[str, Any], img_size: tuple[int, int], cls: Any) -> Polyline:
    exterior, _ = _points_block(obj)
    if len(exterior) < 4:
        raise SuperviselyFormatError("a line needs at least two vertices")
    return Polyline(_array(exterior), _bounds(exterior))


def _parse_bitmap(obj: Mapping[str, Any], img_size: tuple[int, int], cls: Any) -> Bitmap:
    origin, text = _bitmap_block(obj)
    return Bitmap(*_tight(origin, decode_bitmap(text, img_size[0] * img_size[1])))


def _parse_alpha_mask(obj: Mapping[str, Any], img_size: tuple[int, int], cls: Any) -> AlphaMask:
    origin, text = _bitmap_block(obj)
    return AlphaMask(*_tight(origin, decode_alpha(text, img_size[0] * img_size[1])))


def _parse_graph(obj: Mapping[str, Any], img_size: tuple[int, int], cls: ObjClass | None) -> Graph:
    edges = cls.edges if cls is not None else ()
    nodes, bounds = _nodes(obj.get("nodes"), "nodes")
    return Graph(nodes, edges, bounds)


#: The edges of every ``cuboid_2d`` (the SDK synthesises them, whatever the class says).
_CUBOID_2D_EDGES = ObjClass("", "cuboid_2d", (0, 0, 0)).edges


def _parse_cuboid_2d(obj: Mapping[str, Any], img_size: tuple[int, int], cls: Any) -> Graph:
    key = "vertices" if "vertices" in obj or "nodes" not in obj else "nodes"
    nodes, bounds = _nodes(obj.get(key), key)
    return Graph(nodes, _CUBOID_2D_EDGES, bounds)


def _parse_cuboid(obj: Mapping[str, Any], img_size: tuple[int, int], cls: Any) -> Cuboid:
    return _cuboid(obj)


def _parse_oriented_bbox(
    obj: Mapping[str, Any], img_size: tuple[int, int], cls: Any
) -> OrientedBBox:
    return _oriented_bbox(obj)


def _parse_multipolygon(
    obj: Mapping[str, Any], img_size: tuple[int, int], cls: Any
) -> MultiPolygon:
    parts = obj.get("parts")
    if not isinstance(parts, list):
        raise SuperviselyFormatError("multipolygon needs a 'parts' list")
    rings = []
    for part in parts:
        if not _is_mapping(part):
            raise SuperviselyFormatError("a multipolygon part must hold 'exterior'")
        rings.append(_rings(*_rings_block(part)))
    return MultiPolygon(_polygons(rings) if rings else ())


_PARSERS: dict[str, Any] = {
    "point": _parse_point,
    "rectangle": _parse_rectangle,
    "polygon": _parse_polygon,
    "line": _parse_line,
    "bitmap": _parse_bitmap,
    "alpha_mask": _parse_alpha_mask,
    "graph": _parse_graph,
    "cuboid_2d": _parse_cuboid_2d,
    "cuboid": _parse_cuboid,
    "oriented_bbox": _parse_oriented_bbox,
    "multipolygon": _parse_multipolygon,
}


def _outside(pts: np.ndarray, h: int, w: int) -> bool:
    """Whether the bounding box of `pts` misses the image entirely."""
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    return bool(x1 < 0 or y1 < 0 or x0 > w - 1 or y0 > h - 1)


def _inside(pts: np.ndarray, h: int, w: int) -> bool:
    if len(pts) == 0:
        return True
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    return bool(x0 >= 0 and y0 >= 0 and x1 <= w - 1 and y1 <= h - 1)


def _box_inside(bounds: Bounds, h: int, w: int) -> bool:
    """`_inside` for vertices whose bounds are known."""
    x0, y0, x1, y1 = bounds
    return x0 >= 0 and y0 >= 0 and x1 <= w - 1 and y1 <= h - 1


def _crop_polygon(p: Polygon, h: int, w: int) -> Polygon | None:
    """Clip a polygon to the image; ring vertices rounded half-to-even (docs/supervisely.md)."""
    if p.bounds is not None:  # parsed: integer vertices (see _clipped_hole)
        if _box_inside(p.bounds, h, w):
            return p
        # no _outside test: an integer ring whose box misses the image clips to no vertex
    elif _inside(p.exterior, h, w) and all(_inside(r, h, w) for r in p.interiors):
        return p
    elif _outside(p.exterior, h, w):
        return None
    clipped = clip_ring(p.exterior, h, w)
    if len(clipped) < 3 or ring_area(clipped) == 0:  # shapely: a line or a point, no polygon
        return None
    holes = (_clipped_hole(r, h, w, p.bounds is not None) for r in p.interiors)
    return Polygon(np.rint(clipped).astype(np.int64), tuple(r for r in holes if r is not None))


#: Up to this image side and ring length, the shoelace sums of a ring inside the image are
#: integers below 2**53, so float64 computes them exactly in any order.
_EXACT_SIDE, _EXACT_VERTICES = 1 << 17, 1 << 19


def _clipped_hole(ring: np.ndarray, h: int, w: int, parsed: bool) -> np.ndarray | None:
    """Clip a hole to the image and round it; ``None`` when no area is left.

    A parsed (integer) hole inside the image comes out of `clip_ring` unchanged, and its
    area is exact in integers: it is kept as it is when that area is not zero.
    """
    if parsed and max(h, w) <= _EXACT_SIDE and len(ring) < _EXACT_VERTICES:
        pts = ring.tolist()
        xs, ys = [v[0] for v in pts], [v[1] for v in pts]
        if min(xs) >= 0 and min(ys) >= 0 and max(xs) <= w - 1 and max(ys) <= h - 1:
            twice_area = sum(
                x0 * y1 - y0 * x1
                for x0, y0, x1, y1 in zip(xs, ys, xs[1:] + xs[:1], ys[1:] + ys[:1], strict=True)
            )
            return ring if len(ring) >= 3 and twice_area != 0 else None
    r = clip_ring(ring, h, w)
    return np.rint(r).astype(np.int64) if len(r) >= 3 and ring_area(r) > 0 else None


def _crop_polyline(line: Polyline, h: int, w: int) -> list[Geometry] | None:
    """Clip a line to the image: one label a stretch inside, vertices floored."""
    if _box_inside(line.bounds, h, w) if line.bounds is not None else _inside(line.points, h, w):
        return [line]
    pieces = clip_polyline(line.points, h, w)
    return [Polyline(np.floor(piece).astype(np.int64)) for piece in pieces] or None


def _crop_mask(g: Bitmap | AlphaMask, h: int, w: int) -> Bitmap | AlphaMask | None:
    (r0, c0), (mh, mw) = g.origin, g.data.shape
    if min(r0, c0) >= 0 and 0 < mh <= h - r0 and 0 < mw <= w - c0:  # inside: nothing to cut
        return g
    whole = mask_box(g)
    box = clip_box(whole, h, w)
    if box is None:
        return None
    if box == whole:
        return g
    (r0, c0), (top, left, bottom, right) = g.origin, box
    data = g.data[top - r0 : bottom - r0, left - c0 : right - c0]
    tight = _set_box(data)
    if tight is None:
        return None
    t0, t1, l0, l1 = tight
    return type(g)((top + t0, left + l0), data[t0:t1, l0:l1])


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
    crop = _crop.registry.get(type(g), _crop)  # singledispatch's answer for a listed type
    out = crop(g, *img_size)
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
    if 0 <= g.top <= g.bottom < h and 0 <= g.left <= g.right < w:  # inside: nothing to cut
        return g
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
    if g.bounds is not None:
        return g if _box_inside(g.bounds, h, w) else None
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
