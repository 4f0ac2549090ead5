"""Several heatmaps in one viewer, their difference and side by side (behaviour §12), on a
Qt-free ViewerModel with napari's own mouse dispatch."""

from __future__ import annotations

import math

import numpy as np
import pytest

from napari_heatmap import Heatmap, difference, side_by_side
from napari_heatmap._compare import sample_nearest
from test_core_model import press_release


def status_text(viewer, world):
    """The status bar's text with the cursor over a world point (napari's thread's work)."""
    viewer.mouse_over_canvas = True
    viewer.cursor.position = world
    viewer.update_status_from_cursor()
    return viewer.status["coordinates"]


@pytest.fixture
def pair(viewer):
    """Two heatmaps of different grids and places, overlapping over [1.5, 3.5) × [2.5, 4.5)."""
    a = Heatmap(heatmap_mask=np.arange(20.0).reshape(4, 5), blur_ksize=None, viewer=viewer)
    # 2×3 pixels stretched over a 4×6 frame whose top-left corner is at (1.5, 2.5)
    mb = np.array([[100.0, 101.0, 102.0], [110.0, 111.0, 112.0]])
    b = Heatmap(
        heatmap_mask=mb, blur_ksize=None, viewer=viewer, origin=(1.5, 2.5), width=6, height=4
    )
    return a, b


# ---------------------------------------------------------------- several heatmaps


def test_one_click_reports_to_every_heatmap_under_it_its_own_pixel(viewer, pair):
    a, b = pair
    got_a, got_b = [], []
    a.click(lambda *c: got_a.append(c))
    b.click(lambda *c: got_b.append(c))
    # (2.0, 3.0): a's pixel (2, 3); in b, rows (2.0 - 1.5) / 2 = 0.25 -> 0, cols 0.5 / 2 -> 0
    press_release(viewer, (2.0, 3.0))
    assert got_a == [(2, 3, 13.0)] and got_b == [(0, 0, 100.0)]
    # (3.2, 6.9): outside a (its columns end at 4.5); b's row 1.7 / 2 -> 0, column 4.4 / 2 -> 2
    press_release(viewer, (3.2, 6.9))
    assert got_a == [(2, 3, 13.0)] and got_b[-1] == (0, 2, 102.0)
    # (0.0, 0.0): only a
    press_release(viewer, (0.0, 0.0))
    assert got_a[-1] == (0, 0, 0.0) and len(got_b) == 2
    assert (b.click_y, b.click_x, b.click_value) == (0, 2, 102.0)
    # a hidden heatmap is not under the cursor: no click, no status entry; click_at still works
    b.visible = False
    press_release(viewer, (2.0, 3.0))
    assert got_a[-1] == (2, 3, 13.0) and len(got_b) == 2
    assert "Heatmap [1]" not in status_text(viewer, (2.0, 3.0))
    assert b.click_at((2.0, 3.0)) == (0, 0, 100.0)


def test_several_heatmaps_under_the_cursor_each_name_their_value_once(viewer, pair):
    _, b = pair
    text = status_text(viewer, (2.0, 3.0))
    assert text.count("Heatmap mask[2, 3] = 13") == 1
    assert text.count("Heatmap [1] mask[0, 0] = 100") == 1
    # b is selected (the newest) and on top: its value leads, in place of napari's own
    assert viewer.layers.selection.active is b.heatmap_layer
    assert text.startswith("Heatmap [1] mask[0, 0] = 100")
    # a moved cursor updates both, and only one is left where only one is
    text = status_text(viewer, (0.0, 0.0))
    assert "Heatmap mask[0, 0] = 0" in text and "Heatmap [1]" not in text
    assert text.startswith("[0.00, 0.00]")  # napari's coordinates stay when it is not b's
    # another layer selected: napari's text first, then each heatmap, the top one first
    other = viewer.add_image(np.ones((2, 2)), name="other")
    viewer.layers.selection.active = other
    text = status_text(viewer, (2.0, 3.0))
    assert text.index("Heatmap [1] mask[0, 0] = 100") < text.index("Heatmap mask[2, 3] = 13")
    assert text.count("mask[") == 2
    # a closed heatmap takes its value off the line
    b.close()
    text = status_text(viewer, (2.0, 3.0))
    assert "Heatmap [1]" not in text and text.count("Heatmap mask[2, 3] = 13") == 1


def test_markers_of_one_click_name_their_heatmap_and_do_not_overlap(viewer, pair):
    a, b = pair
    press_release(viewer, (2.0, 3.0))
    labels = {hm: hm.marker_layer.text for hm in (a, b)}
    assert a.marker_layer is not b.marker_layer
    assert str(labels[a].values) == "Heatmap: 13" and str(labels[b].values) == "Heatmap [1]: 100"
    assert labels[a].anchor != labels[b].anchor
    for hm in (a, b):
        assert np.allclose(hm.marker_layer.data, [[2.0, 3.0]])
    # a click where only one heatmap is: its marker shows the bare value again
    press_release(viewer, (0.0, 0.0))
    assert str(a.marker_layer.text.values) == "0"


