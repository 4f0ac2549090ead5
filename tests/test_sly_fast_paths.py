"""The parser's and the load-time crop's fast paths give exactly what their general paths give.

Parsing reads plain JSON vertex lists without NumPy and keeps each label's bounds so that
cropping a label inside its image costs nothing; clipping, tight mask boxes and line noding
have cheap paths for the common case. Each is checked here against the general path it
stands for, on random input that crosses the image border.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from napari_heatmap.supervisely import _clip
from napari_heatmap.supervisely._errors import SuperviselyFormatError
from napari_heatmap.supervisely._geometry import (
    _checked_coords,
    _coords,
    _set_box,
    crop_geometry,
    parse_geometry,
)
from napari_heatmap.supervisely._shapes import Graph, MultiPolygon, Polygon, Polyline

H, W = 60, 80


def _vertex_list(rng: np.random.Generator, n: int, spread: float = 40.0) -> list[list[float]]:
    """A JSON-like vertex list around a random centre, ints and floats mixed, often crossing."""
    centre = rng.uniform([-20, -20], [W + 20, H + 20])
    pts = centre + rng.uniform(-spread, spread, (n, 2))
    out: list[list[float]] = []
    for x, y in pts:
        pair = [float(x), float(y)]
        if rng.random() < 0.4:
            pair[int(rng.integers(2))] = round(pair[0] if rng.random() < 0.5 else pair[1])
        if rng.random() < 0.2:  # on or next to the image's border
            axis = int(rng.integers(2))
            pair[axis] = int(rng.choice([-1, 0, (W, H)[axis] - 1, (W, H)[axis]]))
        out.append(pair)
    return out


def _same_arrays(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape and a.flags.c_contiguous
    np.testing.assert_array_equal(a, b)


def _assert_same_geometry(got: object, want: object) -> None:
    assert type(got) is type(want)
    if isinstance(got, Polygon) and isinstance(want, Polygon):
        _same_arrays(got.exterior, want.exterior)
        assert len(got.interiors) == len(want.interiors)
        for g, w in zip(got.interiors, want.interiors, strict=True):
            _same_arrays(g, w)
    elif isinstance(got, Polyline) and isinstance(want, Polyline):
        _same_arrays(got.points, want.points)
    elif isinstance(got, MultiPolygon) and isinstance(want, MultiPolygon):
        assert len(got.parts) == len(want.parts)
        for g, w in zip(got.parts, want.parts, strict=True):
            _assert_same_geometry(g, w)
    else:
        assert got == want


@pytest.mark.parametrize("seed", range(20))
def test_plain_vertex_lists_read_without_numpy_as_with_it(seed):
    rng = np.random.default_rng(seed)
    for n in (1, 2, 3, 7, 40):
        value = _vertex_list(rng, n, spread=rng.choice([0.5, 40.0, 3e8]))
        _same_arrays(_coords(value, "v"), _checked_coords(value, "v"))


@pytest.mark.parametrize(
    "value",
    [
        [[1, 2], [True, 3]],  # a bool among ints: NumPy reads it as 1
        [[1.5, 2], (3, 4)],  # a tuple pair
        [[2**30 - 0.5, 0]],  # floors into range
        [[-(2**30) + 0.5, 0]],  # floors out of range
        [[2**30, 0]],
        [[float("nan"), 0]],
        [[float("inf"), 0]],
        [[1, 2, 3]],
        [[1, "2"]],
        [[None, 2]],
        [[[1], 2]],
        [],
        [[True, False]],
    ],
    ids=repr,
)
def test_unusual_vertex_lists_get_the_general_answer(value):
    def outcome(read):
        try:
            return read(value, "v").tolist()
        except SuperviselyFormatError as e:
            return str(e)

    assert outcome(_coords) == outcome(_checked_coords)


def _random_object(rng: np.random.Generator, gtype: str) -> dict:
    if gtype == "multipolygon":
        parts = [
            {
                "exterior": _vertex_list(rng, int(rng.integers(1, 9))),
                "interior": [_vertex_list(rng, int(rng.integers(1, 6)), 15.0)],
            }
            for _ in range(int(rng.integers(1, 4)))
        ]
        return {"parts": parts}
    if gtype == "graph":
        nodes = {f"n{i}": {"loc": p} for i, p in enumerate(_vertex_list(rng, 6))}
        return {"nodes": nodes}
    n = int(rng.integers(2, 12))
    holes = [_vertex_list(rng, int(rng.integers(1, 7)), 10.0) for _ in range(rng.integers(3))]
    return {"points": {"exterior": _vertex_list(rng, n), "interior": holes}}


@pytest.mark.parametrize("gtype", ["polygon", "line", "multipolygon", "graph"])
@pytest.mark.parametrize("seed", range(80))
def test_crop_with_parsed_bounds_is_the_crop_without_them(gtype, seed):
    rng = np.random.default_rng(seed)
    g = parse_geometry(gtype, _random_object(rng, gtype), (H, W), None)
    if isinstance(g, MultiPolygon):
        bare: object = MultiPolygon(tuple(dataclasses.replace(p, bounds=None) for p in g.parts))
        assert all(p.bounds is not None for p in g.parts)
    else:
        assert isinstance(g, Polygon | Polyline | Graph) and g.bounds is not None
        bare = dataclasses.replace(g, bounds=None)
    got, want = crop_geometry(g, (H, W)), crop_geometry(bare, (H, W))  # type: ignore[arg-type]
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        _assert_same_geometry(a, b)


@pytest.mark.parametrize("seed", range(30))
def test_tight_box_of_a_mask_is_that_of_its_set_rows_and_columns(seed):
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(1, 40, 2))
    mask = rng.random(shape) < rng.choice([0.0, 0.002, 0.05, 0.5])
    for data in (mask, (mask * rng.integers(1, 256, shape)).astype(np.uint8), mask[1:, 2:]):
        rows, cols = np.flatnonzero(data.any(axis=1)), np.flatnonzero(data.any(axis=0))
        want = (rows[0], rows[-1] + 1, cols[0], cols[-1] + 1) if rows.size else None
        assert _set_box(data) == want


@pytest.mark.parametrize("seed", range(30))
def test_short_lines_are_noded_as_by_the_sweep(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    pts = rng.integers(-30, 30, (int(rng.integers(4, 40)), 2)).astype(np.float64)
    fast = _clip._node_self_crossings(pts)
    monkeypatch.setattr(_clip, "_FEW_SEGMENTS", 0)
    np.testing.assert_array_equal(fast, _clip._node_self_crossings(pts))


def test_a_parsed_polygon_far_outside_the_image_is_cut_away():
    far = {"points": {"exterior": [[-50, 10], [-40, 10], [-45, 30]], "interior": []}}
    assert crop_geometry(parse_geometry("polygon", far, (H, W), None), (H, W)) == []
    below = {"points": {"exterior": [[-5, H + 1], [W + 5, H + 1], [3, H + 40]], "interior": []}}
    assert crop_geometry(parse_geometry("polygon", below, (H, W), None), (H, W)) == []


@pytest.mark.parametrize("seed", range(60))
def test_short_lines_are_noded_in_python_as_with_numpy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, _clip._SHORT_LINE + 2))
    pts = rng.integers(-6, 6, (n, 2)).astype(np.float64)  # a scribble: crossings, overlaps
    if seed % 3 == 0:
        pts += rng.uniform(-0.5, 0.5, pts.shape)
    want = _clip._node_self_crossings(pts)
    got = _clip._noded(pts)
    assert len(got) >= len(pts)
    np.testing.assert_array_equal(np.array(got).reshape(-1, 2), want)
