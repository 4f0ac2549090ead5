"""The npe2 reader: Supervisely files and folders open as napari layers (behaviour §6)."""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from _imports import QT, assert_fresh_interpreter_loads_none_of
from napari_heatmap import Heatmap
from napari_heatmap._layers import layer_contrast_limits
from napari_heatmap._reader import napari_get_reader, read_supervisely
from napari_heatmap.supervisely import density_map

REAL = Path(__file__).resolve().parent / "data" / "supervisely"  # see its SOURCES.md

COLOURS = {
    "car": "#FF0000",
    "road": "#00FF00",
    "person": "#0000FF",
    "lane": "#FFFF00",
    "blob": "#FF00FF",
    "pose": "#00FFFF",
}
SHAPES = {
    "car": "rectangle",
    "road": "polygon",
    "person": "point",
    "lane": "line",
    "blob": "bitmap",
    "pose": "graph",
}
POSE_TEMPLATE = {
    "nodes": {
        "head": {"label": "head", "loc": [0, 0], "color": "#00FFFF"},
        "foot": {"label": "foot", "loc": [0, 9], "color": "#00FFFF"},
    },
    "edges": [{"src": "head", "dst": "foot", "color": "#00FFFF"}],
}
H, W = 60, 80


def rgba(hex_colour):
    return [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)] + [1.0]


def meta_json():
    return {
        "classes": [
            {
                "title": t,
                "shape": SHAPES[t],
                "color": c,
                "geometry_config": POSE_TEMPLATE if t == "pose" else {},
            }
            for t, c in COLOURS.items()
        ],
        "tags": [],
    }


def obj(cls, **payload):
    return {"classTitle": cls, "tags": [], "geometryType": SHAPES[cls], **payload}


def pts(exterior, interior=()):
    return {"points": {"exterior": exterior, "interior": list(interior)}}


def rect(cls, x1, y1, x2, y2):
    return obj(cls, **pts([[x1, y1], [x2, y2]]))


def bitmap_payload(mask, origin_xy, rgba_png=False):
    u8 = mask.astype(np.uint8) * 255
    if rgba_png:
        u8 = np.dstack([np.full_like(u8, 255)] * 3 + [u8])
    ok, png = cv2.imencode(".png", u8)
    assert ok
    data = base64.b64encode(zlib.compress(png.tobytes())).decode()
    return {"bitmap": {"origin": list(origin_xy), "data": data}}


BLOB = np.zeros((6, 8), bool)
BLOB[1:5, 2:7] = True


def first_objects():
    return [
        rect("car", 10, 5, 30, 20),
        obj(
            "road",
            **pts([[40, 10], [70, 10], [70, 50], [40, 50]], [[[50, 20], [60, 20], [55, 30]]]),
        ),
        obj("person", **pts([[5, 50]])),
        obj("lane", **pts([[0, 59], [5, 40], [9, 45]])),
        obj("blob", **bitmap_payload(BLOB, (50, 30), rgba_png=True)),
        obj("pose", nodes={"head": {"loc": [20, 30]}, "foot": {"loc": [22, 45]}}),
    ]


def write_json(path, data):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)


def write_image(path, h=H, w=W, value=(40, 80, 120)):
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.empty((h, w, 3), np.uint8)
    img[:] = value  # RGB
    assert cv2.imwrite(str(path), img[..., ::-1])


def write_item(dataset, name, objects, h=H, w=W, image=True):
    write_json(
        dataset / "ann" / f"{name}.json",
        {"size": {"height": h, "width": w}, "tags": [], "objects": objects},
    )
    if image:
        write_image(dataset / "img" / name, h, w)


@pytest.fixture
def project(tmp_path):
    """meta.json, ds1 with a.png (every kind of object) and b.png, nested ds1/child with c.png."""
    root = tmp_path / "project"
    write_json(root / "meta.json", meta_json())
    write_item(root / "ds1", "a.png", first_objects())
    write_item(root / "ds1", "b.png", [rect("car", 15, 10, 35, 25)])
    write_item(root / "ds1" / "datasets" / "child", "c.png", [rect("car", 0, 0, 9, 9)])
    return root


