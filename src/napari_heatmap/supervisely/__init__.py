"""Supervisely image-project annotations without the Supervisely SDK.

Pure: imports numpy and OpenCV, never napari or Qt.
"""

from ._annotation import Annotation, Label, annotation_from_any, load_annotation
from ._errors import SuperviselyFormatError, SuperviselyWarning
from ._folders import AnnotationItem, SuperviselyLayout, find_annotations, is_supervisely_json
from ._meta import ObjClass, ProjectMeta, find_meta_for, load_meta
from ._raster import add_geometry, density_map, grid_size, oriented_bbox_corners, resize_geometry
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
)
from ._sources import annotation_sources, read_sources

__all__ = [
    "AlphaMask",
    "Annotation",
    "AnnotationItem",
    "AnyGeometry",
    "Bitmap",
    "Cuboid",
    "Geometry",
    "Graph",
    "GraphNode",
    "Label",
    "MultiPolygon",
    "ObjClass",
    "OrientedBBox",
    "Point",
    "Polygon",
    "Polyline",
    "ProjectMeta",
    "Rectangle",
    "SuperviselyFormatError",
    "SuperviselyLayout",
    "SuperviselyWarning",
    "add_geometry",
    "annotation_from_any",
    "annotation_sources",
    "density_map",
    "find_annotations",
    "find_meta_for",
    "grid_size",
    "is_supervisely_json",
    "load_annotation",
    "load_meta",
    "oriented_bbox_corners",
    "read_sources",
    "resize_geometry",
]
