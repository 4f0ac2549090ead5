"""Stacks in a real window (behaviour §12): move napari's slider, click, read the screen."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from _canvas import canvas_shot, click_canvas, shot_pixel
from napari_heatmap import Heatmap, colormap_lut
from napari_heatmap._launcher import open_viewer
from napari_heatmap._qt.widget import HeatmapWidget

pytestmark = pytest.mark.gui

JET = colormap_lut("jet")
SHOTS = Path(os.environ.get("NAPARI_HEATMAP_SHOTS", "/tmp/wt3"))


@pytest.fixture
def shown(make_napari_viewer):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(900, 700)
    return viewer


def move_slider(viewer, qtbot, axis: int, value: int) -> None:
    """Move napari's dimension slider of ``axis`` as its widget does."""
    slider = viewer.window._qt_viewer.dims.slider_widgets[axis].slider
    slider.setValue(value)
    qtbot.waitUntil(lambda: viewer.dims.current_step[axis] == value, timeout=2000)


def jet_of(value: float, lo: float, hi: float) -> np.ndarray:
    return JET[int(np.floor((value - lo) / (hi - lo) * 255 + 0.5))]


def save(shot: np.ndarray, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(SHOTS / name), cv2.cvtColor(shot, cv2.COLOR_RGBA2BGR))


def test_clicks_on_each_slice_report_its_index_value_and_colour(shown, qtbot):
    bg = np.full((400, 500, 3), 60, np.uint8)  # shared by every slice
    mask = np.arange(4 * 4 * 5, dtype=np.float32).reshape(4, 4, 5)  # 4 slices of 4×5
    hm = Heatmap(bg, mask, blur_ksize=None, viewer=shown, stack=True)
    hm.opacity = 100
    calls = []
    hm.click(lambda y, x, v: calls.append((y, x, v)))
    shown.reset_view()
    qtbot.wait(50)
    lo, hi = hm.limits
    assert (lo, hi) == (0.0, 79.0)  # the whole stack's range
    world = (250.0, 350.0)  # mask pixel (2, 3): cells are 100×100 world units
    for step in (0, 2, 3, 1):
        move_slider(shown, qtbot, 0, step)
        shot = canvas_shot(shown)
        if step == 2:
            save(shot, "stack_slice2.png")
        value = float(mask[step, 2, 3])
        assert np.abs(shot_pixel(shown, shot, world) - jet_of(value, lo, hi)).max() <= 2
        click_canvas(shown, world)
        assert calls[-1] == (2, 3, value)
        assert hm.click_index == (step, 2, 3)
        assert hm.click_value == value
    assert len(calls) == 4
    # the marker is a point of the slice it was clicked on (slice 1): gone from slice 0
    assert hm.marker_layer is not None
    assert hm.marker_layer.data[0, 0] == 1.0
    move_slider(shown, qtbot, 0, 0)
    shot = canvas_shot(shown)
    assert np.abs(shot_pixel(shown, shot, world) - jet_of(mask[0, 2, 3], lo, hi)).max() <= 2


def test_stacked_background_follows_the_slider_under_the_heatmap(shown, qtbot):
    greys = (20, 120, 220)
    bg = np.stack([np.full((30, 40), g, np.uint8) for g in greys])  # one picture per slice
    mask = np.ones((3, 3, 4), np.float32)
    mask[:, :, :2] = np.nan  # the left half shows the background through
    mask *= np.arange(3, dtype=np.float32)[:, None, None]
    hm = Heatmap(bg, mask, blur_ksize=None, viewer=shown, stack=True)
    hm.opacity = 100
    shown.reset_view()
    qtbot.wait(50)
    left, right = (15.0, 5.0), (15.0, 35.0)
    for step, grey in enumerate(greys):
        move_slider(shown, qtbot, 0, step)
        shot = canvas_shot(shown)
        if step == 1:
            save(shot, "stack_background_slice1.png")
        assert np.abs(shot_pixel(shown, shot, left) - grey).max() <= 2
        assert np.abs(shot_pixel(shown, shot, right) - jet_of(step, 0, 2)).max() <= 2


def test_dock_stack_box_creates_a_stack_and_rereads_the_mask(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(strict_qt="raise")
    data = np.random.default_rng(0).random((6, 20, 30)).astype(np.float32)
    layer = viewer.add_image(data, name="frames")
    widget = HeatmapWidget(viewer)
    viewer.window.add_dock_widget(widget)
    widget.mask_choice.value = layer
    widget.stack_box.value = True  # no heatmap yet: only remembered for "Create"
    widget.create_button.clicked.emit()
    hm = widget.heatmap
    assert hm is not None and hm.stack is True
    assert hm.heatmap_layer.data.shape == (6, 20, 30)
    assert viewer.dims.nsteps[0] == 6
    widget.stack_box.value = False  # the bound heatmap reads its mask as H×W×C now
    assert hm.stack is False and hm.heatmap_layer.data.shape == (6, 20)
    assert hm.mask_layer is layer and widget.mask_choice.value is layer  # same source
    hm.stack = True  # and the box follows the heatmap
    assert widget.stack_box.value is True
    viewer.dims.set_current_step(0, 4)
    hm.click_at((3.0, 7.0))  # the dock's read-out names the slice of the click
    assert widget.click_readout.value == f"slice 4: y=3, x=7, value={data[4, 3, 7]:.4g}"


def test_launcher_opens_a_stack(make_napari_viewer, qtbot):
    mask = np.random.default_rng(1).random((5, 12, 16)).astype(np.float32)
    viewer, hm = open_viewer(None, mask, widget=False, show=False, stack=True)
    try:
        assert hm.stack is True and viewer.dims.nsteps[0] == 5
        assert hm.heatmap_layer.data.shape == (5, 12, 16)
    finally:
        viewer.close()
