"""The rasteriser's shortcuts (OpenCV calls, int32 offsets, table lookups) give the same bits as
the plain NumPy formulas they replace, including labels far outside the grid, huge coordinates
and masks of unusual dtypes."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from napari_heatmap.supervisely._raster import _add, _nearest_index, _resize, _Stats
from napari_heatmap.supervisely._shapes import (
    AlphaMask,
    Bitmap,
    Cuboid,
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

# --------------------------------------------------------------------------- the plain formulas


def plain_index(n_in, n_out):
    z = n_in / n_out
    return np.floor(((np.arange(n_out) + 0.5) * z - 0.5) + 0.5).astype(np.intp)


def plain_scale(pts, frow, fcol):
    return np.rint(pts * np.array([fcol, frow])).astype(np.int64)


def plain_resize_mask(g, frow, fcol):
    (r0, c0), (h, w) = g.origin, g.data.shape
    origin = (round(r0 * frow), round(c0 * fcol))
    out_h, out_w = max(round(h * frow), 1), max(round(w * fcol), 1)
    data = g.data
    if (out_h, out_w) != (h, w):
        data = data[plain_index(h, out_h)][:, plain_index(w, out_w)]
    rows = np.flatnonzero(data.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(data.any(axis=0))
    data = data[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    return type(g)((origin[0] + int(rows[0]), origin[1] + int(cols[0])), data)


def plain_window(grid, pts):
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    box = clip_box((int(y0), int(x0), int(y1) + 1, int(x1) + 1), *grid.shape)
    if box is None:
        return None
    top, left, bottom, right = box
    return left, top, right, bottom


def plain_drawn(grid, pts, draw):
    win = plain_window(grid, pts)
    if win is None:
        return
    x0, y0, x1, y1 = win
    temp = np.zeros((y1 - y0, x1 - x0), np.uint8)
    draw(temp, np.array([x0, y0], np.int64))
    grid[y0:y1, x0:x1] += temp


def plain_fill(temp, rings, offset, value):
    cv2.fillPoly(temp, [(r - offset).astype(np.int32) for r in rings], value)


def plain_polygon_mask(p, shape, offset):
    temp = np.zeros(shape, np.uint8)
    plain_fill(temp, [p.exterior], offset, 1)
    if p.interiors:
        plain_fill(temp, list(p.interiors), offset, 0)
    return temp


def plain_corners(g):
    cy, cx = (g.top + g.bottom) // 2, (g.left + g.right) // 2
    cos_a, sin_a = np.cos(g.angle), np.sin(g.angle)
    out = []
    for row, col in ((g.top, g.left), (g.top, g.right), (g.bottom, g.right), (g.bottom, g.left)):
        dx, dy = col - cx, row - cy
        out.append(
            (math.floor(dx * cos_a - dy * sin_a + cx), math.floor(dx * sin_a + dy * cos_a + cy))
        )
    return np.array(out, np.int64)


def plain_add(g, grid, stats):  # one branch per geometry, as the formulas read
    if isinstance(g, Point):
        h, w = grid.shape
        if 0 <= g.row < h and 0 <= g.col < w:
            grid[g.row, g.col] += 1
    elif isinstance(g, Rectangle):
        box = clip_box((g.top, g.left, g.bottom + 1, g.right + 1), *grid.shape)
        if box is not None:
            top, left, bottom, right = box
            grid[top:bottom, left:right] += 1
    elif isinstance(g, Bitmap | AlphaMask):
        r0, c0 = g.origin
        whole = (r0, c0, r0 + g.data.shape[0], c0 + g.data.shape[1])
        box = clip_box(whole, *grid.shape)
        if box != whole:
            stats.clipped_bitmaps += 1
        if box is None:
            return
        top, left, bottom, right = box
        data = g.data[top - r0 : bottom - r0, left - c0 : right - c0]
        if isinstance(g, AlphaMask):
            data = (data / 255.0).astype(np.float32)
        grid[top:bottom, left:right] += data
    elif isinstance(g, Polygon):

        def draw(temp, offset):
            temp |= plain_polygon_mask(g, temp.shape, offset)

        plain_drawn(grid, np.concatenate([g.exterior, *g.interiors]), draw)
    elif isinstance(g, MultiPolygon):
        if not g.parts:
            return

        def draw(temp, offset):
            for part in g.parts:
                temp |= plain_polygon_mask(part, temp.shape, offset)

        pts = np.concatenate([r for p in g.parts for r in (p.exterior, *p.interiors)])
        plain_drawn(grid, pts, draw)
    elif isinstance(g, Polyline):

        def draw(temp, offset):
            cv2.polylines(temp, [(g.points - offset).astype(np.int32)], False, 1, 1)

        plain_drawn(grid, g.points, draw)
    elif isinstance(g, Cuboid):

        def draw(temp, offset):
            for face in g.faces:
                plain_fill(temp, [g.points[list(face)]], offset, 1)

        plain_drawn(grid, g.points[sorted({i for face in g.faces for i in face})], draw)
    elif isinstance(g, OrientedBBox):
        corners = plain_corners(g)
        plain_drawn(grid, corners, lambda temp, offset: plain_fill(temp, [corners], offset, 1))
    elif isinstance(g, Graph):
        enabled = {k: n for k, n in g.nodes.items() if not n.disabled}
        if not enabled:
            return
        pts = np.array([[n.col, n.row] for n in enabled.values()], np.int64)
        win = plain_window(grid, pts)
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


# --------------------------------------------------------------------------- random labels

H, W = 37, 53


def ring(rng, centre, spread, n=None):
    n = n or int(rng.integers(3, 9))
    return (np.asarray(centre) + rng.integers(-spread, spread + 1, (n, 2))).astype(np.int64)


def random_label(rng, spread):
    """A label of each kind around the grid, some crossing or missing it, of size `spread`."""
    centre = (int(rng.integers(-10, W + 10)), int(rng.integers(-10, H + 10)))
    kind = rng.integers(0, 9)
    if kind == 0:
        return Polygon(
            ring(rng, centre, spread),
            tuple(ring(rng, centre, spread // 2 + 1) for _ in range(rng.integers(0, 3))),
        )
    if kind == 1:
        parts = []
        for _ in range(rng.integers(1, 4)):
            c = (centre[0] + int(rng.integers(-8, 9)), centre[1] + int(rng.integers(-8, 9)))
            holes = tuple(ring(rng, c, spread // 2 + 1) for _ in range(rng.integers(0, 2)))
            parts.append(Polygon(ring(rng, c, spread), holes))
        return MultiPolygon(tuple(parts))
    if kind == 2:
        return Polyline(ring(rng, centre, spread, int(rng.integers(2, 6))))
    if kind == 3:
        pts = ring(rng, centre, spread, 7)
        return Cuboid(pts, ((0, 1, 2, 3), (0, 1, 4, 5), (3, 2, 6, 4)))
    if kind == 4:
        top, bottom = sorted(int(v) for v in centre[1] + rng.integers(-spread, spread + 1, 2))
        left, right = sorted(int(v) for v in centre[0] + rng.integers(-spread, spread + 1, 2))
        return OrientedBBox(top, left, bottom, right, float(rng.uniform(-4, 4)))
    if kind == 5:
        names = [f"n{i}" for i in range(int(rng.integers(1, 7)))]
        nodes = {
            k: GraphNode(
                centre[1] + int(rng.integers(-spread, spread + 1)),
                centre[0] + int(rng.integers(-spread, spread + 1)),
                bool(rng.random() < 0.2),
            )
            for k in names
        }
        edges = tuple(
            (str(rng.choice(names)), str(rng.choice([*names, "missing"])), bool(rng.random() < 0.8))
            for _ in range(rng.integers(0, 8))
        )
        return Graph(nodes, edges)
    if kind == 6:
        top, bottom = sorted(int(v) for v in centre[1] + rng.integers(-spread, spread + 1, 2))
        left, right = sorted(int(v) for v in centre[0] + rng.integers(-spread, spread + 1, 2))
        return Rectangle(top, left, bottom, right)
    if kind == 7:
        return Point(centre[1], centre[0])
    shape = (int(rng.integers(1, 2 * spread + 2)), int(rng.integers(1, 2 * spread + 2)))
    origin = (centre[1] - shape[0] // 2, centre[0] - shape[1] // 2)
    if rng.random() < 0.5:
        return Bitmap(origin, rng.random(shape) < rng.uniform(0.05, 0.9))
    alpha = rng.integers(0, 256, shape).astype(np.uint8) * (rng.random(shape) < 0.6)
    return AlphaMask(origin, alpha.astype(np.uint8))


def same_bits(a, b):
    return a.dtype == b.dtype and np.array_equal(a.view(np.uint32), b.view(np.uint32))


def same_geometry(a, b):
    if a is None or b is None:
        return a is b
    if type(a) is not type(b):
        return False
    if isinstance(a, Bitmap | AlphaMask):
        return (
            a.origin == b.origin and a.data.dtype == b.data.dtype and np.array_equal(a.data, b.data)
        )
    if isinstance(a, Polygon):
        return (
            np.array_equal(a.exterior, b.exterior)
            and a.exterior.dtype == b.exterior.dtype
            and len(a.interiors) == len(b.interiors)
            and all(
                np.array_equal(x, y) and x.dtype == y.dtype
                for x, y in zip(a.interiors, b.interiors, strict=True)
            )
        )
    if isinstance(a, MultiPolygon):
        return len(a.parts) == len(b.parts) and all(map(same_geometry, a.parts, b.parts))
    return a == b


# --------------------------------------------------------------------------- tests


def test_nearest_index_is_the_formula_for_every_small_size_pair():
    for n_in in range(1, 260):
        for n_out in range(1, 260):
            assert np.array_equal(_nearest_index(n_in, n_out), plain_index(n_in, n_out)), (
                n_in,
                n_out,
            )


def test_nearest_index_is_the_formula_for_large_sizes():
    rng = np.random.default_rng(5)
    for n_in, n_out in rng.integers(1, 70000, (300, 2)).tolist():
        assert np.array_equal(_nearest_index(n_in, n_out), plain_index(n_in, n_out)), (n_in, n_out)


@pytest.mark.parametrize("spread", [2, 9, 30])
@pytest.mark.parametrize("seed", range(4))
def test_random_labels_resize_and_draw_like_the_plain_formulas(seed, spread):
    rng = np.random.default_rng(seed * 100 + spread)
    grid, expected = np.zeros((H, W), np.float32), np.zeros((H, W), np.float32)
    stats, expected_stats = _Stats(), _Stats()
    for _ in range(150):
        g = random_label(rng, spread)
        frow, fcol = (
            float(rng.choice([0.37, 0.5, 1.0, 1.6, 2.3])),
            float(rng.choice([0.41, 1.0, 1.7])),
        )
        got = _resize(g, frow, fcol)
        if isinstance(g, Bitmap | AlphaMask):
            want = plain_resize_mask(g, frow, fcol)
        elif isinstance(g, Polygon):
            want = Polygon(
                plain_scale(g.exterior, frow, fcol),
                tuple(plain_scale(r, frow, fcol) for r in g.interiors),
            )
        elif isinstance(g, MultiPolygon):
            want = MultiPolygon(
                tuple(
                    Polygon(
                        plain_scale(p.exterior, frow, fcol),
                        tuple(plain_scale(r, frow, fcol) for r in p.interiors),
                    )
                    for p in g.parts
                )
            )
        else:
            want = got  # the other types' resize is unchanged Python arithmetic
        assert same_geometry(got, want), g
        _add(g, grid, stats)
        plain_add(g, expected, expected_stats)
        assert same_bits(grid, expected), g
    assert stats == expected_stats


@pytest.mark.parametrize("base", [2**30 + 5, -(2**30) - 9, 2**31 + 3, 2**32, -(2**33), 2**40])
def test_huge_coordinates_draw_like_the_plain_formulas(base):
    """Far vertices take the exact int64 path: beyond 2**30 no int32 shortcut, beyond 2**31 the
    int32 wrap of the plain formula. (OpenCV fills take time in the rows a polygon spans, so far
    rows are multiples of 2**32, which wrap back near the grid.)"""
    rng = np.random.default_rng(abs(base) % 1000)
    labels = []
    for _ in range(3):
        near = ring(rng, (20, 15), 12, 4)
        far = near.copy()
        far_row = base if base % 2**32 == 0 else 0
        far[rng.integers(0, len(far))] = (
            base + rng.integers(-30, 60),
            far_row + rng.integers(-5, 40),
        )
        labels += [
            Polygon(far, (near,)),
            Polygon(near, (far,)),
            MultiPolygon((Polygon(near), Polygon(far, (near,)))),
            Polyline(far),
            Cuboid(np.concatenate([far, near]), ((0, 1, 2, 3), (3, 4, 5, 6))),
            OrientedBBox(far_row - 20, -5, far_row + 30, base, float(rng.uniform(-3, 3))),
        ]
    grid, expected = np.zeros((H, W), np.float32), np.zeros((H, W), np.float32)
    for g in labels:
        _add(g, grid, _Stats())
        plain_add(g, expected, _Stats())
        assert same_bits(grid, expected), g
    assert expected.any()


@pytest.mark.parametrize("dtype", [np.float64, np.int32])
def test_grids_of_other_dtypes_add_like_numpy(dtype):
    rng = np.random.default_rng(3)
    grid, expected = np.zeros((H, W), dtype), np.zeros((H, W), dtype)
    for _ in range(100):
        g = random_label(rng, 9)
        if isinstance(g, AlphaMask) and dtype == np.int32:
            continue  # float alpha into an int grid is refused by NumPy either way
        _add(g, grid, _Stats())
        plain_add(g, expected, _Stats())
    np.testing.assert_array_equal(grid, expected)


def test_a_non_contiguous_grid_view_is_added_in_place():
    rng = np.random.default_rng(4)
    base, expected = np.zeros((H, 2 * W), np.float32), np.zeros((H, W), np.float32)
    grid = base[:, ::2]
    for _ in range(100):
        g = random_label(rng, 9)
        _add(g, grid, _Stats())
        plain_add(g, expected, _Stats())
    assert same_bits(np.ascontiguousarray(grid), expected)
    assert not base[:, 1::2].any()


def test_masks_of_other_dtypes_resize_and_draw_like_the_plain_formulas():
    rng = np.random.default_rng(6)
    for data in (
        (rng.random((9, 14)) < 0.3).astype(np.uint8) * 7,
        (rng.random((9, 14)) < 0.3).astype(np.float32),
        np.asfortranarray(rng.random((9, 14)) < 0.3),
        (rng.random((30, 14)) < 0.3)[::3],
    ):
        for cls in (Bitmap, AlphaMask):
            g = cls((3, -2), data)
            for frow, fcol in ((1.0, 1.0), (0.4, 1.7), (2.2, 0.3)):
                got, want = _resize(g, frow, fcol), plain_resize_mask(g, frow, fcol)
                assert same_geometry(got, want)
            grid, expected = np.zeros((H, W), np.float32), np.zeros((H, W), np.float32)
            _add(g, grid, _Stats())
            plain_add(g, expected, _Stats())
            assert same_bits(grid, expected)


@pytest.mark.parametrize(
    "g",
    [
        Bitmap((3, 4), np.zeros((0, 5), bool)),  # empty: counted as clipped, as clip_box says
        Bitmap((-9, 4), np.ones((4, 5), bool)),  # above the grid
        AlphaMask((H - 2, W - 3), np.full((6, 7), 200, np.uint8)),  # over the corner
        AlphaMask((5, 6), np.full((6, 7), 200, np.uint8)),  # inside
    ],
    ids=["empty", "outside", "corner", "inside"],
)
def test_mask_clipping_is_counted_like_the_plain_formula(g):
    grid, expected = np.zeros((H, W), np.float32), np.zeros((H, W), np.float32)
    stats, expected_stats = _Stats(), _Stats()
    _add(g, grid, stats)
    plain_add(g, expected, expected_stats)
    assert same_bits(grid, expected)
    assert stats == expected_stats


def test_rectangles_small_and_huge_add_one_like_the_plain_formula():
    grid = np.full((1100, 1000), 0.25, np.float32)
    expected = grid.copy()
    for g in (Rectangle(-5, 3, 7, 9), Rectangle(-50, -60, 2000, 2000), Rectangle(10, 10, 10, 10)):
        _add(g, grid, _Stats())
        plain_add(g, expected, _Stats())
    assert same_bits(grid, expected)
    assert grid[0, 0] == 1.25
