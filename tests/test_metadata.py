"""Licence, version and napari hub files: written once, shipped with the distribution."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import yaml

import napari_heatmap

ROOT = Path(__file__).resolve().parents[1]


PYPROJECT = (ROOT / "pyproject.toml").read_text(encoding="utf-8")  # tomllib needs 3.11


def test_the_version_is_written_once_and_the_installed_one_follows_it():
    assert not re.search(r"^version\s*=", PYPROJECT, re.MULTILINE)
    assert re.search(r'^dynamic = \["version"\]', PYPROJECT, re.MULTILINE)
    assert '[tool.hatch.version]\npath = "src/napari_heatmap/__init__.py"' in PYPROJECT
    versions = re.findall(
        r"__version__\s*=",
        "".join(p.read_text(encoding="utf-8") for p in (ROOT / "src").rglob("*.py")),
    )
    assert len(versions) == 1
    assert importlib.metadata.version("napari-heatmap") == napari_heatmap.__version__


def test_the_licence_is_bsd_3_clause_and_ships_in_the_distribution():
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("BSD 3-Clause License")
    assert "Copyright (c) 2026, napari-heatmap developers" in text
    dist = importlib.metadata.distribution("napari-heatmap")
    assert dist.metadata["License-Expression"] == "BSD-3-Clause"
    shipped = [f for f in dist.files or [] if f.name == "LICENSE"]
    assert shipped and shipped[0].read_text(encoding="utf-8") == text


def test_napari_hub_files_describe_the_plugin_without_invented_urls():
    config = yaml.safe_load((ROOT / ".napari-hub" / "config.yml").read_text(encoding="utf-8"))
    assert "Supervisely" in config["summary"]
    assert config["authors"] == [{"name": "napari-heatmap developers"}]
    assert "project_urls" not in config and "[project.urls]" not in PYPROJECT
    description = (ROOT / ".napari-hub" / "DESCRIPTION.md").read_text(encoding="utf-8")
    # the same menu names as napari shows (see test_names.py)
    assert "Open Sample ▸ Heatmap demo (napari-heatmap)" in description
    assert "Plugins ▸ Heatmap (napari-heatmap)" in description