@pytest.fixture
def notes(monkeypatch):
    """Messages dispatched to napari's notification manager."""
    from napari.utils.notifications import notification_manager

    seen = []
    monkeypatch.setattr(notification_manager, "dispatch", lambda n: seen.append(n))
    return seen


def layers_by_name(layer_data):
    return {kw["name"]: (data, kw, kind) for data, kw, kind in layer_data}


# --------------------------------------------------------------------------- accept / decline


@pytest.mark.parametrize(
    "where",
    ["ds1/ann/a.png.json", "ds1", "ds1/ann", "", "meta.json", "ds1/datasets/child"],
)
def test_reader_is_returned_for_supervisely_files_and_folders(project, where):
    target = project / where
    reader = napari_get_reader(str(target))
    assert callable(reader)
    assert reader(str(target))


def test_reader_accepts_pathlike_and_lists_of_readable_paths(project):
    ann = project / "ds1" / "ann"
    assert napari_get_reader(ann / "a.png.json") is not None
    assert napari_get_reader([str(ann / "a.png.json"), str(ann / "b.png.json")]) is not None


def test_reader_declines_what_is_not_supervisely(tmp_path, project):
    write_json(tmp_path / "other.json", {"type": "FeatureCollection", "features": []})
    (tmp_path / "notes.txt").write_text("size objects")
    (tmp_path / "random" / "sub").mkdir(parents=True)
    write_json(tmp_path / "random" / "x.json", {"a": 1})
    (tmp_path / "empty_ds" / "ann").mkdir(parents=True)
    good = str(project / "ds1" / "ann" / "a.png.json")
    assert napari_get_reader(str(tmp_path / "other.json")) is None
    assert napari_get_reader(str(tmp_path / "notes.txt")) is None
    assert napari_get_reader(str(tmp_path / "random")) is None
    assert napari_get_reader(str(tmp_path / "missing.json")) is None
    assert napari_get_reader(str(tmp_path / "empty_ds")) is None  # no annotations
    assert napari_get_reader([]) is None
    assert napari_get_reader([good, str(tmp_path / "other.json")]) is None


# --------------------------------------------------------------------------- a single file


def test_file_opens_its_image_and_objects_in_class_colours(project):
    layers = read_supervisely(project / "ds1" / "ann" / "a.png.json")
    by = layers_by_name(layers)
    assert list(by) == [
        "a.png",
        "blob (a.png)",
        "car (a.png)",
        "road (a.png)",
        "lane (a.png)",
        "pose edges (a.png)",
        "person (a.png)",
        "pose (a.png)",
    ]
    kinds = {n: k for n, (_, _, k) in by.items()}
    assert kinds["a.png"] == "image" and by["a.png"][1]["rgb"] is True
    np.testing.assert_array_equal(by["a.png"][0][0, 0], [40, 80, 120])  # RGB, not BGR
    assert kinds["blob (a.png)"] == "labels"
    assert {kinds[n] for n in ("car (a.png)", "road (a.png)", "lane (a.png)")} == {"shapes"}
    assert kinds["person (a.png)"] == kinds["pose (a.png)"] == "points"
    for cls in ("car", "road", "lane"):
        kw = by[f"{cls} ({'a.png'})"][1]
        assert kw["face_color"] == rgba(COLOURS[cls]) == kw["edge_color"]
    assert by["person (a.png)"][1]["face_color"] == rgba(COLOURS["person"])
    assert not any(kw.get("metadata", {}).get("napari_heatmap") for _, kw, _ in layers)


