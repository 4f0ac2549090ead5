"""The plugin-manager path: the wheel installed into a fresh environment with napari (and beside
opencv-python) shows every contribution in napari's real menus (scripts/check_install.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "check_install.py"


@pytest.mark.gui
def test_wheel_installs_into_fresh_napari_and_shows_every_contribution():
    res = subprocess.run(
        [sys.executable, str(SCRIPT), "--opencv-python"],
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    report = res.stdout + res.stderr
    assert res.returncode == 0, report
    for line in (
        "npe2 validate napari-heatmap --imports",
        "wheel carries LICENSE",
        "with opencv-python: sample: live heatmap, click value True",
    ):
        assert f"ok   {line}" in report, report
