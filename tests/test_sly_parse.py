"""Reading Supervisely annotations: flooring, load-time cropping, leniency, broken input."""

import base64
import json
import struct
import zlib

import cv2
import numpy as np
import pytest

from _imports import NAPARI, QT, assert_fresh_interpreter_loads_none_of
from napari_heatmap.supervisely import (
    Annotation,
    Graph,
    OrientedBBox,
    Point,
    Polyline,
    Rectangle,
    SuperviselyFormatError,
    SuperviselyWarning,
    annotation_from_any,
    density_map,
    find_meta_for,
    load_annotation,
    load_meta,
)
from tools.sly_json import H, W, ann, obj, pts


def b64_zlib(raw):
    return base64.b64encode(zlib.compress(raw)).decode()


def rgba_png(mask):
    bgra = np.zeros((*mask.shape, 4), np.uint8)
    bgra[mask] = 255
    return cv2.imencode(".png", bgra)[1].tobytes()


def only_geometry(data, meta=None):
    a = load_annotation(data, meta)
    assert len(a.labels) == 1
    return a.labels[0].geometry


# ----------------------------------------------------------------- coordinates


def test_float_coordinates_are_floored():
    from napari_heatmap.supervisely._geometry import parse_geometry

    data = obj("polygon", points=pts([[-0.5, 5.99], [3.2, 0.0], [4.7, 7.1]]))
    g = parse_geometry("polygon", data, (H, W), None)  # before the crop to the image
    np.testing.assert_array_equal(g.exterior, [[-1, 5], [3, 0], [4, 7]])
    g = only_geometry(ann([obj("polygon", points=pts([[0.5, 5.99], [3.2, 0.0], [4.7, 7.1]]))]))
    np.testing.assert_array_equal(g.exterior, [[0, 5], [3, 0], [4, 7]])


def test_float_point_and_bitmap_origin_are_floored():
    g = only_geometry(ann([obj("point", points=pts([[5.99, 2.5]]))]))
    assert g == Point(row=2, col=5)
    mask = np.ones((2, 2), bool)
    b = only_geometry(
        ann([obj("bitmap", bitmap={"origin": [3.7, 1.2], "data": b64_zlib(rgba_png(mask))})])
    )
    assert b.origin == (1, 3)


def test_string_coordinates_are_a_format_error():
    with pytest.raises(SuperviselyFormatError, match="object 0"):
        load_annotation(ann([obj("point", points=pts([["1", "2"]]))]))


def test_polygon_with_two_vertices_repeats_the_last_one():
    g = only_geometry(ann([obj("polygon", points=pts([[1, 1], [4, 4]]))]))
    np.testing.assert_array_equal(g.exterior, [[1, 1], [4, 4], [4, 4]])


# ----------------------------------------------------------------- cropping


def test_rectangle_is_cropped_to_the_image():
    g = only_geometry(ann([obj("rectangle", points=pts([[-5, -5], [3, 40]]))]))
    assert g == Rectangle(top=0, left=0, bottom=H - 1, right=3)


def test_rectangle_and_point_outside_the_image_are_dropped():
    a = load_annotation(
        ann(
            [
                obj("rectangle", points=pts([[W, 0], [W + 5, 5]])),
                obj("point", points=pts([[-1, 3]])),
                obj("point", points=pts([[3, H]])),
                obj("point", points=pts([[W - 1, H - 1]])),
            ]
        )
    )
    assert [lb.geometry for lb in a.labels] == [Point(row=H - 1, col=W - 1)]


def test_bitmap_is_cut_to_the_image_and_dropped_when_nothing_remains():
    mask = np.ones((4, 4), bool)
    mask[3, 3] = False
    data = b64_zlib(rgba_png(mask))
    a = load_annotation(
        ann(
            [
                obj("bitmap", bitmap={"origin": [-1, -2], "data": data}),
                obj("bitmap", bitmap={"origin": [W - 3, H - 3], "data": data}),
            ]
        )
    )
    first, second = (lb.geometry for lb in a.labels)
    assert first.origin == (0, 0)
    np.testing.assert_array_equal(first.data, mask[2:, 1:])
    # bottom-right piece: rows H-3..H-1, cols W-3..W-1 of the mask's top-left 3x3
    assert second.origin == (H - 3, W - 3)
    np.testing.assert_array_equal(second.data, mask[:3, :3])
    only_corner = np.zeros((4, 4), bool)
    only_corner[3, 3] = True
    gone = load_annotation(
        ann([obj("bitmap", bitmap={"origin": [W - 2, 0], "data": b64_zlib(rgba_png(only_corner))})])
    )
    assert gone.labels == []