def test_shape_vertices_are_swapped_to_row_col(project):
    by = layers_by_name(read_supervisely(project / "ds1" / "ann" / "a.png.json"))
    (car,), car_kw, _ = by["car (a.png)"]
    np.testing.assert_array_equal(car, [[5, 10], [5, 30], [20, 30], [20, 10]])
    assert car_kw["shape_type"] == ["rectangle"]
    (road,), road_kw, _ = by["road (a.png)"]
    np.testing.assert_array_equal(road, [[10, 40], [10, 70], [50, 70], [50, 40]])  # no hole
    assert road_kw["shape_type"] == ["polygon"]
    (lane,), lane_kw, _ = by["lane (a.png)"]
    np.testing.assert_array_equal(lane, [[59, 0], [40, 5], [45, 9]])
    assert lane_kw["shape_type"] == ["path"]
    np.testing.assert_array_equal(by["person (a.png)"][0], [[50, 5]])
    np.testing.assert_array_equal(by["pose (a.png)"][0], [[30, 20], [45, 22]])
    np.testing.assert_array_equal(by["pose edges (a.png)"][0][0], [[30, 20], [45, 22]])


def test_bitmap_becomes_a_labels_layer_in_the_class_colour(project):
    by = layers_by_name(read_supervisely(project / "ds1" / "ann" / "a.png.json"))
    labels, kw, _ = by["blob (a.png)"]
    assert labels.shape == (H, W)
    expected = np.zeros((H, W), bool)
    expected[30:36, 50:58] = BLOB  # origin [x=50, y=30]
    np.testing.assert_array_equal(labels > 0, expected)
    assert kw["colormap"][None] == rgba(COLOURS["blob"])
    assert kw["colormap"][0][3] == 0  # background transparent


def test_layers_build_in_a_viewer_model_with_class_colours(project, plugin):
    from napari.components import ViewerModel

    viewer = ViewerModel()
    viewer.open(str(project / "ds1" / "ann" / "a.png.json"), plugin="napari-heatmap")
    car = viewer.layers["car (a.png)"]
    np.testing.assert_allclose(car.face_color[0], rgba(COLOURS["car"]))
    np.testing.assert_allclose(car.edge_color[0], rgba(COLOURS["car"]))
    np.testing.assert_array_equal(car.data[0], [[5, 10], [5, 30], [20, 30], [20, 10]])
    blob = viewer.layers["blob (a.png)"]
    np.testing.assert_allclose(blob.colormap.map(np.array([1]))[0], rgba(COLOURS["blob"]))
    person = viewer.layers["person (a.png)"]
    np.testing.assert_allclose(person.face_color[0], rgba(COLOURS["person"]))
    assert viewer.layers[0].name == "a.png" and viewer.layers[0].rgb


# --------------------------------------------------------------------------- folders


def test_folder_opens_first_image_objects_and_density_over_all(project):
    layers = read_supervisely(project)
    by = layers_by_name(layers)
    assert [kw["name"] for _, kw, _ in layers[:2]] == ["a.png", "density (project)"]
    assert all("(b.png)" not in n and "(c.png)" not in n for n in by)  # first image only
    grid, kw, kind = by["density (project)"]
    anns = sorted((project).rglob("ann/*.json"))
    np.testing.assert_array_equal(grid, density_map(anns))
    assert kind == "image"
    meta = kw["metadata"]["napari_heatmap"]
    assert meta["density"] is True and meta["role"] == "heatmap"
    np.testing.assert_array_equal(meta["mask"], grid)  # the counts, for clicks once live
    assert kw["opacity"] == 0.7 and kw["blending"] == "translucent"
    # the density's own limits, widened half a colour step for napari's uniform colour bins
    assert kw["contrast_limits"] == layer_contrast_limits((float(grid.min()), float(grid.max())))
    assert kw["colormap"].name.startswith("opencv-jet")
    assert kw["scale"] == (1.0, 1.0) and kw["translate"] == (0.0, 0.0)


