"""The ``napari-heatmap`` command line: no display, unwritable outputs, input errors, --help."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from napari_heatmap._headless import XVFB_SCREEN
from napari_heatmap._launcher import IMAGE_INPUT_SUFFIXES, build_parser, main
from napari_heatmap._output import IMAGE_SUFFIXES

LAUNCHER = [sys.executable, "-m", "napari_heatmap._launcher"]


def _headless_env(tmp_path, **extra):
    """The environment of a machine with no display (and its own napari settings)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    return {**env, "NAPARI_CONFIG": str(tmp_path / "settings.yaml"), **extra}


def _run(args, env):
    return subprocess.run(
        [*LAUNCHER, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def no_display(monkeypatch, tmp_path):
    """In-process: no display and no xvfb-run, so any window attempt would fail loudly."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


# --------------------------------------------------------------------------- no display


@pytest.mark.gui  # needs Xvfb installed; pytest-xvfb's display is removed from the child
def test_screenshot_without_a_display_reruns_under_xvfb_and_renders(tmp_path):
    assert shutil.which("xvfb-run"), "scripts/setup.sh installs xvfb (xvfb-run)"
    mask = np.zeros((40, 60), np.float32)
    mask[10:30, 20:40] = 9.0
    np.save(tmp_path / "mask.npy", mask)
    out = tmp_path / "shot.png"
    proc = _run(
        ["--mask", str(tmp_path / "mask.npy"), "--screenshot", str(out)], _headless_env(tmp_path)
    )
    assert proc.returncode == 0, proc.stderr
    assert "xcb" not in proc.stderr
    shot = cv2.imread(str(out))
    assert shot is not None and shot.shape[0] >= 600 and shot.shape[1] >= 1000
    assert shot.mean() > 20  # the window was drawn, not a black frame


def test_screenshot_without_display_or_xvfb_exits_2_with_one_line(tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    out = tmp_path / "shot.png"
    proc = _run(["--screenshot", str(out)], _headless_env(tmp_path, PATH=str(empty)))
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "no display" in lines[0] and "Xvfb" in lines[0] and "xcb" not in lines[0]
    assert not out.exists()


def test_interactive_window_without_a_display_exits_2_and_says_why(tmp_path):
    proc = _run([], _headless_env(tmp_path))  # xvfb-run may well be on PATH: still refused
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "needs one" in lines[0] and "--screenshot" in lines[0]


def test_a_failed_xvfb_rerun_does_not_rerun_again(no_display, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("NAPARI_HEATMAP_UNDER_XVFB", "1")
    bin_dir = tmp_path / "xbin"
    bin_dir.mkdir()
    fake = bin_dir / "xvfb-run"
    fake.write_text("#!/bin/sh\nexit 99\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert main(["--screenshot", str(tmp_path / "s.png")]) == 2
    assert "no display" in capsys.readouterr().err


def test_xvfb_rerun_passes_the_screen_and_the_arguments(no_display, monkeypatch, tmp_path):
    bin_dir = tmp_path / "xbin"
    bin_dir.mkdir()
    log = tmp_path / "args.txt"
    fake = bin_dir / "xvfb-run"
    fake.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > {log}\nexit 7\n')
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    out = str(tmp_path / "s.png")
    assert main(["--no-widget", "--screenshot", out]) == 7  # the re-run's status is ours
    args = log.read_text().splitlines()
    assert args[:3] == ["-a", "-s", XVFB_SCREEN]
    assert args[3:] == [*LAUNCHER, "--no-widget", "--screenshot", out]


# --------------------------------------------------------------------------- outputs


@pytest.mark.parametrize(
    ("where", "says"),
    [
        ("missing/shot.png", "does not exist"),
        ("a-file/shot.png", "is not a directory"),
        ("a-dir.png", "is a directory"),
        ("shot.gif", "must end in"),
    ],
)
def test_unusable_screenshot_path_exits_2_before_any_window(
    no_display, tmp_path, capsys, where, says
):
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "a-dir.png").mkdir()
    assert main(["--screenshot", str(tmp_path / where)]) == 2
    err = capsys.readouterr().err
    # the path is refused first: with no display, a later check would say "no display"
    assert err.startswith("napari-heatmap: --screenshot: ") and says in err
    assert "no display" not in err


def test_screenshot_into_a_read_only_folder_exits_2(no_display, capsys):
    # /proc takes no new files, not even from root (chmod 555 would not stop root)
    assert main(["--screenshot", "/proc/napari-heatmap-shot.png"]) == 2
    err = capsys.readouterr().err
    assert "--screenshot" in err and "not writable" in err


# --------------------------------------------------------------------------- inputs


@pytest.mark.parametrize("option", ["--mask", "--background"])
def test_missing_input_file_has_one_wording(no_display, tmp_path, capsys, option):
    missing = tmp_path / "nope.png"
    assert main([option, str(missing)]) == 2
    err = capsys.readouterr().err
    assert err == f"napari-heatmap: {option}: no such file: {str(missing)!r}\n"


@pytest.mark.parametrize("option", ["--mask", "--background"])
def test_directory_as_input_says_it_is_a_directory(no_display, tmp_path, capsys, option):
    assert main([option, str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == f"napari-heatmap: {option}: {str(tmp_path)!r} is a directory, not a file\n"


@pytest.mark.parametrize("option", ["--mask", "--background"])
def test_unreadable_input_is_named_after_its_option(no_display, tmp_path, capsys, option):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert main([option, str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"napari-heatmap: {option}: ") and "bad.png" in err
    assert "background_image" not in err


def test_help_lists_every_suffix_the_display_and_background_alone():
    text = build_parser().format_help()
    for suffix in (".npy", *IMAGE_INPUT_SUFFIXES, *IMAGE_SUFFIXES):
        assert suffix in text, suffix
    assert "DISPLAY" in text and "Xvfb" in text and "xvfb-run" in text
    assert "--background alone shows just the image" in text and "without values" in text


@pytest.mark.parametrize("suffix", IMAGE_INPUT_SUFFIXES)
def test_every_listed_input_suffix_opens_as_background_and_mask(tmp_path, suffix):
    from napari_heatmap._background import load_background
    from napari_heatmap._launcher import load_mask

    picture = np.zeros((16, 24, 3), np.uint8)
    picture[4:12, 6:18] = 255
    path = tmp_path / f"pic{suffix}"
    ok, buf = cv2.imencode(suffix, picture[..., 0] if suffix in (".pbm", ".pgm") else picture)
    assert ok
    path.write_bytes(buf.tobytes())
    assert load_background(path).shape[:2] == (16, 24)
    mask = load_mask(path)
    assert mask.shape == (16, 24) and mask[8, 12] > mask[0, 0]
