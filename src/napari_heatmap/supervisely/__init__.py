"""Supervisely image-project annotations without the Supervisely SDK.

Pure: imports numpy and OpenCV, never napari or Qt.
"""

from ._annotation import Annotation, annotation_from_any, load_annotation
from ._errors import SuperviselyFormatError, SuperviselyWarning
from ._folders import AnnotationItem, SuperviselyLayout, find_annotations, is_supervisely_json
from ._loading import ReadReport, find_layout, item_label, load_layouts
from ._meta import ProjectMeta, find_meta_for, load_meta
from ._raster import density_map, grid_size, oriented_bbox_corners, resize_geometry
from ._shapes import (
    AlphaMask,
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
)
from ._sources import annotation_sources

__all__ = [
    "AlphaMask",
    "Annotation",
    "AnnotationItem",
    "AnyGeometry",
    "Bitmap",
    "Cuboid",
    "Graph",
    "MultiPolygon",
    "OrientedBBox",
    "Point",
    "Polygon",
    "Polyline",
    "ProjectMeta",
    "ReadReport",
    "Rectangle",
    "SuperviselyFormatError",
    "SuperviselyLayout",
    "SuperviselyWarning",
    "annotation_from_any",
    "annotation_sources",
    "clip_box",
    "density_map",
    "find_annotations",
    "find_layout",
    "find_meta_for",
    "grid_size",
    "is_supervisely_json",
    "item_label",
    "load_annotation",
    "load_layouts",
    "load_meta",
    "oriented_bbox_corners",
    "resize_geometry",
]
