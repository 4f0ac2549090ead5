"""The installed distribution's npe2 manifest is valid and every command imports."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import napari_heatmap


def test_npe2_validate_with_imports():
    npe2 = Path(sys.executable).with_name("npe2")
    res = subprocess.run(
        [str(npe2), "validate", "napari-heatmap", "--imports"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "valid" in res.stdout.lower()


def test_manifest_commands_point_at_public_names():
    from npe2 import PluginManifest

    manifest = PluginManifest.from_distribution("napari-heatmap")
    assert manifest.name == "napari-heatmap"
    for command in manifest.contributions.commands:
        module, _, name = command.python_name.partition(":")
        assert module == "napari_heatmap"
        assert name in napari_heatmap.__all__
        assert command.id.startswith("napari-heatmap.")


def test_top_level_manifest_is_a_link_to_the_package_one():
    root = Path(__file__).resolve().parents[1]
    link = root / "napari.yaml"
    assert link.is_symlink()
    assert link.resolve() == (root / "src" / "napari_heatmap" / "napari.yaml").resolve()
