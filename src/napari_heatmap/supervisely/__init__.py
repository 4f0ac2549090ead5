"""Supervisely image-project annotations without the Supervisely SDK.

Pure: imports numpy and OpenCV, never napari or Qt.
"""

from ._annotation import Annotation, annotation_from_any, load_annotation
from ._dataset import Progress, density_map, density_stack, layouts_density
from ._errors import SuperviselyFormatError, SuperviselyWarning
from ._folders import AnnotationItem, SuperviselyLayout, find_annotations, is_supervisely_json
from ._loading import ReadReport, find_layout, item_label, load_layouts, plan_layouts
from ._meta import ProjectMeta, find_meta_for, load_meta
from ._raster import density_serial, grid_size, oriented_bbox_corners, resize_geometry
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
    "Progress",
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
    "density_serial",
    "density_stack",
    "find_annotations",
    "find_layout",
    "find_meta_for",
    "grid_size",
    "is_supervisely_json",
    "item_label",
    "layouts_density",
    "load_annotation",
    "load_layouts",
    "load_meta",
    "oriented_bbox_corners",
    "plan_layouts",
    "resize_geometry",
]