# ---------------------------------------------------------------- difference


def test_difference_on_one_grid_is_a_minus_b(viewer):
    rng = np.random.default_rng(0)
    ma, mb = rng.normal(size=(6, 7)), rng.normal(size=(6, 7))
    a = Heatmap(heatmap_mask=ma, viewer=viewer)
    b = Heatmap(heatmap_mask=mb, viewer=viewer)
    d = difference(a, b)
    np.testing.assert_array_equal(d.heatmap_mask, ma - mb)
    # a click on it reports the difference
    got = []
    d.click(lambda *c: got.append(c))
    press_release(viewer, (3.0, 4.0))
    assert got == [(3, 4, float(ma[3, 4] - mb[3, 4]))]


def test_difference_of_uint8_masks_does_not_wrap(viewer):
    d = difference(np.full((3, 3), 10, np.uint8), np.full((3, 3), 200, np.uint8), viewer=viewer)
    assert np.all(d.heatmap_mask == -190)


def test_difference_samples_b_at_a_pixel_centres_nearest(viewer, pair):
    a, b = pair
    d = difference(a, b)
    # by hand: a's pixel (i, j) is centred on world (i, j); b's pixel there is
    # floor((world - origin) / (frame / shape)): rows (i - 1.5) / 2, columns (j - 2.5) / 2
    ma, mb = a.heatmap_mask, b.heatmap_mask
    want = np.full(ma.shape, np.nan)
    rows, cols = np.arange(4), np.arange(5)
    r = np.floor((rows - 1.5) / 2.0).astype(int)
    c = np.floor((cols - 2.5) / 2.0).astype(int)
    ok_r, ok_c = (r >= 0) & (r < 2), (c >= 0) & (c < 3)
    want[np.ix_(ok_r, ok_c)] = ma[np.ix_(ok_r, ok_c)] - mb[np.ix_(r[ok_r], c[ok_c])]
    np.testing.assert_array_equal(d.heatmap_mask, want)
    assert np.isnan(d.heatmap_mask[0, 0]) and d.heatmap_mask[3, 4] == 19.0 - 100.0
    # the difference lies over a: same frame, same place, a's viewer
    assert d.frame == a.frame and d.origin == a.origin and d.viewer is viewer
    # clicking where a and b overlap reports a's, b's and the difference's own values
    got = []
    d.click(lambda *cl: got.append(cl))
    press_release(viewer, (3.0, 4.0))
    assert got == [(3, 4, 19.0 - 100.0)] and a.click_value == 19.0 and b.click_value == 100.0


def test_difference_of_a_finer_b_picks_the_pixel_under_each_centre(viewer):
    ma = np.arange(6.0).reshape(2, 3)
    mb = np.arange(48.0).reshape(6, 8) * 10  # finer grid over the same 2×3 frame
    a = Heatmap(heatmap_mask=ma, blur_ksize=None, viewer=viewer)
    b = Heatmap(heatmap_mask=mb, blur_ksize=None, viewer=viewer, width=3, height=2)
    d = difference(a, b)
    # a's centres at fractions (i + 0.5) / 2 and (j + 0.5) / 3 of the frame
    rows = np.floor((np.arange(2) + 0.5) / 2 * 6).astype(int)  # [1, 4]
    cols = np.floor((np.arange(3) + 0.5) / 3 * 8).astype(int)  # [1, 4, 6]
    np.testing.assert_array_equal(d.heatmap_mask, ma - mb[np.ix_(rows, cols)])


def test_arrays_of_different_shapes_share_one_frame():
    ma = np.zeros((2, 2))
    mb = np.arange(16.0).reshape(4, 4)
    grid_b = (mb.shape, (1.0, 1.0), (0.0, 0.0))
    grid_a = (ma.shape, (1.0, 1.0), (0.0, 0.0))
    # a's centres at 1/4 and 3/4 of the frame: b's rows and columns 1 and 3
    np.testing.assert_array_equal(sample_nearest(mb, grid_b, grid_a), mb[np.ix_([1, 3], [1, 3])])