def test_graph_with_any_node_outside_is_dropped_whole():
    nodes = {"a": {"loc": [1, 1]}, "b": {"loc": [W, 1], "disabled": True}}
    assert load_annotation(ann([obj("graph", nodes=nodes)])).labels == []
    nodes["b"]["loc"] = [W - 1, 1]
    assert isinstance(only_geometry(ann([obj("graph", nodes=nodes)])), Graph)


def test_oriented_bbox_is_never_cropped():
    g = only_geometry(ann([obj("oriented_bbox", points=[[-10, -10], [50, 50]], angle=0.3)]))
    assert g == OrientedBBox(top=-10, left=-10, bottom=50, right=50, angle=0.3)


def test_polygon_crossing_the_border_is_clipped_with_rounded_vertices():
    # the edge (20,0)-(40,10) meets x = W-1 = 29 at y = 4.5: rounded half-to-even to 4
    g = only_geometry(ann([obj("polygon", points=pts([[20, 0], [40, 10], [20, 10]]))]))
    assert {tuple(p) for p in g.exterior} == {(20, 0), (29, 4), (29, 10), (20, 10)}
    # a hole crossing the border is clipped too; a hole wholly outside goes
    square = [[25, 2], [35, 2], [35, 12], [25, 12]]
    holes = [[[27, 4], [33, 4], [33, 6]], [[31, 8], [34, 8], [34, 10]]]
    g = only_geometry(ann([obj("polygon", points=pts(square, holes))]))
    assert {tuple(p) for p in g.exterior} == {(25, 2), (29, 2), (29, 12), (25, 12)}
    assert len(g.interiors) == 1
    assert {tuple(p) for p in g.interiors[0]} == {(27, 4), (29, 4), (29, 5)}  # 4.67 -> 5


def test_line_crossing_the_border_becomes_one_label_per_stretch_inside():
    line = only_geometry(ann([obj("line", points=pts([[-5, 1], [40, 1]]))]))
    np.testing.assert_array_equal(line.points, [[0, 1], [29, 1]])
    # out through the top edge and back in: two labels, each counted once
    a = load_annotation(ann([obj("line", points=pts([[5, 5], [5, -5], [10, -5], [10, 5]]))]))
    assert [lb.geometry.points.tolist() for lb in a.labels] == [
        [[5, 5], [5, 0]],
        [[10, 0], [10, 5]],
    ]
    grid = density_map([a], width=W, height=H)
    assert grid.sum() == 12 and grid[0:6, 5].tolist() == [1] * 6
    # an entry point between pixels is floored: (0, 2.5) -> (0, 2)
    line = only_geometry(ann([obj("line", points=pts([[-4, 1], [4, 4]]))]))
    np.testing.assert_array_equal(line.points, [[0, 2], [4, 4]])


def test_polygons_and_lines_wholly_outside_are_dropped():
    far = ann(
        [
            obj("polygon", points=pts([[W, 0], [W + 3, 0], [W, 3]])),
            obj("line", points=pts([[0, -1], [9, -2]])),
        ]
    )
    assert load_annotation(far).labels == []


# ----------------------------------------------------------------- leniency


def test_objects_without_tags_and_legacy_bitmap_null_are_read():
    meta = load_meta([{"title": "bread", "shape": "rectangle", "color": "#FF0000"}])
    data = {
        "size": {"height": H, "width": W},
        "objects": [
            {"classTitle": "bread", "bitmap": None, "points": pts([[1, 2], [3, 4]])},
        ],
    }
    g = only_geometry(data, meta)
    assert g == Rectangle(top=2, left=1, bottom=4, right=3)


def test_class_shape_decides_over_geometry_type():
    meta = load_meta({"classes": [{"title": "c", "shape": "line", "color": "#00FF00"}]})
    g = only_geometry(ann([obj("polygon", points=pts([[0, 0], [5, 0], [5, 5]]))]), meta)
    assert isinstance(g, Polyline)


def test_any_class_uses_geometry_type_or_legacy_shape_key():
    meta = load_meta({"classes": [{"title": "c", "shape": "any", "color": "#00FF00"}]})
    assert isinstance(only_geometry(ann([obj("point", points=pts([[1, 1]]))]), meta), Point)
    legacy = {"classTitle": "c", "shape": "point", "points": pts([[1, 1]])}
    assert isinstance(only_geometry(ann([legacy]), meta), Point)


def test_class_missing_from_meta_is_drawn_with_default_colour_and_a_warning():
    meta = load_meta({"classes": [{"title": "car", "shape": "rectangle", "color": "#FF0000"}]})
    data = ann([obj("point", cls="truck", points=pts([[1, 1]]))])
    with pytest.warns(SuperviselyWarning, match="truck"):
        a = load_annotation(data, meta)
    assert a.labels[0].geometry == Point(1, 1)
    assert len(a.labels[0].color) == 3
    with pytest.warns(SuperviselyWarning):
        assert density_map([annotation_from_any(data, meta)]).sum() == 1


