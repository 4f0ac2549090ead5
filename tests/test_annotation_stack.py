"""Density per image as a stack (issue 11, behaviour §12): one slice per annotation file,
named in the status bar and the dock."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from napari_heatmap import Heatmap, HeatmapWidget
from napari_heatmap.supervisely import SuperviselyWarning, density_map, find_annotations
from tools.sdk_parity.generate import KINDS, write_random_project

WHOLE = tuple(k for k in KINDS if k not in ("alpha_mask", "any"))


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("stack") / "project"
    write_random_project(root, 6, np.random.default_rng(4), kinds=WHOLE)
    return root


def test_annotations_as_a_stack_one_named_slice_per_file(make_napari_viewer, project):
    viewer = make_napari_viewer(strict_qt="raise")
    widget = HeatmapWidget(viewer)
    viewer.window.add_dock_widget(widget)
    hm = Heatmap(viewer=viewer, blur_ksize=None)
    widget.bind(hm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SuperviselyWarning)
        hm.set_heatmap_from_annotations(project, stack=True)
        total = density_map(project)
        layout = find_annotations(project)
    names = tuple(f"{it.dataset}/{it.ann_path.name}" for it in layout.items)
    assert hm.stack and hm.slice_names == names
    assert hm.heatmap_mask.shape == (len(names), *total.shape)
    np.testing.assert_array_equal(hm.heatmap_mask.sum(axis=0), total)
    assert viewer.dims.nsteps[0] == len(names)
    for k in (0, 3, len(names) - 1):
        viewer.dims.set_current_step(0, k)
        assert hm.slice_name == names[k]
        assert widget.slice_readout.value == names[k]
        assert not widget.slice_readout.native.isHidden()
        # the status bar names the file of the slice under the cursor
        viewer.cursor.position = (k, 2.0, 3.0)
        viewer.mouse_over_canvas = True
        viewer.update_status_from_cursor()
        status = viewer.status
        text = status["coordinates"] if isinstance(status, dict) else status
        assert f"({names[k]})" in text
        y, x = np.unravel_index(np.argmax(hm.heatmap_mask[k]), total.shape)
        hm.click_at((float(y), float(x)))  # pixel centres sit on whole world coordinates
        assert hm.click_index == (k, y, x)
        assert widget.click_readout.value.startswith(f"slice {k} ({names[k]}): y={y}, x={x}")
    hm.set_heatmap(np.ones((4, 4)))  # another mask: no names
    assert hm.slice_names is None and hm.slice_name is None
    assert widget.slice_readout.native.isHidden()