def test_two_overlapping_rectangles_in_two_files_give_density_two(tmp_path):
    ds = tmp_path / "ds"
    write_json(tmp_path / "meta.json", meta_json())
    write_item(ds, "1.png", [rect("car", 10, 10, 40, 30)], image=False)
    write_item(ds, "2.png", [rect("car", 30, 20, 60, 50)], image=False)
    by = layers_by_name(read_supervisely(ds))
    grid = by["density (ds)"][0]
    assert grid.max() == 2
    assert grid[25, 35] == 2 and grid[12, 12] == 1 and grid[55, 5] == 0
    assert "1.png" not in by  # no img/: no image layer


def test_density_is_stretched_over_the_first_image_when_sizes_differ(tmp_path):
    ds = tmp_path / "ds"
    write_json(tmp_path / "meta.json", meta_json())
    write_item(ds, "1.png", [rect("car", 0, 0, 9, 9)], h=40, w=60)
    write_item(ds, "2.png", [rect("car", 0, 0, 9, 9)], h=80, w=100)
    by = layers_by_name(read_supervisely(ds))
    grid, kw, _ = by["density (ds)"]
    assert grid.shape == (60, 80)  # mean image size
    sy, sx = kw["scale"]
    assert (sy * 60, sx * 80) == pytest.approx((40, 60))
    assert kw["translate"] == pytest.approx(((sy - 1) / 2, (sx - 1) / 2))
    assert by["1.png"][0].shape[:2] == (40, 60)


def test_list_of_files_is_read_as_one_collection(project):
    ann = project / "ds1" / "ann"
    layers = read_supervisely([str(ann / "b.png.json"), str(ann / "a.png.json")])
    by = layers_by_name(layers)
    assert "car (b.png)" in by and "car (a.png)" not in by  # first given is first shown
    grid = by["density (2 annotations)"][0]
    np.testing.assert_array_equal(grid, density_map([ann / "b.png.json", ann / "a.png.json"]))


# --------------------------------------------------------------------------- failures


def test_corrupt_files_are_skipped_and_reported_in_one_notification(project, notes):
    ds = project / "ds1"
    write_item(ds, "bad_json.png", [])
    write_json(ds / "ann" / "bad_json.png.json", "{not json")
    bad_bitmap = obj("blob", bitmap={"origin": [0, 0], "data": "%%%not base64%%%"})
    write_item(ds, "bad_b64.png", [rect("car", 0, 0, 5, 5), bad_bitmap])
    layers = read_supervisely(project)
    by = layers_by_name(layers)
    assert "car (a.png)" in by
    good = [p for p in project.rglob("ann/*.json") if "bad" not in p.name]
    np.testing.assert_array_equal(by["density (project)"][0], density_map(good))
    assert len(notes) == 1
    text = str(notes[0].message)
    assert "skipped 2 of 5" in text
    assert "ds1/bad_json.png.json" in text and "not a JSON file" in text
    assert "ds1/bad_b64.png.json: object 1" in text


def test_supervisely_warnings_are_collected_into_the_notification(tmp_path, notes):
    ds = tmp_path / "ds"
    write_json(tmp_path / "meta.json", meta_json())
    write_item(
        ds,
        "1.png",
        [{"classTitle": "truck", "tags": [], "geometryType": "rectangle", **pts([[1, 1], [5, 5]])}],
    )
    by = layers_by_name(read_supervisely(ds))  # filterwarnings=error: nothing escapes
    assert "truck (1.png)" in by
    assert len(notes) == 1
    assert "truck" in str(notes[0].message) and "warning" in str(notes[0].message)


def test_every_file_failing_raises_a_clear_error(tmp_path, notes):
    ds = tmp_path / "ds"
    write_json(ds / "ann" / "1.png.json", "{broken")
    write_json(
        ds / "ann" / "2.png.json",
        {
            "size": {"height": 10, "width": 10},
            "objects": [
                {
                    "classTitle": "x",
                    "geometryType": "bitmap",
                    "bitmap": {"origin": [0, 0], "data": "!"},
                }
            ],
        },
    )
    reader = napari_get_reader(str(ds))
    assert reader is not None
    with pytest.raises(ValueError, match=r"(?s)none of the 2 .*1\.png\.json: not a JSON"):
        reader(str(ds))
    assert notes == []