def test_difference_defaults_centre_on_zero_with_a_diverging_colormap(viewer):
    bg = np.full((8, 8, 3), 40, np.uint8)
    a = Heatmap(bg, np.linspace(-1, 3, 16).reshape(4, 4), viewer=viewer, blur_ksize=(3, 3))
    d = difference(a, np.zeros((4, 4)))
    assert d.colormap == "PiYG" and not d.colormap_choice.opencv
    assert d.norm == "centered" and d.vcenter == 0.0
    assert d.vmin is None and d.vmax is None
    lo, hi = d.limits
    assert (lo, hi) == (-3.0, 3.0)  # symmetric about 0: the larger distance, 3
    # a's background, blur, frame and viewer
    np.testing.assert_array_equal(d.background_image, a.background_image)
    assert d.blur_ksize == (3, 3) and d.frame == a.frame and d.viewer is viewer
    assert d.heatmap_layer.name == "Heatmap − b"
    # the caller's keywords win
    e = difference(a, np.zeros((4, 4)), colormap="jet", norm="linear", background_image=None)
    assert e.colormap == 2 and e.norm == "linear" and e.background_image is None


def test_difference_refuses_bad_operands_naming_them_and_adds_nothing(viewer):
    a = Heatmap(heatmap_mask=np.ones((3, 3)), viewer=viewer)
    before = list(viewer.layers)
    with pytest.raises(TypeError, match=r"^b must be"):
        difference(a, "not a mask")
    with pytest.raises(ValueError, match=r"^a must be 2-D"):
        difference(np.ones(5), a)
    empty = Heatmap(viewer=viewer)
    with pytest.raises(ValueError, match=r"^b is a heatmap with no mask"):
        difference(a, empty)
    with pytest.raises(ValueError, match="vmin"):
        difference(a, a, vmin=1, vmax=0)
    assert list(viewer.layers) == before


# ---------------------------------------------------------------- side by side


def three(viewer):
    """Three heatmaps of different sizes, all at the default origin (on top of each other)."""
    made = []
    for k, (h, w) in enumerate([(4, 6), (10, 5), (3, 3)]):
        bg = np.full((h * 2, w * 2, 3), 50 * (k + 1), np.uint8)  # background twice the mask
        mask = np.arange(h * w, dtype=float).reshape(h, w) + 1000 * k
        made.append(Heatmap(bg, mask, blur_ksize=None, viewer=viewer))
    return made


def test_side_by_side_puts_frames_in_a_row_and_clicks_stay_exact(viewer):
    hms = three(viewer)
    row = side_by_side(*hms, gap=2)
    # frames (8×12), (20×10), (6×6) from x = -0.5, 2 apart, tops at -0.5
    assert [hm.origin for hm in hms] == [(-0.5, -0.5), (-0.5, 13.5), (-0.5, 25.5)]
    assert row.origins == tuple(hm.origin for hm in hms)
    for hm in hms:  # each layer of a heatmap lies in its own frame
        (y0, x0), (fh, fw) = hm.origin, hm.frame
        for layer in (hm.background_layer, hm.heatmap_layer):
            lo, hi = np.asarray(layer.extent.world)[:, -2:]
            np.testing.assert_allclose(lo - np.asarray(layer.scale) / 2, [y0, x0])
            np.testing.assert_allclose(hi + np.asarray(layer.scale) / 2, [y0 + fh, x0 + fw])
    # a click in each frame reports that heatmap's pixel, and only that one
    got: list[list[tuple]] = [[] for _ in hms]
    for hm, sink in zip(hms, got, strict=True):
        hm.click(lambda *c, sink=sink: sink.append(c))
    for k, hm in enumerate(hms):
        (y0, x0), (fh, fw) = hm.origin, hm.frame
        h, w = hm.heatmap_mask.shape
        press_release(viewer, (y0 + fh * 1.5 / h, x0 + fw * 2.5 / w))  # centre of pixel (1, 2)
        assert got[k] == [(1, 2, float(hm.heatmap_mask[1, 2]))]
        assert sum(map(len, got)) == k + 1  # no other heatmap answered


def test_side_by_side_can_be_undone_and_refuses_bad_input(viewer):
    hms = three(viewer)
    with pytest.raises(ValueError, match="gap"):
        side_by_side(*hms, gap=-1)
    with pytest.raises(TypeError, match=r"heatmaps\[1\]"):
        side_by_side(hms[0], "x")
    with pytest.raises(ValueError, match="twice"):
        side_by_side(hms[0], hms[0])
    assert all(hm.origin == (-0.5, -0.5) for hm in hms)  # a refused call moved nothing
    row = side_by_side(*hms)  # default gap: 5 % of the widest frame (12)
    assert hms[1].origin == (-0.5, -0.5 + 12 + 0.6)
    row.restore()
    assert all(hm.origin == (-0.5, -0.5) for hm in hms)


def test_side_by_side_refuses_heatmaps_of_two_viewers(viewer):
    from napari.components import ViewerModel

    other = ViewerModel()
    a = Heatmap(heatmap_mask=np.ones((2, 2)), viewer=viewer)
    b = Heatmap(heatmap_mask=np.ones((2, 2)), viewer=other)
    try:
        with pytest.raises(ValueError, match="one viewer"):
            side_by_side(a, b)
    finally:
        b.close()
    assert math.isclose(a.origin[1], -0.5)


