"""Shared test set-up: real-window tests need a display (pytest-xvfb provides one)."""

from __future__ import annotations

import os

import pytest


def _have_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip the real-window tests cleanly when there is no display (no Xvfb)."""
    if _have_display():
        return
    skip = pytest.mark.skip(reason="needs a display: install Xvfb (scripts/setup.sh does)")
    for item in items:
        if "gui" in item.keywords:
            item.add_marker(skip)