def test_meta_class_colour_is_parsed():
    meta = load_meta({"classes": [{"title": "car", "shape": "rectangle", "color": "#FF3B30"}]})
    assert meta.classes["car"].color == (255, 59, 48)
    assert meta.classes["car"].shape == "rectangle"


def test_unknown_class_shape_becomes_any():
    meta = load_meta({"classes": [{"title": "v", "shape": "mask_3d", "color": "#FF3B30"}]})
    assert meta.classes["v"].shape == "any"


def test_meta_without_classes_is_a_format_error():
    with pytest.raises(SuperviselyFormatError, match="classes"):
        load_meta({"tags": []})


# ----------------------------------------------------------------- inputs


def test_sdk_like_object_with_to_json_is_accepted():
    class FakeSdkAnnotation:
        def to_json(self):
            return ann([obj("rectangle", points=pts([[0, 0], [1, 1]]))], 4, 4)

    grid = density_map([FakeSdkAnnotation()])
    assert grid.shape == (4, 4)
    assert grid.sum() == 4


def test_sdk_like_labels_supply_the_graph_template():
    class Cls:
        def to_json(self):
            return {
                "title": "pose",
                "shape": "graph",
                "color": "#FF0000",
                "geometry_config": {
                    "nodes": {"a": {"loc": [0, 0]}, "b": {"loc": [1, 1]}},
                    "edges": [{"src": "a", "dst": "b", "color": "#00FF00"}],
                },
            }

    class Lab:
        obj_class = Cls()

    class FakeSdkAnnotation:
        labels = [Lab()]

        def to_json(self):
            nodes = {"a": {"loc": [0, 0]}, "b": {"loc": [3, 0]}}
            return ann([obj("graph", cls="pose", nodes=nodes)], 4, 4)

    assert density_map([FakeSdkAnnotation()]).sum() == 4  # edge drawn: template was found


def test_unsupported_input_type_is_a_type_error():
    with pytest.raises(TypeError):
        annotation_from_any(42)


def test_path_input_finds_meta_by_walking_up(tmp_path):
    (tmp_path / "meta.json").write_text(
        json.dumps({"classes": [{"title": "c", "shape": "line", "color": "#00FF00"}]})
    )
    ann_dir = tmp_path / "ds" / "ann"
    ann_dir.mkdir(parents=True)
    path = ann_dir / "img.png.json"
    path.write_text(json.dumps(ann([obj("polygon", points=pts([[0, 0], [5, 0], [5, 5]]))])))
    assert find_meta_for(path) == (tmp_path / "meta.json").resolve()
    a = annotation_from_any(str(path))
    assert isinstance(a, Annotation)
    assert a.name == "img.png"
    assert isinstance(a.labels[0].geometry, Polyline)  # the meta's class shape decided


# ----------------------------------------------------------------- broken input


def write(tmp_path, data, name="x.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def bitmap_obj(data, gtype="bitmap"):
    return obj(gtype, bitmap={"origin": [0, 0], "data": data})


def assert_format_error(tmp_path, objects, match=None, h=H, w=W):
    path = write(tmp_path, ann([obj("point", points=pts([[0, 0]])), *objects], h, w))
    with pytest.raises(SuperviselyFormatError, match=match) as info:
        load_annotation(path)
    message = str(info.value)
    assert str(path) in message
    assert "object 1" in message
    assert info.value.object_index == 1
    assert isinstance(info.value, ValueError)


def test_not_json_names_the_file(tmp_path):
    path = write(tmp_path, "{not json")
    with pytest.raises(SuperviselyFormatError, match="not a JSON") as info:
        load_annotation(path)
    assert str(path) in str(info.value)


def test_missing_size_names_the_file(tmp_path):
    path = write(tmp_path, {"objects": []})
    with pytest.raises(SuperviselyFormatError, match="size") as info:
        load_annotation(path)
    assert str(path) in str(info.value)


def test_bad_base64(tmp_path):
    assert_format_error(tmp_path, [bitmap_obj("abc")], "base64")


def test_bad_zlib(tmp_path):
    data = base64.b64encode(b"certainly not zlib").decode()
    assert_format_error(tmp_path, [bitmap_obj(data)], "zlib")


def test_truncated_zlib(tmp_path):
    raw = zlib.compress(rgba_png(np.ones((3, 3), bool)))[:-8]
    assert_format_error(tmp_path, [bitmap_obj(base64.b64encode(raw).decode())], "zlib")


def test_not_a_png(tmp_path):
    assert_format_error(tmp_path, [bitmap_obj(b64_zlib(b"GIF89a....."))], "not a PNG")


def test_png_with_broken_pixel_data(tmp_path):
    png = bytearray(rgba_png(np.ones((4, 4), bool)))
    idat = png.index(b"IDAT")
    png[idat + 4 : idat + 14] = b"\xff" * 10
    assert_format_error(tmp_path, [bitmap_obj(b64_zlib(bytes(png)))], "decoded")


def test_png_without_alpha_is_wrong_mask_format(tmp_path):
    png = cv2.imencode(".png", np.full((2, 2, 3), 255, np.uint8))[1].tobytes()
    assert_format_error(tmp_path, [bitmap_obj(b64_zlib(png))], "no alpha")


def test_png_bomb_is_rejected_from_its_header(tmp_path):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 100_000, 100_000, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )
    assert_format_error(tmp_path, [bitmap_obj(b64_zlib(png))], "more than its image")


