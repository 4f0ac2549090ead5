"""Density grid size and the scaling of labels onto it (format notes §6, §8)."""

import base64
import zlib

import cv2
import numpy as np
import pytest

from napari_heatmap.supervisely import (
    Bitmap,
    Polygon,
    SuperviselyWarning,
    density_map,
    grid_size,
    load_annotation,
    resize_geometry,
)


def ann(objects, h, w):
    return {"size": {"height": h, "width": w}, "tags": [], "objects": objects}


def point(x, y, cls="c"):
    return {
        "classTitle": cls,
        "geometryType": "point",
        "tags": [],
        "points": {"exterior": [[x, y]], "interior": []},
    }


def test_mean_size_sides_round_half_to_even():
    assert grid_size([(5, 7)]) == (4, 8)  # 2.5 -> 2, 3.5 -> 4
    assert grid_size([(9, 11)]) == (8, 12)


def test_means_are_over_all_annotations():
    assert grid_size([(10, 20), (20, 20)]) == (16, 20)  # mean h 15 -> round(7.5) = 8


def test_both_sides_given_are_used_as_height_width():
    assert grid_size([(100, 200)], width=33, height=17) == (17, 33)


def test_only_width_keeps_mean_aspect_ratio_rounded_to_even():
    assert grid_size([(100, 200)], width=50) == (24, 50)  # 50/2/2 = 12.5 -> 12
    assert grid_size([(100, 200)], width=54) == (28, 54)  # 13.5 -> 14


def test_only_height_keeps_mean_aspect_ratio_rounded_to_even():
    assert grid_size([(100, 100)], height=27) == (27, 28)  # 13.5 -> 14
    assert grid_size([(100, 100)], height=25) == (25, 24)  # 12.5 -> 12
    assert grid_size([(100, 200), (300, 200)], height=10) == (10, 10)  # ar = 200/200


@pytest.mark.parametrize("bad", [0, -3, 2.5, True, "10"])
@pytest.mark.parametrize("name", ["width", "height"])
def test_invalid_sides_are_rejected_naming_the_parameter(name, bad):
    with pytest.raises(ValueError, match=name):
        grid_size([(10, 10)], **{name: bad})
    with pytest.raises(ValueError, match=name):
        density_map([ann([point(1, 1)], 10, 10)], **{name: bad})


def test_density_map_uses_grid_rules_and_size_argument():
    anns = [ann([point(1, 1)], 5, 7)]
    assert density_map(anns).shape == (4, 8)
    assert density_map(anns, size=(3, 9)).shape == (3, 9)
    assert density_map(anns, width=9, height=3).shape == (3, 9)


def test_empty_annotation_list_is_an_error():
    with pytest.raises(ValueError, match="at least one"):
        density_map([])


def test_no_matching_label_names_the_class():
    with pytest.raises(ValueError, match="object_name='dog'"):
        density_map([ann([point(1, 1, "cat")], 10, 10)], object_name="dog")
    with pytest.raises(ValueError, match="object_name=None"):
        density_map([ann([], 10, 10)])


def test_class_filter_counts_only_that_class():
    anns = [ann([point(1, 1, "cat"), point(2, 2, "dog"), point(3, 3, "cat")], 10, 10)]
    grid = density_map(anns, width=10, height=10, object_name="cat")
    assert grid.sum() == 2
    assert grid[2, 2] == 0


def test_vertices_scale_with_half_to_even_rounding():
    # 10x10 image onto a 5x5 grid: factor 0.5
    anns = [ann([point(5, 3), point(7, 1), point(9, 9)], 10, 10)]
    grid = density_map(anns, width=5, height=5)
    assert grid[2, 2] == 1  # (row 1.5 -> 2, col 2.5 -> 2)
    assert grid[0, 4] == 1  # (row 0.5 -> 0, col 3.5 -> 4)
    assert grid[4, 4] == 1  # (4.5 -> 4, 4.5 -> 4)
    assert grid.sum() == 3