def test_unreadable_image_is_reported_and_objects_still_open(project, notes):
    (project / "ds1" / "img" / "a.png").write_bytes(b"not a png")
    by = layers_by_name(read_supervisely(project / "ds1"))
    assert "a.png" not in by and "car (a.png)" in by
    assert len(notes) == 1 and "image not shown" in str(notes[0].message)


def test_progress_bar_on_large_folders(tmp_path, progress_bars):
    ds = tmp_path / "ds"
    for i in range(25):
        write_item(ds, f"{i:02d}.png", [rect("car", i, i, i + 5, i + 5)], image=False)
    write_json(tmp_path / "meta.json", meta_json())
    made = progress_bars
    by = layers_by_name(read_supervisely(ds))
    assert len(made) == 1 and made[0].total == 25
    assert by["density (ds)"][0].max() >= 1
    made.clear()
    read_supervisely(ds / "ann" / "00.png.json")
    assert made == []


# --------------------------------------------------------------------------- npe2 / napari


def test_npe2_discovers_the_installed_reader(project):
    from npe2 import PluginManager

    pm = PluginManager.instance()
    pm.discover()
    for target in (project, project / "ds1" / "ann" / "a.png.json"):
        readers = [r.plugin_name for r in pm.iter_compatible_readers([str(target)])]
        assert "napari-heatmap" in readers


def test_napari_opens_a_project_with_the_plugin(project, plugin):
    from napari.components import ViewerModel

    viewer = ViewerModel()
    viewer.open(str(project), plugin="napari-heatmap")
    names = [layer.name for layer in viewer.layers]
    assert names[:2] == ["a.png", "density (project)"]
    assert "car (a.png)" in names
    density = viewer.layers["density (project)"]
    # a bare ViewerModel has no current viewer to watch: asking for its heatmaps adopts it
    (hm,) = Heatmap.instances(viewer)
    assert hm.heatmap_layer is density and hm.blur_ksize is None
    grid = hm.heatmap_mask  # the counts, no longer kept in the layer's metadata
    assert density.metadata["napari_heatmap"] == {"widget_id": hm.widget_id, "role": "heatmap"}
    y, x = np.argwhere(grid == grid.max())[0]
    assert hm.click_at(density.data_to_world((y, x))) == (y, x, float(grid.max()))


def test_reader_module_does_not_import_qt():
    assert_fresh_interpreter_loads_none_of("import napari_heatmap._reader", QT)


def test_real_platform_export_project_opens(notes):
    root = REAL / "bitmaps-platform-export"
    by = layers_by_name(read_supervisely(root))
    grid, kw, _ = by["density (bitmaps-platform-export)"]
    assert grid.shape == (888, 1280) and grid.max() == 3
    sy, sx = kw["scale"]
    assert (sy * 888, sx * 1280) == pytest.approx((853, 1280))  # over image_1 (853 x 1280)
    labels = [kw["name"] for _, kw, kind in by.values() if kind == "labels"]
    assert labels and all(n.endswith("(image_1.jpg)") for n in labels)
    legacy = read_supervisely(REAL / "legacy-format")
    assert {kind for _, _, kind in legacy} >= {"shapes", "points", "labels", "image"}


# --------------------------------------------------------------------------- real window


