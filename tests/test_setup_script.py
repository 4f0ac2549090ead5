"""scripts/setup.sh says what it does and skips pip while the installed plugin is current."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Stands in for .venv/bin/python: logs pip calls, answers the "which napari_heatmap" probe.
FAKE_PYTHON = """#!/bin/sh
here=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$1" = "-c" ]; then
  echo "$here/src/napari_heatmap/__init__.py"
  exit 0
fi
echo "$*" >> "$here/pip-calls.log"
"""


@pytest.fixture
def clone(tmp_path):
    """A clone holding setup.sh and what it hashes, with a fake .venv and every Debian package."""
    root = tmp_path / "clone"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup.sh", root / "scripts" / "setup.sh")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    (root / "src" / "napari_heatmap").mkdir(parents=True)
    (root / "src" / "napari_heatmap" / "__init__.py").write_text('__version__ = "0.1.0"\n')
    python = root / ".venv" / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    bin_dir = tmp_path / "bin"  # dpkg-query that says every package is installed
    bin_dir.mkdir()
    (bin_dir / "dpkg-query").write_text("#!/bin/sh\necho 'install ok installed'\n")
    (bin_dir / "dpkg-query").chmod(0o755)
    return root, bin_dir


def _setup(root: Path, bin_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(
        ["bash", str(root / "scripts" / "setup.sh"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _pip_calls(root: Path) -> list[str]:
    log = root / "pip-calls.log"
    return log.read_text().splitlines() if log.exists() else []


def test_setup_installs_once_then_skips_pip_until_pyproject_changes(clone):
    root, bin_dir = clone
    first = _setup(root, bin_dir)
    assert first.returncode == 0, first.stderr
    calls = _pip_calls(root)
    assert any("install --progress-bar on -e .[dev]" in c for c in calls), calls
    # every step says what it does, so a long pip run is not silent
    assert "setup: Debian packages present" in first.stdout
    assert "setup: installing napari-heatmap (editable)" in first.stdout

    second = _setup(root, bin_dir)
    assert second.returncode == 0, second.stderr
    assert _pip_calls(root) == calls  # no pip at all
    assert "pip skipped" in second.stdout

    with open(root / "pyproject.toml", "a") as f:
        f.write("\n# a new dependency would go here\n")
    third = _setup(root, bin_dir)
    assert third.returncode == 0, third.stderr
    assert len(_pip_calls(root)) == 2 * len(calls)


def test_a_new_version_or_force_reinstalls(clone):
    root, bin_dir = clone
    assert _setup(root, bin_dir).returncode == 0
    n = len(_pip_calls(root))
    (root / "src" / "napari_heatmap" / "__init__.py").write_text('__version__ = "0.2.0"\n')
    assert _setup(root, bin_dir).returncode == 0
    assert len(_pip_calls(root)) == 2 * n
    assert _setup(root, bin_dir, "--force").returncode == 0
    assert len(_pip_calls(root)) == 3 * n


def test_a_failed_install_leaves_no_stamp(clone):
    root, bin_dir = clone
    python = root / ".venv" / "bin" / "python"
    python.write_text(FAKE_PYTHON + 'case "$*" in *"-e .[dev]"*) exit 1;; esac\n')
    assert _setup(root, bin_dir).returncode != 0
    assert not (root / ".venv" / ".napari-heatmap-installed").exists()
