"""Supervisely objects (and the image beneath) as napari layer-data tuples.

Builds ``(data, kwargs, layer_type)`` tuples from parsed annotations: shapes, points and
labels per class, in the class colour. Imports neither napari nor Qt; the npe2 reader hands
the tuples to napari as they are. Vertices sit on pixel centres, in napari's (row, col) order.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from .._background import load_background, natural_contrast_limits
from .._placement import layer_transform
from ..supervisely import (
    AlphaMask,
    Annotation,
    AnnotationItem,
    AnyGeometry,
    Bitmap,
    Cuboid,
    Graph,
    MultiPolygon,
    OrientedBBox,
    Point,
    Polygon,
    Polyline,
    Rectangle,
    clip_box,
    oriented_bbox_corners,
)

__all__ = ["MAX_SHAPE_VERTICES", "OBJECT_OPACITY", "LayerData", "image_layer", "object_layers"]

LayerData = tuple[Any, dict[str, Any], str]
#: Opacity of shapes and masks, so the image shows through.
OBJECT_OPACITY = 0.5


#: Most vertices one shape is shown with: napari needs about a millisecond per vertex to add a
#: shape, so a 100,000-vertex polygon would stall the viewer (the density uses every vertex).
MAX_SHAPE_VERTICES = 1000


def _rc(xy: np.ndarray) -> np.ndarray:
    """``[x, y]`` vertices -> napari ``(row, col)`` float vertices."""
    return np.asarray(xy, np.float64)[:, ::-1].copy()


def _shown(xy: np.ndarray, closed: bool) -> np.ndarray:
    """Vertices napari can draw: no repeated vertex in a row, at most `MAX_SHAPE_VERTICES`.

    napari's triangulation fails with a KeyError on a polygon whose consecutive vertices repeat
    (common once coordinates are rounded to pixels); long outlines are simplified by
    Douglas-Peucker with a tolerance grown until they fit.
    """
    pts = np.asarray(xy, np.float64).reshape(-1, 2)
    if len(pts) > 1:
        keep = np.r_[True, np.any(pts[1:] != pts[:-1], axis=1)]
        pts = pts[keep]
    if closed and len(pts) > 1 and np.array_equal(pts[0], pts[-1]):
        pts = pts[:-1]
    epsilon = 0.5
    while len(pts) > MAX_SHAPE_VERTICES:
        curve = pts.astype(np.float32).reshape(-1, 1, 2)
        pts = cv2.approxPolyDP(curve, epsilon, closed).reshape(-1, 2).astype(np.float64)
        epsilon *= 2
    return _rc(pts)


def _polygon(xy: np.ndarray) -> tuple[np.ndarray, str]:
    """Return a polygon shape, or a path when too few distinct vertices are left."""
    rc = _shown(xy, closed=True)
    return (rc, "polygon") if len(rc) >= 3 else (rc, "path")


@dataclass
class _ClassObjects:
    color: tuple[int, int, int]
    shapes: list[tuple[np.ndarray, str]] = field(default_factory=list)
    points: list[tuple[float, float]] = field(default_factory=list)
    edges: list[np.ndarray] = field(default_factory=list)
    masks: list[tuple[tuple[int, int], np.ndarray]] = field(default_factory=list)


@functools.singledispatch
def _collect(geometry: object, out: _ClassObjects) -> None:
    """Sort one geometry into the napari layer kinds of its class: one per geometry type."""
    raise TypeError(f"cannot show {type(geometry).__name__}")


@_collect.register
def _collect_rectangle(g: Rectangle, out: _ClassObjects) -> None:
    corners = [(g.top, g.left), (g.top, g.right), (g.bottom, g.right), (g.bottom, g.left)]
    out.shapes.append((np.array(corners, np.float64), "rectangle"))


@_collect.register
def _collect_polygon(g: Polygon, out: _ClassObjects) -> None:
    out.shapes.append(_polygon(g.exterior))


@_collect.register
def _collect_multipolygon(g: MultiPolygon, out: _ClassObjects) -> None:
    out.shapes += [_polygon(part.exterior) for part in g.parts]


@_collect.register
def _collect_oriented_bbox(g: OrientedBBox, out: _ClassObjects) -> None:
    out.shapes.append((_rc(oriented_bbox_corners(g)), "polygon"))


@_collect.register
def _collect_cuboid(g: Cuboid, out: _ClassObjects) -> None:
    out.shapes += [(_rc(g.points[list(face)]), "polygon") for face in g.faces]


@_collect.register
def _collect_polyline(g: Polyline, out: _ClassObjects) -> None:
    out.shapes.append((_shown(g.points, closed=False), "path"))


@_collect.register
def _collect_point(g: Point, out: _ClassObjects) -> None:
    out.points.append((g.row, g.col))


@_collect.register
def _collect_graph(g: Graph, out: _ClassObjects) -> None:
    live = {k: n for k, n in g.nodes.items() if not n.disabled}
    out.points += [(n.row, n.col) for n in live.values()]
    out.edges += [
        np.array([(live[a].row, live[a].col), (live[b].row, live[b].col)], np.float64)
        for a, b, _ in g.edges
        if a in live and b in live
    ]


@_collect.register(Bitmap)
@_collect.register(AlphaMask)
def _collect_mask(g: Bitmap | AlphaMask, out: _ClassObjects) -> None:
    out.masks.append((g.origin, g.data > 0))


@_collect.register
def _collect_nothing(g: AnyGeometry, out: _ClassObjects) -> None:
    """Nothing to show."""


def _mask_layer(objs: _ClassObjects, img_size: tuple[int, int]) -> np.ndarray:
    """One label value per object (later objects on top), cropped to the image."""
    dtype = np.uint16 if len(objs.masks) < 2**16 else np.uint32
    labels = np.zeros(img_size, dtype)
    for value, ((r0, c0), mask) in enumerate(objs.masks, start=1):
        box = clip_box((r0, c0, r0 + mask.shape[0], c0 + mask.shape[1]), *img_size)
        if box is None:
            continue
        top, left, bottom, right = box
        labels[top:bottom, left:right][mask[top - r0 : bottom - r0, left - c0 : right - c0]] = value
    return labels


def _class_layers(
    name: str, objs: _ClassObjects, item: AnnotationItem, img_size: tuple[int, int]
) -> dict[str, list[LayerData]]:
    """Build the layers of one class, by kind: ``mask``, ``shapes``, ``edges``, ``points``."""
    rgba = [c / 255 for c in objs.color] + [1.0]
    several = sum(bool(v) for v in (objs.masks, objs.shapes, objs.points)) > 1
    meta = {"supervisely": {"class": name, "item": item.name, "path": str(item.ann_path)}}

    def common(kind: str) -> dict[str, Any]:
        suffix = f" {kind}" if several or kind == "edges" else ""
        return dict(name=f"{name}{suffix} ({item.name})", metadata=meta)

    side = max(img_size)
    out: dict[str, list[LayerData]] = {"mask": [], "shapes": [], "edges": [], "points": []}
    if objs.masks:
        transparent = [0.0, 0.0, 0.0, 0.0]
        kw = dict(colormap={None: rgba, 0: transparent}, opacity=OBJECT_OPACITY)
        out["mask"].append((_mask_layer(objs, img_size), common("mask") | kw, "labels"))
    for kind, shapes in (("shapes", objs.shapes), ("edges", [(e, "path") for e in objs.edges])):
        if shapes:
            kw = dict(
                shape_type=[t for _, t in shapes],
                face_color=rgba,
                edge_color=rgba,
                edge_width=max(1.0, side / 400),
                opacity=OBJECT_OPACITY,
            )
            out[kind].append(([v for v, _ in shapes], common(kind) | kw, "shapes"))
    if objs.points:
        kw = dict(face_color=rgba, border_color=rgba, size=max(5.0, side / 100))
        out["points"].append((np.array(objs.points, np.float64), common("points") | kw, "points"))
    return out


def object_layers(item: AnnotationItem, ann: Annotation) -> list[LayerData]:
    """Build the layers of one image's objects: masks, then shapes and edges, then points on top."""
    by_class: dict[str, _ClassObjects] = {}
    for label in ann.labels:
        _collect(label.geometry, by_class.setdefault(label.class_name, _ClassObjects(label.color)))
    per_class = [_class_layers(n, objs, item, ann.img_size) for n, objs in by_class.items()]
    order = ("mask", "shapes", "edges", "points")
    return [layer for kind in order for layers in per_class for layer in layers[kind]]


def image_layer(item: AnnotationItem, frame: tuple[int, int], notes: list[str]) -> LayerData | None:
    """Build the image beneath `item`, stretched over `frame`; a failure is noted in `notes`."""
    if item.image_path is None:
        return None
    try:
        image = load_background(item.image_path)
    except (OSError, ValueError) as e:
        notes.append(f"{item.image_path.name}: image not shown: {e}")
        return None
    scale, translate = layer_transform(frame, image.shape[:2])
    kwargs = {
        "name": item.name,
        "rgb": True,
        "contrast_limits": natural_contrast_limits(image),
        "scale": scale,
        "translate": translate,
    }
    return image, kwargs, "image"
