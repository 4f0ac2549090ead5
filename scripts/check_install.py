"""Install napari-heatmap the way napari's plugin manager does, and check what a user then sees.

napari's plugin manager installs a plugin with pip, from a name, a URL or a file. This script
builds the wheel and the sdist of this clone, installs the wheel into a fresh virtual
environment together with napari, and checks there that:

- the wheel carries the licence and the manifest, and ``npe2 validate --imports`` passes;
- napari's real menus list the sample and the dock widget, npe2 offers the reader and the
  writer, and the sample opens as a live heatmap (a shown window, under Xvfb without a display);
- with ``--opencv-python``: the same still holds after ``pip install opencv-python`` (the GUI
  build of OpenCV a user may already have beside our ``opencv-python-headless``).

Usage: ``python scripts/check_install.py [--opencv-python] [--keep DIR]``. Prints one line per
check and exits 1 when one fails. It downloads napari and its dependencies from PyPI (pip's
cache makes a second run quick).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Run inside the fresh environment: napari's menus and npe2's contributions, one per line.
PROBE = r"""
import napari
from npe2 import PluginManager

viewer = napari.Viewer(show=True)
window = viewer.window

def walk(menu, path):
    for action in menu.actions():
        text = action.text().replace("&", "")
        if action.menu():
            yield from walk(action.menu(), f"{path}{text} > ")
        elif text:
            yield f"{path}{text}"

for entry in [*walk(window.file_menu, "File > "), *walk(window.plugins_menu, "Plugins > ")]:
    if "heatmap" in entry.lower():
        print("menu:", entry)
pm = PluginManager.instance()
for writer in pm.iter_compatible_writers(["image"]):
    if writer.command.startswith("napari-heatmap"):
        print("writer:", writer.display_name, *writer.filename_extensions)
for reader in pm.iter_compatible_readers(["annotation.json"]):
    if reader.command.startswith("napari-heatmap"):
        print("reader:", reader.command)
viewer.open_sample("napari-heatmap", "demo")
from napari_heatmap import Heatmap

(heatmap,) = Heatmap.instances(viewer)
print("sample: live heatmap, click value", heatmap.click_at((133, 200))[2] > 200)
viewer.close()
"""

EXPECTED = (
    "menu: File > Open Sample > Heatmap demo (napari-heatmap)",
    "menu: Plugins > Heatmap (napari-heatmap)",
    "writer: Heatmap picture .png",
    "reader: napari-heatmap.get_reader",
    "sample: live heatmap, click value True",
)


def run(*cmd: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, env=env, check=False
    )


def check(ok: bool, what: str, detail: str = "") -> bool:
    print(f"{'ok  ' if ok else 'FAIL'} {what}" + (f"\n{detail}" if detail and not ok else ""))
    return ok


def probe(python: Path, label: str) -> bool:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    cmd: list[str | Path] = [python, "-c", PROBE]
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1400x1000x24", *cmd]
    res = run(*cmd, env=env)
    lines = set(res.stdout.splitlines())
    good = res.returncode == 0
    for line in EXPECTED:
        good &= check(line in lines, f"{label}: {line}", res.stdout + res.stderr[-2000:])
    return good


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--opencv-python",
        action="store_true",
        help="also check beside opencv-python (the GUI build of OpenCV)",
    )
    parser.add_argument("--keep", type=Path, help="build and install in this folder, keep it")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="napari-heatmap-install-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        dist, env = work / "dist", work / "env"
        res = run(sys.executable, "-m", "build", "--outdir", dist, ROOT)
        if not check(res.returncode == 0, "python -m build: wheel and sdist", res.stderr[-2000:]):
            return 1
        (wheel,) = dist.glob("*.whl")
        names = zipfile.ZipFile(wheel).namelist()
        good = check(any(n.endswith("licenses/LICENSE") for n in names), "wheel carries LICENSE")
        good &= check("napari_heatmap/napari.yaml" in names, "wheel carries napari.yaml")
        good &= check(len(list(dist.glob("*.tar.gz"))) == 1, "sdist built")
        res = run(sys.executable, "-m", "venv", env)
        python = env / "bin" / "python"
        res = run(python, "-m", "pip", "install", "-q", "napari[pyqt6]", wheel)
        if not check(
            res.returncode == 0,
            "pip install napari[pyqt6] + the wheel into a fresh venv",
            res.stderr[-2000:],
        ):
            return 1
        res = run(env / "bin" / "npe2", "validate", "napari-heatmap", "--imports")
        good &= check(
            res.returncode == 0, "npe2 validate napari-heatmap --imports", res.stdout + res.stderr
        )
        good &= probe(python, "fresh napari")
        if args.opencv_python:
            res = run(python, "-m", "pip", "install", "-q", "opencv-python")
            good &= check(
                res.returncode == 0, "pip install opencv-python beside it", res.stderr[-2000:]
            )
            good &= probe(python, "with opencv-python")
        return 0 if good else 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