@pytest.mark.gui
def test_project_in_a_real_viewer_draws_rectangles_in_class_colour(
    project, make_napari_viewer, qtbot
):
    viewer = make_napari_viewer(show=True)
    viewer.window._qt_window.resize(900, 700)
    viewer.open(str(project), plugin="napari-heatmap")
    viewer.reset_view()
    car = viewer.layers["car (a.png)"]
    inside = (12.5, 20.0)  # rows 5..20, cols 10..30

    def pixel():
        qtbot.wait(50)
        shot = viewer.screenshot(canvas_only=True, flash=False)
        canvas = viewer.window._qt_viewer.canvas
        h, w = canvas.size
        cam = getattr(viewer, "scene", viewer).camera
        cy, cx = cam.center[-2:]
        x = (inside[1] - cx) * cam.zoom + w / 2
        y = (inside[0] - cy) * cam.zoom + h / 2
        r, c = round(y * shot.shape[0] / h), round(x * shot.shape[1] / w)
        return shot[r, c, :3].astype(float)

    car.visible = False
    under = pixel()
    car.visible = True
    drawn = pixel()
    expected = np.array(rgba(COLOURS["car"])[:3]) * 255 * car.opacity + under * (1 - car.opacity)
    assert np.abs(drawn - expected).max() <= 6, (drawn, expected, under)
    car.opacity = 1.0
    assert np.abs(pixel() - [255, 0, 0]).max() <= 6


def test_broken_meta_is_reported_and_classes_get_default_colours(project, notes):
    write_json(project / "meta.json", {"classes": {"car": "rectangle"}})  # not a class list
    by = layers_by_name(read_supervisely(project))
    assert "car (a.png)" in by and "density (project)" in by
    assert by["car (a.png)"][1]["face_color"] != rgba(COLOURS["car"])
    assert len(notes) == 1
    text = str(notes[0].message)
    assert "meta.json not used" in text and "skipped" not in text


def test_file_with_nothing_to_show_opens_as_an_empty_sentinel(tmp_path, notes):
    write_json(tmp_path / "empty.json", {"size": {"height": 5, "width": 5}, "objects": []})
    assert read_supervisely(tmp_path / "empty.json") == [(None,)]
    assert len(notes) == 1 and "no objects and no image" in str(notes[0].message)


def test_an_annotation_reached_twice_counts_once(project):
    by = layers_by_name(read_supervisely([str(project), str(project / "ds1")]))
    np.testing.assert_array_equal(
        by["density (3 annotations)"][0], density_map(sorted(project.rglob("ann/*.json")))
    )


def test_dataset_with_empty_ann_opens_its_nested_datasets(tmp_path):
    root = tmp_path / "project"
    write_json(root / "meta.json", meta_json())
    (root / "parent" / "ann").mkdir(parents=True)  # the dataset itself holds nothing
    write_item(root / "parent" / "datasets" / "kid", "k.png", [rect("car", 0, 0, 9, 9)])
    reader = napari_get_reader(str(root / "parent"))
    assert reader is not None
    by = layers_by_name(reader(str(root / "parent")))
    grid, _, _ = by["density (parent)"]
    assert grid.max() == 1 and "car (k.png)" in by


# --------------------------------------------------------------------------- viewer.open


def test_viewer_open_of_a_project_meta_json_needs_no_plugin_name(project):
    # napari's own plugin manager: napari's builtins and every installed plugin, as a user has.
    from napari.components import ViewerModel
    from npe2 import PluginManager

    PluginManager.instance().discover()
    viewer = ViewerModel()
    viewer.open(str(project / "meta.json"), plugin=None)  # ours is the only reader for it
    names = [layer.name for layer in viewer.layers]
    assert names[:2] == ["a.png", "density (project)"]


def test_viewer_open_of_a_folder_with_the_installed_plugin(project):
    from napari.components import ViewerModel
    from npe2 import PluginManager

    PluginManager.instance().discover()
    viewer = ViewerModel()
    viewer.open(project, plugin="napari-heatmap")
    assert "density (project)" in [layer.name for layer in viewer.layers]


def test_why_a_bare_viewer_open_of_a_folder_cannot_reach_our_reader():
    # napari >= 0.6 forces its built-in reader unless `plugin=` says otherwise; the README
    # tells users to name the plugin (or open meta.json). If napari changes this default,
    # this test fails and the README's advice should be revisited.
    import inspect

    from napari.components import ViewerModel

    assert inspect.signature(ViewerModel.open).parameters["plugin"].default == "napari"