def test_comparing_stays_on_the_napari_model_floor():
    from _imports import QT, assert_fresh_interpreter_loads_none_of

    assert_fresh_interpreter_loads_none_of(
        "import napari_heatmap as n; n.difference, n.side_by_side", QT
    )


def test_difference_lies_over_a_whatever_its_background(viewer):
    a = Heatmap(np.zeros((8, 12, 3), np.uint8), np.ones((4, 6)), viewer=viewer, origin=(3, 4))
    d = difference(a, np.zeros((4, 6)))
    assert d.width is None and d.height is None  # natural, as a's: the dock says "auto"
    bare = difference(a, np.zeros((4, 6)), background_image=None)
    for hm in (d, bare):
        assert hm.frame == a.frame == (8.0, 12.0) and hm.origin == a.origin


def test_difference_of_an_array_and_a_heatmap_lies_over_the_heatmap(viewer):
    b = Heatmap(heatmap_mask=np.arange(6.0).reshape(2, 3), viewer=viewer, origin=(10, 20))
    b.width = 30  # frame 20 × 30 at (10, 20)
    ma = np.zeros((4, 6))  # twice as fine over the same frame: b's pixel (i // 2, j // 2)
    d = difference(ma, b)
    np.testing.assert_array_equal(d.heatmap_mask, -np.kron(b.heatmap_mask, np.ones((2, 2))))
    assert d.frame == b.frame and d.origin == b.origin and d.viewer is viewer
    assert d.heatmap_layer.name == "a − Heatmap"


def test_sampling_leaves_nan_wherever_b_does_not_reach():
    values = np.array([[1.0, 2.0], [3.0, 4.0]])
    # b covers [0, 2)²; a's 6×6 pixels cover [-2, 4)², centres -1.5, -0.5, …, 3.5
    got = sample_nearest(values, ((2, 2), (2.0, 2.0), (0.0, 0.0)), ((6, 6), (6.0, 6.0), (-2, -2)))
    want = np.full((6, 6), np.nan)
    want[2:4, 2:4] = values
    np.testing.assert_array_equal(got, want)
    # no overlap at all: all NaN
    far = sample_nearest(values, ((2, 2), (2.0, 2.0), (10.0, 0.0)), ((6, 6), (6.0, 6.0), (-2, -2)))
    assert np.isnan(far).all()


def test_origin_moves_the_frame_and_is_checked_by_name(viewer):
    hm = Heatmap(np.zeros((10, 20, 3), np.uint8), np.ones((5, 10)), viewer=viewer)
    seen = []
    hm.events.frame.connect(lambda e: seen.append(e.value))
    hm.origin = (100, -50)
    assert hm.origin == (100.0, -50.0) and seen == [(10.0, 20.0)]
    for layer in (hm.background_layer, hm.heatmap_layer):
        corner = layer.extent.world[0, -2:] - np.asarray(layer.scale[-2:]) / 2  # pixel centres
        np.testing.assert_allclose(corner, (100.0, -50.0))
    assert hm.click_at((100.0, -50.0))[:2] == (0, 0)
    for bad, exc in ((None, TypeError), ((1,), TypeError), ((0, float("inf")), ValueError)):
        with pytest.raises(exc, match="origin must"):
            hm.origin = bad
    assert hm.origin == (100.0, -50.0)


def test_difference_of_stacks_is_a_stack_slice_by_slice(viewer):
    rng = np.random.default_rng(5)
    ma, mb = rng.random((3, 8, 8)), rng.random((3, 4, 4))
    a = Heatmap(heatmap_mask=ma, stack=True, blur_ksize=None, viewer=viewer)
    b = Heatmap(heatmap_mask=mb, stack=True, blur_ksize=None, viewer=viewer, width=8)
    d = difference(a, b)
    assert d.stack and d.heatmap_mask.shape == (3, 8, 8)
    # b's 4×4 slices cover the same frame: a's pixel (y, x) sees b's (y // 2, x // 2)
    np.testing.assert_allclose(d.heatmap_mask, ma - np.repeat(np.repeat(mb, 2, 1), 2, 2))
    flat = difference(a, mb[0])  # a 2-D side is subtracted from every slice
    np.testing.assert_allclose(
        flat.heatmap_mask[2], ma[2] - np.repeat(np.repeat(mb[0], 2, 0), 2, 1)
    )
    c = Heatmap(heatmap_mask=rng.random((2, 8, 8)), stack=True, viewer=viewer)
    count = len(viewer.layers)
    with pytest.raises(ValueError, match="b's stack \\(2,\\) does not fit a's stack \\(3,\\)"):
        difference(a, c)
    assert len(viewer.layers) == count