def test_png_larger_than_its_image_is_rejected(tmp_path):
    png = rgba_png(np.ones((5, 5), bool))
    assert_format_error(tmp_path, [bitmap_obj(b64_zlib(png))], "more than its image", h=4, w=5)


def test_zlib_bomb_is_rejected_without_inflating_it(tmp_path):
    bomb = b"\x89PNG\r\n\x1a\n" + b"\0" * (16 << 20)  # 16 MiB for a 20x30 image
    assert_format_error(tmp_path, [bitmap_obj(b64_zlib(bomb))], "inflates")


def test_alpha_mask_corrupt_payload(tmp_path):
    assert_format_error(tmp_path, [bitmap_obj("abc", "alpha_mask")], "base64")


@pytest.mark.parametrize(
    "bad",
    [
        obj("rectangle", points=pts([[0, 0], [1, 1], [2, 2]])),
        obj("point", points=pts([])),
        obj("line", points=pts([[0, 0]])),
        obj("polygon", points=[[0, 0], [1, 1], [2, 2]]),
        obj("bitmap", bitmap=None, points=pts([])),
        obj("oriented_bbox", points=[[0, 0], [1, 1]]),
        obj("cuboid", points=[[0, 0]], faces=[[0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]]),
        obj("multipolygon", parts=[{"interior": []}]),
        {"geometryType": "point", "points": pts([[0, 0]])},
    ],
    ids=[
        "rect3",
        "point0",
        "line1",
        "poly-flat",
        "bitmap-null",
        "obb-no-angle",
        "cuboid-index",
        "multipolygon-part",
        "no-class",
    ],
)
def test_wrong_payload_shape_names_object_index(tmp_path, bad):
    assert_format_error(tmp_path, [bad])


def test_package_imports_neither_qt_nor_napari():
    assert_fresh_interpreter_loads_none_of("import napari_heatmap.supervisely", (*NAPARI, *QT))
    import ast
    import pathlib

    import napari_heatmap.supervisely as pkg

    for path in pathlib.Path(pkg.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] not in ("napari", "qtpy", "PyQt5", "PyQt6"), path


def test_polygon_touching_the_image_only_along_an_edge_is_dropped():
    # its intersection with the image is a line: the SDK keeps no polygon
    a = load_annotation(ann([obj("polygon", points=pts([[10, -5], [20, -5], [20, 0], [10, 0]]))]))
    assert a.labels == []


def test_crossing_line_gets_a_vertex_where_it_crosses_itself():
    # the SDK's crop (shapely) nodes the line at its self-crossing, then floors the vertices
    a = load_annotation(
        ann([obj("line", points=pts([[0, 0], [9, 10], [9, 0], [0, 7], [0, 30]]))], h=20, w=20)
    )
    (label,) = a.labels
    assert label.geometry.points.tolist() == [
        [0, 0],
        [3, 4],
        [9, 10],
        [9, 0],
        [3, 4],
        [0, 7],
        [0, 19],
    ]


def test_a_rectangle_under_a_class_declared_as_a_graph_names_the_conflict():
    meta = load_meta(
        {
            "classes": [
                {
                    "title": "pose",
                    "shape": "graph",
                    "color": "#00FF00",
                    "geometry_config": {"nodes": {}, "edges": []},
                }
            ]
        }
    )
    data = ann([obj("rectangle", cls="pose", points=pts([[1, 1], [5, 5]]))])
    with pytest.raises(SuperviselyFormatError) as info:
        load_annotation(data, meta)
    text = str(info.value)
    assert "object 0" in text
    assert "class 'pose' is declared as 'graph'" in text and "the object is a 'rectangle'" in text


def test_a_payload_that_is_simply_broken_is_not_called_a_conflict():
    meta = load_meta({"classes": [{"title": "car", "shape": "rectangle", "color": "#00FF00"}]})
    data = ann([obj("rectangle", cls="car", points={"exterior": "nope"})])
    with pytest.raises(SuperviselyFormatError) as info:
        load_annotation(data, meta)
    assert "declared as" not in str(info.value)
