"""Norms and threshold on a real screen (Xvfb): the canvas paints what mask_to_rgba paints."""

from __future__ import annotations

import os

import numpy as np
import pytest

from _canvas import canvas_shot, shot_pixel
from napari_heatmap import Heatmap, mask_to_rgba

pytestmark = pytest.mark.gui

CASES = {
    "log": ({"vmin": 0.05, "vmax": 400.0}, np.logspace(-2, 3, 36)),
    "symlog": ({"linthresh": 2.0}, np.linspace(-60, 60, 36)),
    "centered": ({"vcenter": 3.0, "vmin": -4.0, "vmax": 40.0}, np.linspace(-6, 45, 36)),
    "linear": ({}, np.linspace(-1, 1, 36)),
}


@pytest.mark.parametrize("norm", list(CASES))
def test_screen_equals_mask_to_rgba_for_each_norm_and_threshold(make_napari_viewer, norm):
    keywords, values = CASES[norm]
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(900, 500)
    mask = np.tile(values, (4, 1))
    mask[:, 5] = 0.0  # zero: below vmin under "log"
    white = np.full((*mask.shape, 3), 255, np.uint8)
    threshold = float(values[20])
    hm = Heatmap(white, mask, blur_ksize=None, viewer=viewer, norm=norm, **keywords)
    hm.opacity = 100
    hm.threshold = threshold
    viewer.reset_view()
    shot = canvas_shot(viewer)
    if os.environ.get("HEATMAP_SHOTS"):
        from PIL import Image

        Image.fromarray(shot).save(f"{os.environ['HEATMAP_SHOTS']}/norm-{norm}.png")
    rgba = mask_to_rgba(
        mask, hm.colormap, blur_ksize=None, norm=norm, threshold=threshold, **keywords
    )
    hidden = 0
    for col in range(mask.shape[1]):
        expected = rgba[2, col]
        want = expected[:3] if expected[3] == 255 else np.array([255, 255, 255])
        hidden += expected[3] == 0
        got = shot_pixel(viewer, shot, (2.0, col))
        assert np.abs(got - want).max() <= 2, (norm, col, mask[2, col], got, want)
    assert 19 <= hidden <= 21  # the threshold hid the columns below it, on screen too
