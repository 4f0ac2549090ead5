"""Running the launcher without a display: re-run it under Xvfb, or say plainly why not.

Qt aborts the whole process (status 134, with a message about xcb cursor libraries) when it
finds no display, so the launcher asks here first. Pure floor: no napari, no Qt.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence

__all__ = [
    "NO_DISPLAY_INTERACTIVE",
    "NO_DISPLAY_NO_XVFB",
    "XVFB_SCREEN",
    "has_display",
    "run_under_xvfb",
    "xvfb_run",
]

#: The virtual screen: larger than the window a screenshot renders (`_qt._screenshot.WINDOW_SIZE`).
XVFB_SCREEN = "-screen 0 1400x1000x24"
#: Set in the re-run process so that a broken Xvfb cannot make us re-run forever.
_GUARD = "NAPARI_HEATMAP_UNDER_XVFB"

NO_DISPLAY_NO_XVFB = (
    "no display (DISPLAY and WAYLAND_DISPLAY are unset) and no xvfb-run on PATH: "
    "--screenshot needs a display or Xvfb (Debian: apt-get install xvfb xauth)"
)
NO_DISPLAY_INTERACTIVE = (
    "no display (DISPLAY and WAYLAND_DISPLAY are unset): the napari window needs one; "
    "to render it to a file instead, add --screenshot out.png (runs under Xvfb)"
)


def has_display(env: Mapping[str, str] | None = None) -> bool:
    """Tell whether a window can be shown: ``DISPLAY`` or ``WAYLAND_DISPLAY`` is set."""
    env = os.environ if env is None else env
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def xvfb_run(env: Mapping[str, str] | None = None) -> str | None:
    """Return the ``xvfb-run`` program to re-run under, or ``None`` if there is none to use.

    ``None`` as well inside a re-run, where a missing display means Xvfb itself failed.
    """
    env = os.environ if env is None else env
    if env.get(_GUARD):
        return None
    return shutil.which("xvfb-run", path=env.get("PATH"))


def run_under_xvfb(xvfb: str, argv: Sequence[str]) -> int:
    """Run ``python -m napari_heatmap._launcher argv`` under `xvfb` and return its status."""
    command = [
        xvfb,
        "-a",
        "-s",
        XVFB_SCREEN,
        sys.executable,
        "-m",
        "napari_heatmap._launcher",
        *argv,
    ]
    return subprocess.run(command, env={**os.environ, _GUARD: "1"}, check=False).returncode
