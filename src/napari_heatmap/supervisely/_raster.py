"""Density rasteriser: every label scaled to a common grid, drawn with 1, overlaps summed.

Matches ``Heatmap.set_heatmap_from_annotations`` of the Supervisely SDK 6.74.51 (see
docs/supervisely.md) except where its decisions say otherwise: graphs and 2-D cuboids count 1 per
pixel, and bitmaps that overflow the grid or vanish when shrunk are clipped or skipped (with a
warning) instead of raising. Each label is drawn into a scratch array covering only its
clipped bounding box, which is then added into the float32 grid.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from ._annotation import MAX_IMAGE_PIXELS, Annotation
from ._clip import clip_ring
from ._errors import SuperviselyWarning
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
)

__all__ = [
    "Partial",
    "add_geometry",
    "density_serial",
    "draw_annotation",
    "grid_size",
    "oriented_bbox_corners",
    "resize_geometry",
]


# --------------------------------------------------------------------------- grid size


def _check_side(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value <= 0:
        raise ValueError(f"{name} must be a positive integer or None, got {value!r}")
    return int(value)


def _even(x: float) -> int:
    """``int(round(x / 2) * 2)`` with Python's half-to-even ``round``."""
    return int(round(x / 2) * 2)


def grid_size(
    img_sizes: Sequence[tuple[int, int]], width: int | None = None, height: int | None = None
) -> tuple[int, int]:
    """Return the density grid ``(height, width)`` for images of `img_sizes`.

    Parameters
    ----------
    img_sizes : sequence of (int, int)
        ``(height, width)`` of every annotation's image.
    width, height : int, optional
        Requested grid sides. Both: used as is. One: the other follows the mean aspect ratio,
        rounded to an even number. None: the mean image size, each side rounded to even.

    Returns
    -------
    tuple of int
        ``(height, width)`` of the grid.

    Raises
    ------
    ValueError
        For a non-positive side, an empty `img_sizes`, or a grid that would be empty or
        larger than ``MAX_IMAGE_PIXELS`` (2**28) pixels.
    """
    width = _check_side(width, "width")
    height = _check_side(height, "height")
    if len(img_sizes) == 0:
        raise ValueError("annotations list should have at least one element")
    if width is not None and height is not None:
        out = (height, width)
    else:
        avg_h = sum(s[0] for s in img_sizes) / len(img_sizes)
        avg_w = sum(s[1] for s in img_sizes) / len(img_sizes)
        ar = avg_w / avg_h
        if width is not None:
            out = (_even(width / ar), width)
        elif height is not None:
            out = (height, _even(height * ar))
        else:
            out = (_even(avg_h), _even(avg_w))
    if min(out) <= 0:
        raise ValueError(
            f"the density grid would be {out[0]}x{out[1]} pixels; request a larger width/height"
        )
    if out[0] * out[1] > MAX_IMAGE_PIXELS:
        raise ValueError(
            f"the density grid would be {out[0]}x{out[1]} ({out[0] * out[1]} pixels), more "
            f"than the {MAX_IMAGE_PIXELS} pixels allowed; request a smaller width/height"
        )
    return out


# --------------------------------------------------------------------------- resize


@functools.lru_cache(maxsize=256)
def _nearest_index(n_in: int, n_out: int) -> np.ndarray:
    """Source indices of nearest-neighbour resampling (skimage ``order=0`` / ndimage zoom).

    skimage's formula is ``floor(((i + 0.5) * z - 0.5) + 0.5)`` with ``z = n_in / n_out``. In
    float64, ``x = (i + 0.5) * z`` is > 0, and ``(x - 0.5) + 0.5`` gives back exactly ``x`` when
    ``0.5 <= x < 2**52`` (both steps are exact there) and a value in ``[0, 0.5]`` when
    ``x < 0.5``: the floor is that of ``x`` in both cases, which truncation gives for x > 0.
    Cached per size pair, so the array is read-only.
    """
    index = (np.arange(0.5, n_out) * (n_in / n_out)).astype(np.intp)
    index.flags.writeable = False
    return index


