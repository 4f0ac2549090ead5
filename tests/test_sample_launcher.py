"""File > Open Sample opens a ready heatmap; the ``napari-heatmap`` command and its errors."""

from __future__ import annotations

import os
import subprocess
import sys

import cv2
import numpy as np
import pytest

from _canvas import click_canvas
from _imports import QT, assert_fresh_interpreter_loads_none_of
from napari_heatmap import Heatmap
from napari_heatmap._launcher import load_mask, main
from napari_heatmap._layers import layer_contrast_limits
from napari_heatmap._output import WINDOW_SIZE
from napari_heatmap._sample import DEMO_OPACITY, demo_data, make_demo_sample


def test_sample_function_returns_layer_data_without_a_viewer(monkeypatch):
    monkeypatch.setattr("napari.current_viewer", lambda: None)
    (bg, bg_kw, bg_type), (field, hm_kw, hm_type) = make_demo_sample()
    background, mask = demo_data()
    np.testing.assert_array_equal(bg, background)
    assert (bg_type, hm_type) == ("image", "image") and bg_kw["rgb"] is True
    assert field.shape == mask.shape and field.dtype == np.float32
    assert hm_kw["contrast_limits"] == layer_contrast_limits((0.0, 255.0))
    assert hm_kw["opacity"] == DEMO_OPACITY / 100
    bg_meta, hm_meta = bg_kw["metadata"]["napari_heatmap"], hm_kw["metadata"]["napari_heatmap"]
    assert bg_meta["token"] == hm_meta["token"] and hm_meta["role"] == "heatmap"
    np.testing.assert_array_equal(hm_meta["mask"], mask)  # the raw values clicks report


@pytest.mark.gui
def test_open_sample_gives_a_ready_heatmap_that_answers_clicks(make_napari_viewer, qtbot):
    viewer = make_napari_viewer(strict_qt="raise", show=True)
    added = viewer.open_sample("napari-heatmap", "demo")
    (hm,) = Heatmap.instances(viewer)
    assert list(viewer.layers) == added == [hm.background_layer, hm.heatmap_layer]
    assert hm.opacity == DEMO_OPACITY and hm.heatmap_layer.opacity == pytest.approx(0.7)
    assert hm.limits == (0.0, 255.0) and hm.transparent_low and hm.blur_ksize == (7, 7)
    seen = []
    hm.click(lambda y, x, v: seen.append((y, x, v)))
    viewer.reset_view()
    click_canvas(viewer, (133.0, 200.0))
    assert len(seen) == 1
    y, x, value = seen[0]
    assert abs(y - 133) <= 2 and abs(x - 200) <= 2
    assert value == pytest.approx(float(demo_data()[1][y, x]))
    assert hm.marker_layer is not None and hm.marker_layer in viewer.layers
    # the widget docked afterwards drives this very heatmap
    _, widget = viewer.window.add_plugin_dock_widget("napari-heatmap", "Heatmap")
    assert widget.heatmap is hm


@pytest.mark.gui
def test_opening_the_sample_twice_gives_two_independent_heatmaps(make_napari_viewer):
    viewer = make_napari_viewer(strict_qt="raise")
    viewer.open_sample("napari-heatmap", "demo")
    viewer.open_sample("napari-heatmap", "demo")
    first, second = Heatmap.instances(viewer)
    assert len(viewer.layers) == 4
    assert {id(layer) for layer in first.layers}.isdisjoint(id(layer) for layer in second.layers)
    # one watcher per viewer, however many samples were opened
    assert (
        len(
            [
                cb
                for cb in viewer.layers.events.inserted.callbacks
                if isinstance(cb, tuple) and cb[1] == "on_inserted"
            ]
        )
        == 1
    )


def test_load_mask_reads_npy_and_images_as_gray(tmp_path):
    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.save(tmp_path / "m.npy", values)
    np.testing.assert_array_equal(load_mask(tmp_path / "m.npy"), values)
    rgb = np.zeros((5, 6, 3), np.uint16)
    rgb[..., 1] = 1000
    cv2.imwrite(str(tmp_path / "m.png"), rgb)
    gray = load_mask(tmp_path / "m.png")
    assert gray.shape == (5, 6) and gray.dtype == np.uint16 and gray.max() > 0
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match="mask: cannot read"):
        load_mask(tmp_path / "bad.png")


