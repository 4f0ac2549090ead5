"""Finding Supervisely annotation files in files, dataset folders and project folders."""

import json
from pathlib import Path

import numpy as np
import pytest

from napari_heatmap.supervisely import density_map, find_annotations, is_supervisely_json

META = {"classes": [{"title": "c", "shape": "point", "color": "#FF0000"}], "tags": []}


def ann_json(h=10, w=10):
    point = {"classTitle": "c", "tags": [], "points": {"exterior": [[1, 1]], "interior": []}}
    return {"size": {"height": h, "width": w}, "tags": [], "objects": [point]}


def put(path: Path, data=None, text=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    if text is None:
        text = json.dumps(data)
    path.write_text(text)
    return path


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "proj"
    put(root / "meta.json", META)
    put(root / "ds1" / "ann" / "a.jpg.json", ann_json())  # new naming
    put(root / "ds1" / "img" / "a.jpg", text="jpg")
    put(root / "ds1" / "ann" / "b.json", ann_json())  # legacy <stem>.json
    put(root / "ds1" / "img" / "b.png", text="png")
    put(root / "ds1" / "ann" / "orphan.jpg.json", ann_json())  # no image: ignored as in the SDK
    put(root / "ds1" / "img" / "noann.jpg", text="jpg")  # image without annotation: skipped
    put(root / "ds1" / "img_info" / "a.jpg.json", {"id": 1})
    put(root / "ds1" / "datasets" / "child" / "ann" / "c.jpg.json", ann_json())
    put(root / "ds1" / "datasets" / "child" / "datasets" / "deep" / "ann" / "d.json", ann_json())
    put(root / "ds2" / "ann" / "e.png.json", ann_json())  # no img/: every ann counts
    put(root / "blob" / "ann" / "x.json", ann_json())  # service folder: not a dataset
    put(root / "notes" / "readme.txt", text="hi")  # not a dataset: nothing found there
    return root


def test_project_folder_lists_datasets_nested_at_any_depth(project):
    layout = find_annotations(project)
    assert layout.kind == "project"
    assert layout.meta_path == project / "meta.json"
    found = [(i.dataset, i.name, i.image_path and i.image_path.name) for i in layout.items]
    assert found == [
        ("ds1", "a.jpg", "a.jpg"),
        ("ds1", "b.png", "b.png"),
        ("ds1/child", "c.jpg", None),
        ("ds1/child/deep", "d", None),
        ("ds2", "e.png", None),
    ]
    assert layout.items[1].ann_path == project / "ds1" / "ann" / "b.json"


def test_dataset_folder_and_its_ann_folder(project):
    layout = find_annotations(project / "ds2")
    assert layout.kind == "dataset"
    assert [i.ann_path.name for i in layout.items] == ["e.png.json"]
    assert layout.meta_path == (project / "meta.json").resolve()
    assert find_annotations(project / "ds2" / "ann").root == project / "ds2"


def test_single_file_pairs_its_image(project):
    layout = find_annotations(project / "ds1" / "ann" / "b.json")
    assert layout.kind == "file"
    (item,) = layout.items
    assert item.image_path == project / "ds1" / "img" / "b.png"
    assert item.dataset == "ds1"


def test_unrelated_paths_are_declined(tmp_path):
    assert find_annotations(tmp_path / "missing") is None
    assert find_annotations(put(tmp_path / "other.json", {"foo": 1})) is None
    (tmp_path / "empty").mkdir()
    assert find_annotations(tmp_path / "empty") is None


def test_found_files_feed_the_density_map(project):
    paths = [i.ann_path for i in find_annotations(project).items]
    grid = density_map(paths)
    assert grid.shape == (10, 10)
    assert grid[1, 1] == len(paths)
    assert np.count_nonzero(grid) == 1


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (ann_json(), True),
        (META, True),
        ([{"title": "c", "shape": "point", "color": "#FF0000"}], True),  # legacy classes.json
        ({"size": {"height": 1}, "objects": []}, False),
        ({"size": {"height": 1, "width": 1}}, False),
        ({"foo": "bar"}, False),
        ([1, 2, 3], False),
        ({"type": "FeatureCollection", "features": []}, False),
    ],
)
def test_is_supervisely_json(tmp_path, content, expected):
    assert is_supervisely_json(put(tmp_path / "f.json", content)) is expected