def _scale(pts: np.ndarray, frow: float, fcol: float) -> np.ndarray:
    """``[x, y]`` vertices times ``(fcol, frow)``, rounded half to even, as int64."""
    scaled = pts * np.array((fcol, frow))
    return np.rint(scaled, out=scaled).astype(np.int64)


def _scale_rings(rings: Sequence[np.ndarray], frow: float, fcol: float) -> list[np.ndarray]:
    """`_scale` of each ring, computed in one pass over all of them (views of one array)."""
    if len(rings) == 1:
        return [_scale(rings[0], frow, fcol)]
    scaled = _scale(np.concatenate(rings), frow, fcol)
    out, start = [], 0
    for ring in rings:
        out.append(scaled[start : start + len(ring)])
        start += len(ring)
    return out


def _tight_box(data: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(top, left, bottom, right)`` (ends exclusive) of the non-zero pixels; None if none."""
    if data.dtype == np.bool_ or data.dtype == np.uint8:
        # OpenCV scans a uint8 mask in one pass; numpy's any() per axis costs two
        left, top, width, height = cv2.boundingRect(data.view(np.uint8))
        if width == 0:
            return None
        return top, left, top + height, left + width
    rows = np.flatnonzero(data.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(data.any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def _resize_mask(g: Bitmap | AlphaMask, frow: float, fcol: float) -> Bitmap | AlphaMask | None:
    (r0, c0), (h, w) = g.origin, g.data.shape
    out_h, out_w = max(round(h * frow), 1), max(round(w * fcol), 1)
    data = g.data
    if out_h != h:  # an unchanged side samples every index: nothing to take
        data = data.take(_nearest_index(h, out_h), axis=0)
    if out_w != w:
        data = data.take(_nearest_index(w, out_w), axis=1)
    box = _tight_box(data)
    if box is None:
        return None
    top, left, bottom, right = box
    origin = (round(r0 * frow) + top, round(c0 * fcol) + left)
    return type(g)(origin, data[top:bottom, left:right])


def _resize_polygon(p: Polygon, frow: float, fcol: float) -> Polygon:
    if not p.interiors:
        return Polygon(_scale(p.exterior, frow, fcol))
    exterior, *interiors = _scale_rings((p.exterior, *p.interiors), frow, fcol)
    return Polygon(exterior, tuple(interiors))


def resize_geometry(
    g: Geometry, in_size: tuple[int, int], out_size: tuple[int, int]
) -> Geometry | None:
    """Scale `g` from an image of `in_size` to one of `out_size` like ``Label.resize``.

    Parameters
    ----------
    g : Geometry
        The geometry in source pixels.
    in_size, out_size : tuple of int
        ``(height, width)`` of the source image and of the target grid.

    Returns
    -------
    Geometry or None
        The scaled geometry; ``None`` for a bitmap that nearest sampling emptied.
    """
    frow = out_size[0] / in_size[0]
    fcol = out_size[1] / in_size[1]
    return _resize(g, frow, fcol)


@functools.singledispatch
def _resize(g: object, frow: float, fcol: float) -> Geometry | None:
    """Scale one geometry by `frow` x `fcol`: one per geometry type, see `resize_geometry`."""
    raise TypeError(f"cannot resize {type(g).__name__}")


@_resize.register
def _resize_point(g: Point, frow: float, fcol: float) -> Point:
    return Point(round(g.row * frow), round(g.col * fcol))


def _resized_box(
    g: Rectangle | OrientedBBox, frow: float, fcol: float
) -> tuple[int, int, int, int]:
    rows = (round(g.top * frow), round(g.bottom * frow))
    cols = (round(g.left * fcol), round(g.right * fcol))
    return min(rows), min(cols), max(rows), max(cols)


@_resize.register
def _resize_rectangle(g: Rectangle, frow: float, fcol: float) -> Rectangle:
    return Rectangle(*_resized_box(g, frow, fcol))


@_resize.register
def _resize_oriented_bbox(g: OrientedBBox, frow: float, fcol: float) -> OrientedBBox:
    return OrientedBBox(*_resized_box(g, frow, fcol), g.angle)


_resize.register(Polygon, _resize_polygon)
_resize.register(Bitmap, _resize_mask)
_resize.register(AlphaMask, _resize_mask)


@_resize.register
def _resize_polyline(g: Polyline, frow: float, fcol: float) -> Polyline:
    return Polyline(_scale(g.points, frow, fcol))


@_resize.register
def _resize_graph(g: Graph, frow: float, fcol: float) -> Graph:
    nodes = {
        k: GraphNode(round(n.row * frow), round(n.col * fcol), n.disabled)
        for k, n in g.nodes.items()
    }
    return Graph(nodes, g.edges)


@_resize.register
def _resize_cuboid(g: Cuboid, frow: float, fcol: float) -> Cuboid:
    return Cuboid(_scale(g.points, frow, fcol), g.faces)


@_resize.register
def _resize_multipolygon(g: MultiPolygon, frow: float, fcol: float) -> MultiPolygon:
    rings = [r for p in g.parts for r in (p.exterior, *p.interiors)]
    if not rings:
        return MultiPolygon(())
    scaled = _scale_rings(rings, frow, fcol)  # exterior, holes, next exterior, ...
    parts, start = [], 0
    for p in g.parts:
        end = start + 1 + len(p.interiors)
        parts.append(Polygon(scaled[start], tuple(scaled[start + 1 : end])))
        start = end
    return MultiPolygon(tuple(parts))


@_resize.register
def _resize_any(g: AnyGeometry, frow: float, fcol: float) -> AnyGeometry:
    return g


# --------------------------------------------------------------------------- drawing


def _corners(g: OrientedBBox) -> list[tuple[int, int]]:
    """`oriented_bbox_corners` as Python ``(x, y)`` pairs."""
    cy, cx = (g.top + g.bottom) // 2, (g.left + g.right) // 2
    # the float64 values np.cos / np.sin give (math.cos may differ in the last bit)
    cos_a, sin_a = float(np.cos(g.angle)), float(np.sin(g.angle))
    out = []
    for row, col in ((g.top, g.left), (g.top, g.right), (g.bottom, g.right), (g.bottom, g.left)):
        dx, dy = col - cx, row - cy
        x = dx * cos_a - dy * sin_a + cx
        y = dx * sin_a + dy * cos_a + cy
        out.append((math.floor(x), math.floor(y)))
    return out


def oriented_bbox_corners(g: OrientedBBox) -> np.ndarray:
    """Corners TL, TR, BR, BL of `g` rotated about its integer centre, floored, as ``[x, y]``.

    Parameters
    ----------
    g : OrientedBBox
        The box.

    Returns
    -------
    numpy.ndarray
        ``(4, 2)`` int64 ``[x, y]`` corners.
    """
    return np.array(_corners(g), np.int64)


@dataclass
class _Stats:
    """Cases where the SDK would raise and we do not (docs/supervisely.md, decision 3)."""

    clipped_bitmaps: int = 0
    emptied_bitmaps: int = 0
    uncoloured_edges: int = 0

    def warn(self, stacklevel: int = 3) -> None:
        parts = []
        if self.clipped_bitmaps:
            parts.append(f"{self.clipped_bitmaps} bitmap(s) overflowing the grid were clipped")
        if self.emptied_bitmaps:
            parts.append(f"{self.emptied_bitmaps} bitmap(s) vanished when scaled down")
        if self.uncoloured_edges:
            parts.append(f"{self.uncoloured_edges} graph edge(s) without a template colour")
        if parts:
            warnings.warn(
                "density map drawn where the Supervisely SDK would fail: " + "; ".join(parts),
                SuperviselyWarning,
                stacklevel=stacklevel,
            )


_F32 = np.dtype(np.float32)
_U8 = np.dtype(np.uint8)
_I64 = np.dtype(np.int64)


def _accumulate(grid: np.ndarray, top: int, left: int, data: np.ndarray) -> None:
    """``grid[top:top + h, left:left + w] += data`` for a 2-D uint8 or float32 `data`.

    OpenCV's ``accumulate`` gives the same IEEE float32 sums as NumPy, without NumPy's casting
    buffers (several times faster on a label's box); NumPy does any other case.
    """
    h, w = data.shape
    window = grid[top : top + h, left : left + w]
    if grid.dtype is _F32 and grid.flags.c_contiguous and (data.dtype is _U8 or data.dtype is _F32):
        cv2.accumulate(data, window)
    else:
        window += data


#: Vertices within +-2**30 convert to int32 exactly and stay in int32 shifted into a scratch.
_SMALL = 2**30


def _bounds(pts: np.ndarray) -> tuple[int, int, int, int, np.ndarray | None]:
    """``(x_lo, y_lo, x_hi, y_hi, pts32)`` of ``(N, 2)`` ``[x, y]`` vertices, bounds inclusive.

    ``pts32``: for int64 vertices all within +-2**30 (always, for labels cropped to their image
    and scaled to the grid), the vertices as int32, whose bounds OpenCV finds in one call
    instead of two NumPy reductions; else None. The range is checked on float64 copies,
    exact here (OpenCV's float32 bounding box is wrong for values beyond int32).
    """
    if pts.dtype is _I64 and pts.ndim == 2 and pts.shape[1] == 2 and len(pts) > 0:
        lo, hi = cv2.minMaxLoc(pts.astype(np.float64))[:2]
        if lo >= -_SMALL and hi <= _SMALL:
            pts32 = pts.astype(np.int32)
            x, y, w, h = cv2.boundingRect(pts32)
            return x, y, x + w - 1, y + h - 1, pts32
    (x_lo, y_lo), (x_hi, y_hi) = pts.min(axis=0), pts.max(axis=0)
    return int(x_lo), int(y_lo), int(x_hi), int(y_hi), None


def _scratch(
    grid: np.ndarray, x_lo: int, y_lo: int, x_hi: int, y_hi: int
) -> tuple[np.ndarray, int, int] | None:
    """Make a zeroed uint8 array over ``[x_lo, x_hi] x [y_lo, y_hi]`` clipped to the grid.

    Returns ``(temp, x0, y0)`` with ``x0, y0`` its corner in the grid; None if the box misses
    the grid.
    """
    h, w = grid.shape
    x0, y0, x1, y1 = max(x_lo, 0), max(y_lo, 0), min(x_hi + 1, w), min(y_hi + 1, h)
    if x0 >= x1 or y0 >= y1:
        return None
    return np.zeros((y1 - y0, x1 - x0), np.uint8), x0, y0


def _for_scratch(
    rings: Sequence[np.ndarray], pts32: np.ndarray | None, x0: int, y0: int
) -> tuple[list[np.ndarray], tuple[int, int]]:
    """`rings` as OpenCV draws them into a scratch whose corner is ``(x0, y0)`` in the grid.

    Returns int32 arrays and the ``offset`` to draw them with: views of `pts32` (the rings
    concatenated, see `_bounds`) and ``-(x0, y0)``; without `pts32`, the plain formula:
    ``rings - (x0, y0)`` in int64, wrapped to int32 as NumPy does, and no offset.
    """
    if pts32 is None:
        shift = np.array((x0, y0))
        return [(r - shift).astype(np.int32) for r in rings], (0, 0)
    if len(rings) == 1:
        return [pts32], (-x0, -y0)
    out, start = [], 0
    for r in rings:
        out.append(pts32[start : start + len(r)])
        start += len(r)
    return out, (-x0, -y0)


def _fill_polygon(
    temp: np.ndarray,
    rings32: Sequence[np.ndarray],
    offset: tuple[int, int],
    blank: bool,
) -> None:
    """Set the pixels of a polygon (exterior ``rings32[0]`` less the holes) to 1 in `temp`.

    The other pixels are kept. `blank`: `temp` holds nothing yet, so the holes can be cleared
    in place; otherwise the polygon is drawn apart and OR-ed in.
    """
    exterior, holes = rings32[:1], rings32[1:]
    target = temp if blank or not holes else np.zeros(temp.shape, np.uint8)
    cv2.fillPoly(target, exterior, 1, cv2.LINE_8, 0, offset)
    if holes:
        cv2.fillPoly(target, holes, 0, cv2.LINE_8, 0, offset)
    if target is not temp:
        np.bitwise_or(temp, target, out=temp)


def _fill(temp: np.ndarray, ring: np.ndarray, x0: int, y0: int, small: bool) -> None:
    """``cv2.fillPoly`` of `ring` shifted by ``-(x0, y0)`` with 1 into `temp`.

    `small`: the ring is within +-2**30 and goes to OpenCV as int32 with an offset; otherwise
    the plain formula (see `_for_scratch`).
    """
    if small:
        cv2.fillPoly(temp, [ring.astype(np.int32)], 1, cv2.LINE_8, 0, (-x0, -y0))
    else:
        cv2.fillPoly(temp, [(ring - np.array((x0, y0))).astype(np.int32)], 1)


def _add_mask(g: Bitmap | AlphaMask, grid: np.ndarray, stats: _Stats) -> None:
    (r0, c0), (mh, mw), (h, w) = g.origin, g.data.shape, grid.shape
    top, left, bottom, right = max(r0, 0), max(c0, 0), min(r0 + mh, h), min(c0 + mw, w)
    if top >= bottom or left >= right:  # nothing inside the grid (clip_box's None)
        stats.clipped_bitmaps += 1
        return
    if (top, left, bottom, right) != (r0, c0, r0 + mh, c0 + mw):
        stats.clipped_bitmaps += 1
    data = g.data[top - r0 : bottom - r0, left - c0 : right - c0]
    if isinstance(g, AlphaMask):
        data = _alpha(data)
    elif data.dtype == np.bool_:
        data = data.view(np.uint8)
    _accumulate(grid, top, left, data)


#: ``(v / 255.0)`` as float32 for every uint8 ``v``: the same bits as dividing the array.
_ALPHA = (np.arange(256) / 255.0).astype(np.float32)


def _alpha(data: np.ndarray) -> np.ndarray:
    """Return ``(data / 255.0).astype(np.float32)``, by table lookup for uint8."""
    if data.dtype == np.uint8:
        return cv2.LUT(data, _ALPHA)
    return (data / 255.0).astype(np.float32)


def _add_graph(g: Graph, grid: np.ndarray, stats: _Stats) -> None:
    enabled = {k: n for k, n in g.nodes.items() if not n.disabled}
    if not enabled:
        return
    cols = [n.col for n in enabled.values()]
    rows = [n.row for n in enabled.values()]
    scratch = _scratch(grid, min(cols), min(rows), max(cols), max(rows))
    if scratch is None:
        return
    temp, x0, y0 = scratch
    at = {k: (n.col - x0, n.row - y0) for k, n in enabled.items()}
    uncoloured = 0
    for src, dst, has_colour in g.edges:
        a, b = at.get(src), at.get(dst)
        if a is not None and b is not None:
            cv2.line(temp, a, b, 1, 1)
            uncoloured += not has_colour
    stats.uncoloured_edges += uncoloured
    h, w = temp.shape
    for x, y in at.values():
        if 0 <= y < h and 0 <= x < w:
            temp[y, x] = 1
    _accumulate(grid, y0, x0, temp)


def add_geometry(grid: np.ndarray, g: Geometry) -> None:
    """Add one label, drawn with 1 (alpha masks: alpha / 255), into `grid` in place.

    Only the part of the label inside the grid is drawn; the scratch array covers the label's
    clipped bounding box. A bitmap sticking out of the grid is clipped.

    Parameters
    ----------
    grid : numpy.ndarray
        2-D float32 accumulator.
    g : Geometry
        The label's geometry in grid pixels.
    """
    _add(g, grid, _Stats())


@functools.singledispatch
def _add(g: object, grid: np.ndarray, stats: _Stats) -> None:
    """Draw one geometry into `grid`: one per geometry type, see `add_geometry`."""
    raise TypeError(f"cannot draw {type(g).__name__}")


@_add.register
def _add_point(g: Point, grid: np.ndarray, stats: _Stats) -> None:
    h, w = grid.shape
    if 0 <= g.row < h and 0 <= g.col < w:
        grid[g.row, g.col] += 1


#: Rectangles up to this many pixels are added as a uint8 box of ones (faster than ``+= 1``).
_MAX_ONES = 2**20


@_add.register
def _add_rectangle(g: Rectangle, grid: np.ndarray, stats: _Stats) -> None:
    box = clip_box((g.top, g.left, g.bottom + 1, g.right + 1), *grid.shape)
    if box is not None:
        top, left, bottom, right = box
        if (bottom - top) * (right - left) <= _MAX_ONES:
            _accumulate(grid, top, left, np.ones((bottom - top, right - left), np.uint8))
        else:  # no box-sized temporary for a huge rectangle
            grid[top:bottom, left:right] += 1


_add.register(Bitmap, _add_mask)
_add.register(AlphaMask, _add_mask)
_add.register(Graph, _add_graph)


@_add.register
def _add_nothing(g: AnyGeometry, grid: np.ndarray, stats: _Stats) -> None:
    return


@_add.register
def _add_polygon(g: Polygon, grid: np.ndarray, stats: _Stats) -> None:
    rings = (g.exterior, *g.interiors)
    x_lo, y_lo, x_hi, y_hi, pts32 = _bounds(np.concatenate(rings) if g.interiors else g.exterior)
    scratch = _scratch(grid, x_lo, y_lo, x_hi, y_hi)
    if scratch is not None:
        temp, x0, y0 = scratch
        rings32, offset = _for_scratch(rings, pts32, x0, y0)
        _fill_polygon(temp, rings32, offset, blank=True)
        _accumulate(grid, y0, x0, temp)


@_add.register
def _add_multipolygon(g: MultiPolygon, grid: np.ndarray, stats: _Stats) -> None:
    if not g.parts:
        return
    rings = [r for p in g.parts for r in (p.exterior, *p.interiors)]
    x_lo, y_lo, x_hi, y_hi, pts32 = _bounds(np.concatenate(rings))
    scratch = _scratch(grid, x_lo, y_lo, x_hi, y_hi)
    if scratch is not None:
        temp, x0, y0 = scratch
        rings32, offset = _for_scratch(rings, pts32, x0, y0)
        start = 0
        for i, part in enumerate(g.parts):  # their union: a hole clears its own part only
            end = start + 1 + len(part.interiors)
            _fill_polygon(temp, rings32[start:end], offset, blank=i == 0)
            start = end
        _accumulate(grid, y0, x0, temp)


@_add.register
def _add_polyline(g: Polyline, grid: np.ndarray, stats: _Stats) -> None:
    pts = g.points
    if pts.dtype is not _I64 or pts.ndim != 2 or pts.shape[1] != 2 or len(pts) == 0:
        _add_polyline_plain(pts, grid)
        return
    xy = pts.tolist()  # a few vertices: Python ints beat NumPy reductions
    xs, ys = [x for x, _ in xy], [y for _, y in xy]
    x_lo, y_lo, x_hi, y_hi = min(xs), min(ys), max(xs), max(ys)
    if min(x_lo, y_lo) < -_SMALL or max(x_hi, y_hi) > _SMALL:
        _add_polyline_plain(pts, grid)
        return
    scratch = _scratch(grid, x_lo, y_lo, x_hi, y_hi)
    if scratch is not None:
        temp, x0, y0 = scratch
        cv2.polylines(temp, [np.array([(x - x0, y - y0) for x, y in xy], np.int32)], False, 1, 1)
        _accumulate(grid, y0, x0, temp)


def _add_polyline_plain(points: np.ndarray, grid: np.ndarray) -> None:
    """Draw a line whose vertices are not small int64 ones: the plain int64 formula."""
    x_lo, y_lo, x_hi, y_hi, _ = _bounds(points)
    scratch = _scratch(grid, x_lo, y_lo, x_hi, y_hi)
    if scratch is not None:
        temp, x0, y0 = scratch
        cv2.polylines(temp, [(points - np.array((x0, y0))).astype(np.int32)], False, 1, 1)
        _accumulate(grid, y0, x0, temp)


@_add.register
def _add_cuboid(g: Cuboid, grid: np.ndarray, stats: _Stats) -> None:
    x_lo, y_lo, x_hi, y_hi, pts32 = _bounds(g.points[sorted({i for f in g.faces for i in f})])
    scratch = _scratch(grid, x_lo, y_lo, x_hi, y_hi)
    if scratch is not None:
        temp, x0, y0 = scratch
        for face in g.faces:
            _fill(temp, g.points[list(face)], x0, y0, small=pts32 is not None)
        _accumulate(grid, y0, x0, temp)


#: An oriented box reaching farther than this many pixels beyond the grid is cut to a window
#: this far around it before it is filled: OpenCV's fill walks the polygon's whole extent (4.5 s
#: for one box of ±2**29, which oriented boxes may be: they are not cropped at load). Along the
#: edges of such a box a pixel may then differ by one from an uncut fill (the cut corners are
#: rounded); boxes within this reach, every plausible one, are filled as they are.
_OBB_REACH = 2**20


def _within_reach(corners: list[tuple[int, int]], grid: np.ndarray) -> list[tuple[int, int]]:
    """`corners`, cut to the grid widened by `_OBB_REACH` when they reach beyond it."""
    h, w = grid.shape
    xs, ys = [x for x, _ in corners], [y for _, y in corners]
    if min(xs + ys) >= -_OBB_REACH and max(xs) <= w + _OBB_REACH and max(ys) <= h + _OBB_REACH:
        return corners
    ring = np.array(corners, np.float64) + _OBB_REACH
    cut = clip_ring(ring, h + 2 * _OBB_REACH, w + 2 * _OBB_REACH)
    return [(int(x) - _OBB_REACH, int(y) - _OBB_REACH) for x, y in np.rint(cut)]


@_add.register
def _add_oriented_bbox(g: OrientedBBox, grid: np.ndarray, stats: _Stats) -> None:
    corners = _within_reach(_corners(g), grid)
    if len(corners) < 3:
        return
    xs, ys = [x for x, _ in corners], [y for _, y in corners]
    x_lo, y_lo, x_hi, y_hi = min(xs), min(ys), max(xs), max(ys)
    scratch = _scratch(grid, x_lo, y_lo, x_hi, y_hi)
    if scratch is not None:
        temp, x0, y0 = scratch
        if min(x_lo, y_lo) >= -_SMALL and max(x_hi, y_hi) <= _SMALL:
            pts = np.array([(x - x0, y - y0) for x, y in corners], np.int32)
        else:  # shifted in int64, wrapped to int32 (the plain formula)
            pts = (np.array(corners, np.int64) - np.array((x0, y0))).astype(np.int32)
        cv2.fillPoly(temp, [pts], 1)
        _accumulate(grid, y0, x0, temp)


# --------------------------------------------------------------------------- density


def check_size(
    size: tuple[int, int] | None, width: int | None, height: int | None
) -> tuple[int | None, int | None]:
    """Merge `size` into ``(width, height)``; raise ValueError when they disagree."""
    if size is not None:
        if not isinstance(size, tuple | list) or len(size) != 2:
            raise ValueError(f"size must be a (height, width) pair, got {size!r}")
        if (height is not None and height != size[0]) or (width is not None and width != size[1]):
            raise ValueError("size conflicts with height/width")
        height, width = size
    return _check_side(width, "width"), _check_side(height, "height")


@dataclass
class Partial:
    """The density of some annotations: a partial sum, and what the final checks need.

    Attributes
    ----------
    grid : numpy.ndarray or None
        float32 sum of their labels on the common grid (``None``: nothing drawn yet).
    stats : _Stats
        Labels drawn where the Supervisely SDK would fail.
    n_matching : int
        Labels of the class asked for (all labels when no class is asked for).
    classes : set of str
        Classes that have labels.
    """

    grid: np.ndarray | None = None
    stats: _Stats = field(default_factory=_Stats)
    n_matching: int = 0
    classes: set[str] = field(default_factory=set)

    def add(self, other: Partial) -> Partial:
        """Fold `other` into this partial sum (in place; `other` is not changed) and return it."""
        if other.grid is not None:
            if self.grid is None:
                self.grid = other.grid.copy()
            else:
                self.grid += other.grid
        s, o = self.stats, other.stats
        s.clipped_bitmaps += o.clipped_bitmaps
        s.emptied_bitmaps += o.emptied_bitmaps
        s.uncoloured_edges += o.uncoloured_edges
        self.n_matching += other.n_matching
        self.classes |= other.classes
        return self


def draw_annotation(
    part: Partial, ann: Annotation, shape: tuple[int, int], object_name: str | None
) -> None:
    """Add the labels of `ann` (of class `object_name`, or all) to `part`, scaled to `shape`."""
    part.classes.update(lb.class_name for lb in ann.labels)
    labels = [lb for lb in ann.labels if object_name is None or lb.class_name == object_name]
    if not labels:
        return
    part.n_matching += len(labels)
    if part.grid is None:
        part.grid = np.zeros(shape, np.float32)
    frow, fcol = shape[0] / ann.img_size[0], shape[1] / ann.img_size[1]
    resizers, adders = _resize.registry, _add.registry  # singledispatch's answer, looked up once
    grid, stats = part.grid, part.stats
    for label in labels:
        g = resizers.get(type(label.geometry), _resize)(label.geometry, frow, fcol)
        if g is None:
            stats.emptied_bitmaps += 1
            continue
        adders.get(type(g), _add)(g, grid, stats)


def no_labels_message(classes: set[str], n_anns: int, object_name: str | None) -> str:
    """Say that no label matched, and which classes have labels."""
    if object_name is None:
        return f"No labels found for object_name=None: the {n_anns} annotation(s) hold none"
    present = ", ".join(repr(c) for c in sorted(classes)) if classes else "none"
    return (
        f"No labels found for object_name={object_name!r}; the classes with labels are: {present}"
    )


def finish(
    part: Partial,
    shape: tuple[int, int],
    n_anns: int,
    object_name: str | None,
    stacklevel: int = 4,
) -> np.ndarray:
    """Check that some label matched, warn of the SDK's failures and return the grid.

    The warning points `stacklevel` frames up (4: the caller of finish's caller).
    """
    if part.n_matching == 0:
        raise ValueError(no_labels_message(part.classes, n_anns, object_name))
    part.stats.warn(stacklevel=stacklevel)
    return part.grid if part.grid is not None else np.zeros(shape, np.float32)


def density_serial(
    anns: Sequence[Annotation],
    width: int | None = None,
    height: int | None = None,
    object_name: str | None = None,
) -> np.ndarray:
    """Draw the density of parsed annotations in one thread, label after label (the reference).

    Parameters
    ----------
    anns : sequence of Annotation
        Parsed annotations.
    width, height : int, optional
        Grid sides, see `grid_size`.
    object_name : str, optional
        Only labels of this class title count.

    Returns
    -------
    numpy.ndarray
        float32 ``(H, W)`` density, see `density_map`.
    """
    if not anns:
        raise ValueError("annotations list should have at least one element")
    shape = grid_size([a.img_size for a in anns], width=width, height=height)
    part = Partial()
    for ann in anns:
        draw_annotation(part, ann, shape, object_name)
    return finish(part, shape, len(anns), object_name)