@pytest.mark.parametrize("option", ["--mask", "--background"])
def test_launcher_missing_file_exits_2_with_a_message(tmp_path, capsys, option):
    missing = tmp_path / "nope.png"
    assert main([option, str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("napari-heatmap: ") and "nope.png" in err


@pytest.mark.gui
def test_launcher_screenshot_writes_the_window_and_exits(tmp_path):
    out = tmp_path / "shot.png"
    mask = np.zeros((30, 40), np.float32)
    mask[10:20, 10:30] = 5.0
    np.save(tmp_path / "mask.npy", mask)
    background = np.full((60, 80, 3), 40, np.uint8)
    cv2.imwrite(str(tmp_path / "bg.png"), background)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "napari_heatmap._launcher",
            "--background",
            str(tmp_path / "bg.png"),
            "--mask",
            str(tmp_path / "mask.npy"),
            "--screenshot",
            str(out),
        ],
        env={**os.environ, "NAPARI_CONFIG": str(tmp_path / "settings.yaml")},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    shot = cv2.imread(str(out))
    # the window has the size asked for (napari's show() sizes a window to the screen: a
    # resize before it was undone, and the canvas was a strip between the docks)
    assert shot is not None and shot.shape[1] == WINDOW_SIZE[0]
    assert shot.shape[0] >= WINDOW_SIZE[1]  # the dock may make the window taller
    assert shot.mean() > 20  # not black: the window with its panels was drawn
    # the docked widget is in the picture: the right part is not empty canvas
    assert shot[:, int(shot.shape[1] * 0.8) :].std() > 10


@pytest.mark.gui
def test_launcher_screenshot_as_jpeg_and_bad_suffix(tmp_path):
    np.save(tmp_path / "mask.npy", np.eye(20, dtype=np.float32))
    run = [sys.executable, "-m", "napari_heatmap._launcher", "--mask", str(tmp_path / "mask.npy")]
    env = {**os.environ, "NAPARI_CONFIG": str(tmp_path / "settings.yaml")}
    out = tmp_path / "shot.jpg"
    proc = subprocess.run(
        [*run, "--screenshot", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    shot = cv2.imread(str(out))
    assert shot is not None and shot.mean() > 20
    proc = subprocess.run(
        [*run, "--screenshot", str(tmp_path / "shot.gif")],
        env=env,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert proc.returncode == 2 and "--screenshot: " in proc.stderr and "must end in" in proc.stderr


@pytest.mark.gui
def test_create_from_a_stretched_layer_keeps_it_in_place(make_napari_viewer):
    from napari_heatmap._qt.widget import HeatmapWidget

    viewer = make_napari_viewer()
    density = viewer.add_image(np.ones((8, 10)), scale=(2.0, 3.0), translate=(0.5, 1.0))
    widget = HeatmapWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Heatmap")  # as the Plugins menu docks it
    widget.mask_choice.value = density
    widget.create_button.clicked.emit()
    hm = Heatmap.instances(viewer)[-1]
    assert hm.frame == (16.0, 30.0)
    np.testing.assert_allclose(hm.heatmap_layer.scale, density.scale)
    np.testing.assert_allclose(hm.heatmap_layer.translate, density.translate)


def test_session_sample_and_launcher_import_no_qt():
    assert_fresh_interpreter_loads_none_of(
        "import napari_heatmap._session, napari_heatmap._sample, napari_heatmap._launcher", QT
    )


def test_load_mask_checks_the_pixel_budget_before_decoding(tmp_path):
    import zlib

    # a PNG header claiming 100000 × 100000 pixels: refused from the header alone
    def chunk(kind, data):
        return (
            len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
        )

    ihdr = (100_000).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")
    (tmp_path / "bomb.png").write_bytes(bomb)
    with pytest.raises(ValueError, match="mask: .* is too large"):
        load_mask(tmp_path / "bomb.png")
