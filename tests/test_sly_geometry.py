"""Per-geometry pixels of the Supervisely density rasteriser (grid = image size)."""

import base64
import math
import struct
import zlib

import cv2
import numpy as np
import pytest

from napari_heatmap.supervisely import (
    OrientedBBox,
    SuperviselyWarning,
    density_map,
    load_meta,
    oriented_bbox_corners,
)
from tools.sly_json import H, W, ann, obj, pts


def dm(objects, meta=None, h=H, w=W):
    from napari_heatmap.supervisely import load_annotation

    return density_map([load_annotation(ann(objects, h, w), meta)], width=w, height=h)


def rgba_png_b64(mask):
    """8-bit RGBA PNG, white with alpha 0/255 (the labeling tool's flavour)."""
    bgra = np.zeros((*mask.shape, 4), np.uint8)
    bgra[mask] = 255
    ok, buf = cv2.imencode(".png", bgra)
    assert ok
    return base64.b64encode(zlib.compress(buf.tobytes())).decode()


def palette_png(mask):
    """1-bit palette PNG with PLTE [black, white] and tRNS (index 0 transparent), as the SDK."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    h, w = mask.shape
    rows = b"".join(b"\x00" + np.packbits(mask[r].astype(np.uint8)).tobytes() for r in range(h))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 1, 3, 0, 0, 0))
        + chunk(b"PLTE", bytes([0, 0, 0, 255, 255, 255]))
        + chunk(b"tRNS", b"\x00")
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def palette_png_b64(mask):
    return base64.b64encode(zlib.compress(palette_png(mask))).decode()


def grey_png_b64(alpha):
    ok, buf = cv2.imencode(".png", alpha)
    assert ok
    return base64.b64encode(zlib.compress(buf.tobytes())).decode()


MASK = np.array(
    [
        [1, 0, 0, 1],
        [0, 1, 1, 0],
        [1, 1, 0, 1],
    ],
    bool,
)


def test_point_is_one_pixel():
    grid = dm([obj("point", points=pts([[3, 5]]))])
    assert grid.dtype == np.float32
    assert grid.shape == (H, W)
    assert grid[5, 3] == 1
    assert grid.sum() == 1


def test_rectangle_fills_both_corners_inclusive():
    grid = dm([obj("rectangle", points=pts([[2, 3], [5, 7]]))])
    expected = np.zeros((H, W), np.float32)
    expected[3:8, 2:6] = 1
    np.testing.assert_array_equal(grid, expected)


def test_rectangle_with_reversed_corners_is_the_same():
    a = dm([obj("rectangle", points=pts([[2, 3], [5, 7]]))])
    b = dm([obj("rectangle", points=pts([[5, 7], [2, 3]]))])
    c = dm([obj("rectangle", points=pts([[2, 7], [5, 3]]))])
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_polygon_hole_is_cleared_including_its_boundary():
    square = [[0, 0], [9, 0], [9, 9], [0, 9]]
    hole = [[3, 3], [6, 3], [6, 6], [3, 6]]
    grid = dm([obj("polygon", points=pts(square, [hole]))])
    expected = np.zeros((H, W), np.float32)
    expected[0:10, 0:10] = 1
    expected[3:7, 3:7] = 0
    np.testing.assert_array_equal(grid, expected)
    assert grid.sum() == 100 - 16


def test_line_is_one_pixel_8_connected():
    grid = dm([obj("line", points=pts([[0, 0], [4, 2]]))])
    assert grid.sum() == 5  # max(dx, dy) + 1 pixels
    assert grid[0, 0] == 1
    assert grid[2, 4] == 1
    for col in range(5):
        assert grid[:, col].sum() == 1  # one pixel per column: 8-connected, no thickening


def test_pixels_are_set_not_added_within_one_label():
    grid = dm([obj("line", points=pts([[0, 0], [4, 0], [0, 0]]))])
    assert grid.max() == 1
    assert grid.sum() == 5


def test_labels_add_up_across_objects():
    rect = obj("rectangle", points=pts([[0, 0], [3, 3]]))
    grid = dm([rect, rect, obj("point", points=pts([[1, 1]]))])
    assert grid[1, 1] == 3
    assert grid[3, 3] == 2


@pytest.mark.parametrize("encode", [rgba_png_b64, palette_png_b64], ids=["rgba", "palette-trns"])
def test_bitmap_pixels_from_both_png_flavours(encode):
    grid = dm([obj("bitmap", bitmap={"origin": [5, 2], "data": encode(MASK)})])
    expected = np.zeros((H, W), np.float32)
    expected[2:5, 5:9] = MASK
    np.testing.assert_array_equal(grid, expected)


def test_bitmap_without_zlib_layer_is_read_as_plain_png():
    data = base64.b64encode(palette_png(MASK)).decode()
    grid = dm([obj("bitmap", bitmap={"origin": [0, 0], "data": data})])
    np.testing.assert_array_equal(grid[:3, :4], MASK.astype(np.float32))
    assert grid.sum() == MASK.sum()


def test_bitmap_is_cropped_to_its_set_pixels():
    mask = np.zeros((6, 6), bool)
    mask[2, 3] = True
    grid = dm([obj("bitmap", bitmap={"origin": [10, 10], "data": rgba_png_b64(mask)})])
    assert grid[12, 13] == 1
    assert grid.sum() == 1


def test_alpha_mask_adds_alpha_over_255():
    alpha = np.array([[0, 128], [255, 64]], np.uint8)
    grid = dm([obj("alpha_mask", bitmap={"origin": [4, 6], "data": grey_png_b64(alpha)})])
    assert grid[6, 5] == np.float32(128 / 255)
    assert grid[7, 4] == np.float32(1.0)
    assert grid[7, 5] == np.float32(64 / 255)
    assert grid[6, 4] == 0
    assert np.isclose(grid.sum(), (128 + 255 + 64) / 255)


GRAPH_META = {
    "classes": [
        {
            "title": "pose",
            "shape": "graph",
            "color": "#FF0000",
            "geometry_config": {
                "nodes": {
                    "a": {"label": "a", "loc": [0, 0], "color": "#FF0000"},
                    "b": {"label": "b", "loc": [1, 1], "color": "#FF0000"},
                    "c": {"label": "c", "loc": [2, 2], "color": "#FF0000"},
                },
                "edges": [
                    {"src": "a", "dst": "b", "color": "#FF0000"},
                    {"src": "b", "dst": "c", "color": "#FF0000"},
                ],
            },
        },
        {"title": "box", "shape": "cuboid_2d", "color": "#4D0102", "geometry_config": {}},
    ]
}


def test_graph_counts_one_per_pixel_not_template_colour():
    meta = load_meta(GRAPH_META)
    nodes = {"a": {"loc": [0, 0]}, "b": {"loc": [4, 0]}, "c": {"loc": [4, 3]}}
    grid = dm([obj("graph", cls="pose", nodes=nodes)], meta)
    assert grid.max() == 1  # not 255, the template's R value (docs/supervisely.md, decision 2)
    expected = np.zeros((H, W), np.float32)
    expected[0, 0:5] = 1  # a-b
    expected[0:4, 4] = 1  # b-c
    np.testing.assert_array_equal(grid, expected)


def test_graph_disabled_node_is_not_drawn_nor_joined():
    meta = load_meta(GRAPH_META)
    nodes = {"a": {"loc": [0, 0]}, "b": {"loc": [4, 0], "disabled": True}, "c": {"loc": [4, 3]}}
    grid = dm([obj("graph", cls="pose", nodes=nodes)], meta)
    assert grid.sum() == 2
    assert grid[0, 0] == 1
    assert grid[3, 4] == 1


def test_graph_edge_without_colour_is_drawn_with_a_warning():
    meta_json = {"classes": [dict(GRAPH_META["classes"][0])]}
    config = meta_json["classes"][0]["geometry_config"]
    meta_json["classes"][0]["geometry_config"] = {
        "nodes": config["nodes"],
        "edges": [{"src": "a", "dst": "b"}],
    }
    nodes = {"a": {"loc": [0, 0]}, "b": {"loc": [4, 0]}}
    with pytest.warns(SuperviselyWarning, match="1 graph edge"):
        grid = dm([obj("graph", cls="pose", nodes=nodes)], load_meta(meta_json))
    assert grid.sum() == 5


def test_graph_without_template_draws_only_nodes():
    nodes = {"a": {"loc": [0, 0]}, "b": {"loc": [4, 0]}}
    grid = dm([obj("graph", cls="pose", nodes=nodes)])
    assert grid.sum() == 2


def test_cuboid_2d_draws_twelve_edges_counting_one():
    names = ["topleft", "topright", "bottomright", "bottomleft"]
    square = [[0, 0], [4, 0], [4, 4], [0, 4]]
    vertices = {f"face1-{n}": {"loc": p} for n, p in zip(names, square, strict=True)}
    vertices |= {
        f"face2-{n}": {"loc": [x + 2, y + 2]} for n, (x, y) in zip(names, square, strict=True)
    }
    grid = dm([obj("cuboid_2d", cls="box", vertices=vertices)], load_meta(GRAPH_META))
    assert grid.max() == 1  # not 77, the class colour's R (docs/supervisely.md, decision 2)
    # two 5x5 outlines (16 px each) meeting at 2 pixels, plus 4 connecting diagonals (1 new px)
    assert grid.sum() == 16 + 16 - 2 + 4
    for r, c in [(1, 1), (1, 5), (5, 5), (5, 1)]:
        assert grid[r, c] == 1
    assert grid[2, 2] == 1
    assert grid[3, 3] == 0


def test_legacy_cuboid_fills_the_union_of_its_faces():
    points = [[0, 0], [4, 0], [4, 4], [0, 4], [2, 8], [6, 8], [6, 4]]
    faces = [[0, 1, 2, 3], [0, 1, 2, 3], [3, 2, 6, 4]]
    grid = dm([obj("cuboid", points=points, faces=faces)])
    assert grid.max() == 1
    assert grid[0:5, 0:5].sum() == 25
    assert grid[8, 2] == 1


def test_oriented_bbox_with_zero_angle_is_the_rectangle():
    a = dm([obj("oriented_bbox", points=[[2, 3], [5, 7]], angle=0)])
    b = dm([obj("rectangle", points=pts([[2, 3], [5, 7]]))])
    np.testing.assert_array_equal(a, b)


def test_oriented_bbox_corners_rotate_clockwise_about_integer_centre():
    angle = math.atan2(3, 4)  # cos 0.8, sin 0.6
    corners = oriented_bbox_corners(OrientedBBox(0, 0, 4, 4, angle))
    # centre (2, 2); TL (-2,-2) -> (1.6, -0.8); TR (2,-2) -> (4.8, 1.6); BR -> (2.4, 4.8) ...
    np.testing.assert_array_equal(corners, [[1, -1], [4, 1], [2, 4], [-1, 2]])


def test_oriented_bbox_fills_its_rotated_corners_clipped_to_the_grid():
    angle = math.atan2(3, 4)
    grid = dm([obj("oriented_bbox", points=[[0, 0], [4, 4]], angle=angle)])
    expected = np.zeros((H, W), np.float32)
    cv2.fillPoly(expected, [np.array([[1, -1], [4, 1], [2, 4], [-1, 2]], np.int32)], 1.0)
    np.testing.assert_array_equal(grid, expected)
    assert grid[0, 1] == 1
    assert grid[2, 0] == 1


def test_multipolygon_part_hole_never_clears_another_part():
    outer = [[0, 0], [5, 0], [5, 5], [0, 5]]
    hole = [[1, 1], [4, 1], [4, 4], [1, 4]]
    inner = [[2, 2], [3, 2], [3, 3], [2, 3]]
    parts = [
        {"exterior": outer, "interior": [hole]},
        {"exterior": inner, "interior": []},
        {"exterior": outer, "interior": []},  # overlapping part: still 1 per pixel
    ]
    grid = dm([obj("multipolygon", parts=parts)])
    assert grid.max() == 1
    assert grid.sum() == 36  # union = the full outer square

    grid = dm([obj("multipolygon", parts=parts[:2])])
    assert grid.sum() == 36 - 16 + 4
    assert grid[2, 2] == 1
    assert grid[1, 1] == 0


def test_any_geometry_counts_as_label_but_draws_nothing():
    grid = dm([obj("any", cls="x", something={"a": 1})])
    assert grid.shape == (H, W)
    assert not grid.any()
