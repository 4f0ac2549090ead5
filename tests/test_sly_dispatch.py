"""Every geometry type is handled by every operation on geometries: one dispatch each."""

from __future__ import annotations

import numpy as np
import pytest

from napari_heatmap._reader._layers import _ClassObjects, _collect
from napari_heatmap.supervisely import _shapes, clip_box
from napari_heatmap.supervisely._geometry import _crop
from napari_heatmap.supervisely._raster import _add, _resize
from napari_heatmap.supervisely._shapes import GEOMETRY_TYPES

OPERATIONS = {"crop": _crop, "resize": _resize, "draw": _add, "layer data": _collect}


def test_the_geometry_types_are_every_geometry_class_of_the_shapes_module():
    classes = {
        obj
        for name, obj in vars(_shapes).items()
        if isinstance(obj, type) and obj.__module__ == _shapes.__name__
    }
    assert classes - {_shapes.GraphNode} == set(GEOMETRY_TYPES)  # a node is part of a graph
    assert len(GEOMETRY_TYPES) == 11


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
@pytest.mark.parametrize("gtype", GEOMETRY_TYPES, ids=lambda t: t.__name__)
def test_every_geometry_type_has_its_own_case_in_every_operation(operation, gtype):
    dispatch = OPERATIONS[operation]
    fallback = dispatch.registry[object]
    assert dispatch.dispatch(gtype) is not fallback, f"{operation} has no case for {gtype}"


@pytest.mark.parametrize("operation", OPERATIONS, ids=str)
def test_an_unknown_geometry_is_refused_not_ignored(operation):
    class Stranger:
        pass

    args = {
        "crop": (5, 5),
        "resize": (1.0, 1.0),
        "draw": (np.zeros((5, 5), np.float32), None),
        "layer data": (_ClassObjects((0, 0, 0)),),
    }[operation]
    with pytest.raises(TypeError, match="Stranger"):
        OPERATIONS[operation](Stranger(), *args)


@pytest.mark.parametrize(
    ("box", "clipped"),
    [
        ((2, 3, 5, 7), (2, 3, 5, 7)),  # inside
        ((-2, -3, 5, 7), (0, 0, 5, 7)),  # over the top-left corner
        ((8, 9, 20, 30), (8, 9, 10, 12)),  # over the bottom-right corner
        ((10, 0, 11, 5), None),  # below the image
        ((3, 3, 3, 5), None),  # empty to begin with
    ],
)
def test_clip_box_keeps_the_part_inside_the_image(box, clipped):
    assert clip_box(box, 10, 12) == clipped