def test_is_supervisely_json_declines_other_files(tmp_path):
    assert not is_supervisely_json(put(tmp_path / "f.txt", ann_json()))
    assert not is_supervisely_json(put(tmp_path / "bad.json", text='{"size": '))
    assert not is_supervisely_json(tmp_path / "missing.json")
    assert not is_supervisely_json(tmp_path)


def test_a_meta_file_is_not_an_annotation_layout(project):
    assert is_supervisely_json(project / "meta.json")
    assert find_annotations(project / "meta.json") is None


def test_dataset_with_an_empty_ann_counts_its_nested_datasets(tmp_path):
    root = tmp_path / "proj"
    put(root / "meta.json", META)
    (root / "parent" / "ann").mkdir(parents=True)  # its own ann/ is empty
    put(root / "parent" / "datasets" / "kid" / "ann" / "k.json", ann_json())
    put(root / "parent" / "datasets" / "kid" / "datasets" / "deep" / "ann" / "d.json", ann_json())
    layout = find_annotations(root / "parent")
    assert layout is not None and layout.kind == "dataset"
    assert [(i.dataset, i.name) for i in layout.items] == [
        ("parent/kid", "k"),
        ("parent/kid/deep", "d"),
    ]
    assert density_map(root / "parent")[1, 1] == 2


def test_dataset_without_ann_but_with_nested_datasets_is_a_dataset(tmp_path):
    put(tmp_path / "parent" / "datasets" / "kid" / "ann" / "k.json", ann_json())
    layout = find_annotations(tmp_path / "parent")
    assert layout is not None and layout.kind == "dataset"
    assert [i.name for i in layout.items] == ["k"]


def test_dataset_with_own_and_nested_annotations_counts_both(project):
    layout = find_annotations(project / "ds1")
    assert [(i.dataset, i.name) for i in layout.items] == [
        ("ds1", "a.jpg"),
        ("ds1", "b.png"),
        ("ds1/child", "c.jpg"),
        ("ds1/child/deep", "d"),
    ]


def test_a_file_linked_into_another_dataset_counts_once_and_a_linked_folder_too(tmp_path):
    root = tmp_path / "proj"
    put(root / "meta.json", META)
    put(root / "ds1" / "ann" / "a.json", ann_json())
    put(root / "ds1" / "ann" / "b.json", ann_json())
    (root / "ds2" / "ann").mkdir(parents=True)
    (root / "ds2" / "ann" / "same.json").symlink_to(root / "ds1" / "ann" / "a.json")
    put(root / "ds2" / "ann" / "own.json", ann_json())
    (root / "ds3").mkdir()
    (root / "ds3" / "ann").symlink_to(root / "ds1" / "ann")  # a whole ann/ folder, again
    found = [(i.dataset, i.name) for i in find_annotations(root).items]
    assert found == [("ds1", "a"), ("ds1", "b"), ("ds2", "own")]
    assert density_map(root)[1, 1] == 3


def test_a_folder_is_listed_once_per_density(project, monkeypatch):
    import napari_heatmap.supervisely._sources as sources

    calls = []
    real = sources.find_annotations
    monkeypatch.setattr(sources, "find_annotations", lambda p: calls.append(p) or real(p))
    assert density_map(project)[1, 1] == 5
    assert calls == [project]
    layout = find_annotations(project)  # a layout found before stands for its files
    np.testing.assert_array_equal(density_map([layout]), density_map(project))
