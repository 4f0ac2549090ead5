"""The pieces behind the hostile-input fixes, tested in-process: header sizes, the crossing
sweep, the JSON sniffer and the shapes shown for huge outlines."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from napari_heatmap._imagesize import ImageHeaderError, check_pixels, header_size
from napari_heatmap._reader._layers import MAX_SHAPE_VERTICES, _shown
from napari_heatmap.supervisely import _jsonio
from napari_heatmap.supervisely._clip import _node_self_crossings, clip_polyline

# --------------------------------------------------------------------------- header sizes

FORMATS = [
    (".png", []),
    (".jpg", []),
    (".tiff", []),
    (".bmp", []),
    (".webp", []),
    (".webp", [cv2.IMWRITE_WEBP_QUALITY, 101]),
    (".ppm", []),
    (".pgm", []),
    (".pbm", []),
    (".pam", []),
    (".pfm", []),
    (".sr", []),
    (".hdr", []),
    (".gif", []),
]


@pytest.mark.parametrize(("ext", "params"), FORMATS, ids=[f"{e}{p}" for e, p in FORMATS])
@pytest.mark.parametrize(("h", "w"), [(7, 11), (300, 2)])
def test_header_size_matches_what_opencv_decodes(ext, params, h, w):
    img = np.random.default_rng(0).integers(0, 255, (h, w, 3), dtype=np.uint8)
    if ext in (".pfm", ".hdr"):
        img = img.astype(np.float32) / 255
    if ext in (".pgm", ".pbm"):
        img = img[..., 0]
    raw = cv2.imencode(ext, img, params)[1].tobytes()
    decoded = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_UNCHANGED)
    assert header_size(raw)[1:] == (w, h) == (decoded.shape[1], decoded.shape[0])


def test_unknown_or_cut_headers_are_refused_not_guessed():
    png = cv2.imencode(".png", np.zeros((4, 4), np.uint8))[1].tobytes()
    with pytest.raises(ImageHeaderError, match="PNG header is broken"):
        header_size(png[:20])
    with pytest.raises(ImageHeaderError, match="can be checked"):
        header_size(b"\x76\x2f\x31\x01 an OpenEXR file")
    with pytest.raises(ImageHeaderError, match=r"4x4 PNG \(16 pixels\), more than the 15"):
        check_pixels(png, 15)
    assert check_pixels(png, 16) == ("PNG", 4, 4)


# --------------------------------------------------------------------------- crossings


def _brute_force_noding(pts):
    """Every pair of segments tested: the quadratic reference the sweep replaced."""
    n = len(pts) - 1
    extra = [[] for _ in range(n)]
    for i in range(n):
        a, b = pts[i], pts[i + 1]
        for j in range(i + 2, n):
            c, d = pts[j], pts[j + 1]
            r, s = b - a, d - c
            denom = r[0] * s[1] - r[1] * s[0]
            if denom == 0:
                continue
            ca = c - a
            t = (ca[0] * s[1] - ca[1] * s[0]) / denom
            u = (ca[0] * r[1] - ca[1] * r[0]) / denom
            if not (0.0 <= t <= 1.0 and 0.0 <= u <= 1.0):
                continue
            p = a + t * r
            if 0.0 < t < 1.0:
                extra[i].append((t, p))
            if 0.0 < u < 1.0:
                extra[j].append((u, p))
    if not any(extra):
        return pts
    out = [pts[0]]
    for i in range(n):
        out += [p for _, p in sorted(extra[i], key=lambda tp: tp[0])]
        out.append(pts[i + 1])
    return np.array(out)


@pytest.mark.parametrize("seed", range(6))
def test_crossing_sweep_gives_exactly_the_pairwise_result(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 120))
    pts = rng.uniform(-40, 140, (n, 2))
    if seed % 2:  # integer vertices: touching and collinear segments
        pts = np.round(pts / 20) * 20
    np.testing.assert_array_equal(_node_self_crossings(pts), _brute_force_noding(pts))


def test_long_zigzag_is_cropped_in_near_linear_time():
    import time

    def cost(n):
        x = np.linspace(0, 999, n)
        y = np.where(np.arange(n) % 2 == 0, -20.0, 20.0)
        start = time.perf_counter()
        pieces = clip_polyline(np.c_[x, y], 1000, 1000)
        return time.perf_counter() - start, len(pieces)

    (small, n_small), (large, n_large) = cost(2000), cost(16000)
    assert (n_small, n_large) == (1000, 8000)
    assert large < 3.0 and large < 20 * max(small, 1e-3)  # 8x the vertices, not 64x the time


# --------------------------------------------------------------------------- sniffing

DOCS = {
    "annotation": {
        "description": "",
        "tags": [],
        "size": {"height": 2, "width": 3},
        "objects": [{"classTitle": "a"}] * 50,
    },
    "annotation objects first": {"objects": [], "size": {"height": 2, "width": 3}},
    "meta": {"classes": [{"title": "a", "shape": "point"}] * 50, "tags": []},
    "legacy meta": [{"title": "a", "shape": "point"}] * 50,
    "geojson": {"type": "FeatureCollection", "features": [{"size": 1}] * 50},
    "size without height": {"size": {"width": 3}, "objects": []},
    "objects not a list": {"size": {"height": 2, "width": 3}, "objects": {"a": 1}},
    "nested keys only": {"data": {"size": {"height": 2, "width": 3}, "objects": []}},
}


@pytest.mark.parametrize("name", DOCS)
def test_large_files_are_judged_from_their_start_as_small_ones_are_whole(
    name, tmp_path, monkeypatch
):
    path = tmp_path / "x.json"
    path.write_text(json.dumps(DOCS[name]), encoding="utf-8-sig")  # with a byte-order mark
    whole = _jsonio.sniff_kind(path)
    monkeypatch.setattr(_jsonio, "HEAD_BYTES", 200)  # the file is now "large"
    assert _jsonio.sniff_kind(path) == whole
    expected = {
        "annotation": "annotation",
        "annotation objects first": "annotation",
        "meta": "meta",
        "legacy meta": "meta",
    }.get(name)
    assert whole == expected


def test_sniffing_declines_without_reading_non_json(tmp_path):
    (tmp_path / "a.txt").write_text(json.dumps(DOCS["annotation"]))
    (tmp_path / "b.json").write_bytes(b"\xff\xfe not utf-8")
    assert _jsonio.sniff_kind(tmp_path / "a.txt") is None
    assert _jsonio.sniff_kind(tmp_path / "b.json") is None
    assert _jsonio.sniff_kind(tmp_path / "missing.json") is None


# --------------------------------------------------------------------------- shown shapes


def test_shapes_shown_without_repeats_and_within_the_vertex_cap():
    square = np.array([[0, 0], [0, 0], [10, 0], [10, 10], [10, 10], [0, 10], [0, 0]])
    np.testing.assert_array_equal(
        _shown(square, closed=True), [[0, 0], [0, 10], [10, 10], [10, 0]]
    )  # (row, col)
    t = np.linspace(0, 2 * np.pi, 50_000, endpoint=False)
    circle = np.c_[500 + 400 * np.cos(t), 500 + 400 * np.sin(t)]
    shown = _shown(circle, closed=True)
    assert 16 < len(shown) <= MAX_SHAPE_VERTICES
    radius = np.hypot(shown[:, 0] - 500, shown[:, 1] - 500)
    assert np.abs(radius - 400).max() < 1  # still the circle, within a pixel


def test_an_oriented_box_reaching_far_beyond_the_grid_is_cut_before_it_is_filled():
    from napari_heatmap.supervisely._raster import _OBB_REACH, _corners, add_geometry
    from napari_heatmap.supervisely._shapes import OrientedBBox

    h, w = 60, 80
    near = OrientedBBox(-500, -700, 400, 300, 0.4)  # within reach: filled as it is
    far = OrientedBBox(20, -(2**24), 40, 2**24, 1e-6)  # a hostile box: a thin, slanted band
    for box, cut in ((near, False), (far, True)):
        grid = np.zeros((h, w), np.float32)
        add_geometry(grid, box)
        whole = np.zeros((h, w), np.uint8)  # OpenCV's fill of the uncut corners, on the grid
        cv2.fillPoly(whole, [np.array(_corners(box), np.int32)], 1)
        differ = np.count_nonzero(grid != whole)
        if not cut:
            assert differ == 0
        else:  # the same region, up to a pixel along its edges inside the grid
            assert 0 < whole.sum() < h * w and differ <= h + w
            assert max(abs(c) for xy in _corners(box) for c in xy) > _OBB_REACH
