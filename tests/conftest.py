"""Shared test set-up: real-window tests need a display (pytest-xvfb provides one)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def viewer():
    """A Qt-free napari ViewerModel; its heatmaps are closed afterwards."""
    from napari.components import ViewerModel

    from napari_heatmap import Heatmap

    v = ViewerModel()
    yield v
    for hm in Heatmap.instances(v):
        hm.close()


@pytest.fixture
def make_napari_viewer(make_napari_viewer):
    """napari's viewer factory, strict about leaked Qt widgets for every test (not opt-in)."""

    def factory(*args, strict_qt="raise", **kwargs):
        return make_napari_viewer(*args, strict_qt=strict_qt, **kwargs)

    return factory


@pytest.fixture
def notifications(monkeypatch):
    """The messages napari would show the user (info, warnings, errors), as strings."""
    from napari.utils.notifications import notification_manager

    shown: list[str] = []
    monkeypatch.setattr(notification_manager, "dispatch", lambda n: shown.append(str(n.message)))
    return shown


@pytest.fixture
def progress_bars(monkeypatch):
    """The napari progress bars made from now on (napari.utils.progress, spied on)."""
    import napari.utils

    made: list = []
    real = napari.utils.progress

    def spy(*args, **kwargs):
        bar = real(*args, **kwargs)
        made.append(bar)
        return bar

    monkeypatch.setattr(napari.utils, "progress", spy)
    return made


@pytest.fixture
def plugin(npe2pm):
    """An isolated npe2 plugin manager holding only the installed napari-heatmap manifest."""
    from npe2 import PluginManifest

    npe2pm.register(PluginManifest.from_distribution("napari-heatmap"))
    return npe2pm


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
