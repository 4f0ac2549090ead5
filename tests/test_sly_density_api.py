"""The density API over folders agrees with the reader: broken files skipped and reported."""

import json
import warnings

import numpy as np
import pytest

from napari_heatmap.supervisely import SuperviselyWarning, density_map

META = {
    "classes": [
        {"title": "car", "shape": "rectangle", "color": "#FF0000"},
        {"title": "tree", "shape": "point", "color": "#00FF00"},
    ],
    "tags": [],
}


def rect_ann(cls="car"):
    return {
        "size": {"height": 10, "width": 20},
        "tags": [],
        "objects": [
            {
                "classTitle": cls,
                "tags": [],
                "geometryType": "rectangle",
                "points": {"exterior": [[2, 3], [5, 4]], "interior": []},
            }
        ],
    }


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "project"
    ann_dir = root / "ds" / "ann"
    ann_dir.mkdir(parents=True)
    (root / "meta.json").write_text(json.dumps(META))
    for i in range(3):
        (ann_dir / f"img{i}.png.json").write_text(json.dumps(rect_ann()))
    (ann_dir / "broken.png.json").write_text('{"size": {"height": 10')  # cut short
    return root


def test_density_over_a_folder_skips_a_broken_file_and_warns(project):
    with pytest.warns(SuperviselyWarning, match=r"skipped 1 of 4") as seen:
        grid = density_map(project)
    assert "broken.png.json" in str(seen[0].message)
    assert grid.shape == (10, 20) and grid.max() == 3 and grid.sum() == 3 * 8


def test_folder_inside_a_list_is_read_the_same_way(project):
    with pytest.warns(SuperviselyWarning, match="broken.png.json"):
        grid = density_map([project / "ds", rect_ann()])
    assert grid.max() == 4


def test_a_broken_file_given_by_name_still_raises(project):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="broken.png.json"):
            density_map([project / "ds" / "ann" / "broken.png.json"])


def test_a_folder_whose_files_all_fail_raises_naming_them(tmp_path):
    ann_dir = tmp_path / "ds" / "ann"
    ann_dir.mkdir(parents=True)
    (ann_dir / "x.json").write_text('{"size": {"height": 1, "width": 1}, "objects": [1]}')
    with pytest.raises(ValueError, match=r"none of the .* could be read.*x\.json"):
        density_map(tmp_path / "ds")


def test_a_folder_without_annotations_raises_naming_it(tmp_path):
    with pytest.raises(ValueError, match="holds no Supervisely annotations"):
        density_map(tmp_path)


def test_unmatched_object_name_lists_the_classes_there_are(project):
    with pytest.warns(SuperviselyWarning), pytest.raises(ValueError) as info:
        density_map(project, object_name="bus")
    text = str(info.value)
    assert "object_name='bus'" in text and "the classes with labels are: 'car'" in text


def test_unmatched_object_name_with_no_labels_at_all_says_none(project):
    empty = {"size": {"height": 10, "width": 20}, "tags": [], "objects": []}
    with pytest.raises(ValueError, match="classes with labels are: none"):
        density_map([empty], object_name="car")


def test_heatmap_api_and_reader_agree_on_a_folder_with_a_broken_file(project):
    from napari_heatmap._reader import read_supervisely

    with pytest.warns(SuperviselyWarning):
        grid = density_map(project)
    layers = {kw["name"]: data for data, kw, _ in read_supervisely(project)}
    np.testing.assert_array_equal(layers["density (project)"], grid)


def test_heatmap_from_a_folder_with_a_broken_file_skips_it_too(project):
    from napari.components import ViewerModel

    from napari_heatmap import Heatmap

    viewer = ViewerModel()
    hm = Heatmap(viewer=viewer)
    try:
        with pytest.warns(SuperviselyWarning, match="broken.png.json"):
            hm.set_heatmap_from_annotations(project)
        assert hm.heatmap_mask.max() == 3
        (project / "empty").mkdir()
        with pytest.raises(ValueError, match="anns: .* holds no Supervisely annotations"):
            hm.set_heatmap_from_annotations(project / "empty")
        assert hm.heatmap_mask.max() == 3  # a failure keeps what was shown
    finally:
        hm.close()


def test_a_broken_meta_is_reported_and_the_folder_still_counts(project):
    (project / "meta.json").write_text("{not json")
    with pytest.warns(SuperviselyWarning) as seen:
        grid = density_map(project)
    messages = [str(w.message) for w in seen]
    assert any("meta.json not used, classes get default colours" in m for m in messages)
    assert grid.max() == 3
