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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from ._annotation import MAX_IMAGE_PIXELS, Annotation
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
    mask_box,
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


def _nearest_index(n_in: int, n_out: int) -> np.ndarray:
    """Source indices of nearest-neighbour resampling (skimage ``order=0`` / ndimage zoom)."""
    z = n_in / n_out
    return np.floor(((np.arange(n_out) + 0.5) * z - 0.5) + 0.5).astype(np.intp)


def _scale(pts: np.ndarray, frow: float, fcol: float) -> np.ndarray:
    return np.rint(pts * np.array([fcol, frow])).astype(np.int64)


def _resize_mask(g: Bitmap | AlphaMask, frow: float, fcol: float) -> Bitmap | AlphaMask | None:
    (r0, c0), (h, w) = g.origin, g.data.shape
    origin = (round(r0 * frow), round(c0 * fcol))
    out_h, out_w = max(round(h * frow), 1), max(round(w * fcol), 1)
    data = g.data
    if (out_h, out_w) != (h, w):
        data = data[_nearest_index(h, out_h)][:, _nearest_index(w, out_w)]
    rows = np.flatnonzero(data.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(data.any(axis=0))
    data = data[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return type(g)((origin[0] + int(rows[0]), origin[1] + int(cols[0])), data)


def _resize_polygon(p: Polygon, frow: float, fcol: float) -> Polygon:
    return Polygon(
        _scale(p.exterior, frow, fcol), tuple(_scale(r, frow, fcol) for r in p.interiors)
    )


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
    return MultiPolygon(tuple(_resize_polygon(p, frow, fcol) for p in g.parts))


@_resize.register
def _resize_any(g: AnyGeometry, frow: float, fcol: float) -> AnyGeometry:
    return g


# --------------------------------------------------------------------------- drawing


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
    cy, cx = (g.top + g.bottom) // 2, (g.left + g.right) // 2
    cos_a, sin_a = np.cos(g.angle), np.sin(g.angle)
    out = []
    for row, col in ((g.top, g.left), (g.top, g.right), (g.bottom, g.right), (g.bottom, g.left)):
        dx, dy = col - cx, row - cy
        x = dx * cos_a - dy * sin_a + cx
        y = dx * sin_a + dy * cos_a + cy
        out.append((math.floor(x), math.floor(y)))
    return np.array(out, np.int64)


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


def _window(grid: np.ndarray, pts: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounding box ``(x0, y0, x1, y1)`` (exclusive end) of `pts` clipped to the grid."""
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    box = clip_box((int(y0), int(x0), int(y1) + 1, int(x1) + 1), *grid.shape)
    if box is None:
        return None
    top, left, bottom, right = box
    return left, top, right, bottom


def _fill(temp: np.ndarray, rings: list[np.ndarray], offset: np.ndarray, value: int) -> None:
    cv2.fillPoly(temp, [(r - offset).astype(np.int32) for r in rings], value)


def _polygon_mask(p: Polygon, shape: tuple[int, ...], offset: np.ndarray) -> np.ndarray:
    temp = np.zeros(shape, np.uint8)
    _fill(temp, [p.exterior], offset, 1)
    if p.interiors:
        _fill(temp, list(p.interiors), offset, 0)
    return temp


def _add_mask(g: Bitmap | AlphaMask, grid: np.ndarray, stats: _Stats) -> None:
    whole = mask_box(g)
    box = clip_box(whole, *grid.shape)
    if box != whole:
        stats.clipped_bitmaps += 1
    if box is None:
        return
    (r0, c0), (top, left, bottom, right) = g.origin, box
    data = g.data[top - r0 : bottom - r0, left - c0 : right - c0]
    if isinstance(g, AlphaMask):
        data = (data / 255.0).astype(np.float32)
    grid[top:bottom, left:right] += data


def _add_graph(g: Graph, grid: np.ndarray, stats: _Stats) -> None:
    enabled = {k: n for k, n in g.nodes.items() if not n.disabled}
    if not enabled:
        return
    pts = np.array([[n.col, n.row] for n in enabled.values()], np.int64)
    win = _window(grid, pts)
    if win is None:
        return
    x0, y0, x1, y1 = win
    temp = np.zeros((y1 - y0, x1 - x0), np.uint8)
    for src, dst, has_colour in g.edges:
        a, b = enabled.get(src), enabled.get(dst)
        if a is not None and b is not None:
            cv2.line(temp, (a.col - x0, a.row - y0), (b.col - x0, b.row - y0), 1, 1)
            stats.uncoloured_edges += not has_colour
    for n in enabled.values():
        if y0 <= n.row < y1 and x0 <= n.col < x1:
            temp[n.row - y0, n.col - x0] = 1
    grid[y0:y1, x0:x1] += temp


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


def _add_drawn(
    grid: np.ndarray, pts: np.ndarray, draw: Callable[[np.ndarray, np.ndarray], None]
) -> None:
    """Add what `draw(temp, offset)` draws into a scratch array over the box of `pts`."""
    win = _window(grid, pts)
    if win is None:
        return
    x0, y0, x1, y1 = win
    temp = np.zeros((y1 - y0, x1 - x0), np.uint8)
    draw(temp, np.array([x0, y0], np.int64))
    grid[y0:y1, x0:x1] += temp


@_add.register
def _add_point(g: Point, grid: np.ndarray, stats: _Stats) -> None:
    h, w = grid.shape
    if 0 <= g.row < h and 0 <= g.col < w:
        grid[g.row, g.col] += 1


@_add.register
def _add_rectangle(g: Rectangle, grid: np.ndarray, stats: _Stats) -> None:
    box = clip_box((g.top, g.left, g.bottom + 1, g.right + 1), *grid.shape)
    if box is not None:
        top, left, bottom, right = box
        grid[top:bottom, left:right] += 1


_add.register(Bitmap, _add_mask)
_add.register(AlphaMask, _add_mask)
_add.register(Graph, _add_graph)


@_add.register
def _add_nothing(g: AnyGeometry, grid: np.ndarray, stats: _Stats) -> None:
    return


@_add.register
def _add_polygon(g: Polygon, grid: np.ndarray, stats: _Stats) -> None:
    def draw(temp: np.ndarray, offset: np.ndarray) -> None:
        temp |= _polygon_mask(g, temp.shape, offset)

    _add_drawn(grid, np.concatenate([g.exterior, *g.interiors]), draw)


@_add.register
def _add_multipolygon(g: MultiPolygon, grid: np.ndarray, stats: _Stats) -> None:
    if not g.parts:
        return

    def draw(temp: np.ndarray, offset: np.ndarray) -> None:
        for part in g.parts:
            temp |= _polygon_mask(part, temp.shape, offset)

    pts = np.concatenate([r for p in g.parts for r in (p.exterior, *p.interiors)])
    _add_drawn(grid, pts, draw)


@_add.register
def _add_polyline(g: Polyline, grid: np.ndarray, stats: _Stats) -> None:
    def draw(temp: np.ndarray, offset: np.ndarray) -> None:
        cv2.polylines(temp, [(g.points - offset).astype(np.int32)], False, 1, 1)

    _add_drawn(grid, g.points, draw)


@_add.register
def _add_cuboid(g: Cuboid, grid: np.ndarray, stats: _Stats) -> None:
    def draw(temp: np.ndarray, offset: np.ndarray) -> None:
        for face in g.faces:
            _fill(temp, [g.points[list(face)]], offset, 1)

    _add_drawn(grid, g.points[sorted({i for face in g.faces for i in face})], draw)


@_add.register
def _add_oriented_bbox(g: OrientedBBox, grid: np.ndarray, stats: _Stats) -> None:
    corners = oriented_bbox_corners(g)

    def draw(temp: np.ndarray, offset: np.ndarray) -> None:
        _fill(temp, [corners], offset, 1)

    _add_drawn(grid, corners, draw)


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
    for label in labels:
        g = _resize(label.geometry, frow, fcol)
        if g is None:
            part.stats.emptied_bitmaps += 1
            continue
        _add(g, part.grid, part.stats)


def no_labels_message(classes: set[str], n_anns: int, object_name: str | None) -> str:
    """Say that no label matched, and which classes have labels."""
    if object_name is None:
        return f"No labels found for object_name=None: the {n_anns} annotation(s) hold none"
    present = ", ".join(repr(c) for c in sorted(classes)) if classes else "none"
    return (
        f"No labels found for object_name={object_name!r}; the classes with labels are: {present}"
    )


def finish(
    part: Partial, shape: tuple[int, int], n_anns: int, object_name: str | None
) -> np.ndarray:
    """Check that some label matched, warn of the SDK's failures and return the grid."""
    if part.n_matching == 0:
        raise ValueError(no_labels_message(part.classes, n_anns, object_name))
    part.stats.warn(stacklevel=4)
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
