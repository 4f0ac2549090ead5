"""Shared check that a module keeps to its floor: what a fresh interpreter has imported."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable

#: The Qt bindings (and qtpy over them): the pure and napari-model floors import none.
QT = ("qtpy", "PyQt5", "PyQt6", "PySide2", "PySide6")
#: napari and its drawing stack: the pure floor imports none.
NAPARI = ("napari", "vispy")


def assert_fresh_interpreter_loads_none_of(code: str, roots: Iterable[str]) -> None:
    """Run `code` in a new interpreter; fail if it imported a module under one of `roots`."""
    check = (
        f"{code}\nimport sys\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {tuple(roots)!r})\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    res = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, timeout=120, check=False
    )
    assert res.returncode == 0, res.stdout + res.stderr