def test_rectangles_scale_each_corner():
    r = {
        "classTitle": "c",
        "geometryType": "rectangle",
        "tags": [],
        "points": {"exterior": [[1, 3], [5, 7]], "interior": []},
    }
    grid = density_map([ann([r], 10, 10)], width=5, height=5)
    # rows 3*0.5=1.5 -> 2 .. 7*0.5=3.5 -> 4, cols 0.5 -> 0 .. 2.5 -> 2
    expected = np.zeros((5, 5), np.float32)
    expected[2:5, 0:3] = 1
    np.testing.assert_array_equal(grid, expected)


def test_polygon_vertices_and_holes_are_scaled():
    p = Polygon(np.array([[0, 0], [5, 3]]), (np.array([[7, 1]]),))
    out = resize_geometry(p, (10, 10), (5, 5))
    np.testing.assert_array_equal(out.exterior, [[0, 0], [2, 2]])  # 2.5 -> 2, 1.5 -> 2
    np.testing.assert_array_equal(out.interiors[0], [[4, 0]])  # 3.5 -> 4, 0.5 -> 0


def test_bitmap_downscale_uses_nearest_index_formula():
    rng = np.random.default_rng(3)
    data = rng.random((5, 5)) > 0.5
    data[0, 0] = data[4, 4] = True  # keep the tight box
    out = resize_geometry(Bitmap((3, 5), data), (10, 10), (6, 6))
    # origin (3*0.6=1.8 -> 2, 5*0.6=3.0 -> 3); size round(5*0.6)=3; z=5/3:
    # src = floor((i + .5) * z) = [0, 2, 4]
    assert out.origin == (2, 3)
    np.testing.assert_array_equal(out.data, data[[0, 2, 4]][:, [0, 2, 4]])


def test_bitmap_upscale_repeats_source_pixels_and_rounds_origin_to_even():
    data = np.array([[1, 0], [0, 1]], bool)
    out = resize_geometry(Bitmap((1, 3), data), (4, 4), (10, 10))
    # factor 2.5: origin (2.5 -> 2, 7.5 -> 8); size 5; z = 0.4: src = [0, 0, 1, 1, 1]
    assert out.origin == (2, 8)
    idx = [0, 0, 1, 1, 1]
    np.testing.assert_array_equal(out.data, data[idx][:, idx])


def test_bitmap_emptied_by_downscaling_contributes_nothing_with_warning():
    g = Bitmap((0, 0), np.array([[1, 0, 1]], bool))
    assert resize_geometry(g, (9, 9), (3, 3)) is None  # 1x1 sample hits the middle, False
    bgra = np.zeros((1, 3, 4), np.uint8)
    bgra[0, [0, 2]] = 255
    data = base64.b64encode(zlib.compress(cv2.imencode(".png", bgra)[1].tobytes())).decode()
    obj = {
        "classTitle": "c",
        "geometryType": "bitmap",
        "tags": [],
        "bitmap": {"origin": [0, 0], "data": data},
    }
    with pytest.warns(SuperviselyWarning, match="vanished"):
        grid = density_map([ann([obj], 9, 9)], width=3, height=3)
    assert not grid.any()


def test_bitmap_overflowing_the_grid_is_clipped_with_warning():
    bgra = np.full((1, 1, 4), 255, np.uint8)
    data = base64.b64encode(zlib.compress(cv2.imencode(".png", bgra)[1].tobytes())).decode()
    obj = {
        "classTitle": "c",
        "geometryType": "bitmap",
        "tags": [],
        "bitmap": {"origin": [0, 1], "data": data},
    }
    # 2x2 image onto 3x3: origin row 1.5 -> 2, size round(1.5) = 2 rows -> rows 2..3, grid has 0..2
    with pytest.warns(SuperviselyWarning, match="clipped"):
        grid = density_map([ann([obj], 2, 2)], width=3, height=3)
    expected = np.zeros((3, 3), np.float32)
    expected[2, 0:2] = 1
    np.testing.assert_array_equal(grid, expected)


def test_annotations_of_different_sizes_scale_to_one_grid():
    a = load_annotation(ann([point(9, 9)], 10, 10))
    b = load_annotation(ann([point(17, 5)], 20, 20))  # factor 0.5: (2.5 -> 2, 8.5 -> 8)
    grid = density_map([a, b], width=10, height=10)
    assert grid[9, 9] == 1
    assert grid[2, 8] == 1
    assert grid.sum() == 2
