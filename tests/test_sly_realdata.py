"""Checks on real Supervisely exports kept in tests/data/supervisely (see its SOURCES.md)."""

from pathlib import Path

import numpy as np
import pytest

from napari_heatmap.supervisely import (
    Bitmap,
    density_map,
    find_annotations,
    load_annotation,
    load_meta,
)

DATA = Path(__file__).resolve().parent / "data" / "supervisely"


@pytest.fixture
def data():
    assert DATA.is_dir(), f"the real samples belong in the repository, at {DATA}"
    return DATA


def test_platform_export_bitmaps_match_the_sdk_density(data):
    paths = sorted((data / "bitmaps-platform-export" / "ds0" / "ann").glob("*.json"))
    assert len(paths) == 3
    grid = density_map(paths)
    assert grid.shape == (888, 1280)  # SDK 6.74.51
    assert grid.max() == 3
    assert grid.dtype == np.float32


def test_platform_export_reads_both_png_flavours(data):
    for name in ("image_1.jpg.json", "image_2.jpg.json"):
        a = load_annotation(data / "bitmaps-platform-export" / "ds0" / "ann" / name)
        assert a.labels
        assert all(isinstance(lb.geometry, Bitmap) and lb.geometry.data.any() for lb in a.labels)


def test_legacy_format_reads_classes_json_and_untagged_objects(data):
    root = data / "legacy-format"
    meta = load_meta(root / "classes.json")
    assert len(meta.classes) == 5
    layout = find_annotations(root)
    assert layout.meta_path == root / "classes.json"
    (item,) = layout.items
    a = load_annotation(item.ann_path)
    assert a.img_size == (1500, 2100)
    kinds = sorted(lb.geometry_type for lb in a.labels)
    assert kinds == ["bitmap", "bitmap", "line", "point", "polygon", "rectangle"]
    assert density_map([a], object_name="tomato").max() >= 1
