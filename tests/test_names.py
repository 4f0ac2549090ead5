"""The names napari shows for the plugin are the ones the README promises (real menus)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = " ".join(
    (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8").split()
)  # whitespace folded: the README wraps its lines

#: What napari 0.9 shows, built from the manifest's display names ('{widget} ({plugin})').
SAMPLE_ITEM = "Heatmap demo (napari-heatmap)"
WIDGET_ITEM = "Heatmap (napari-heatmap)"
READER_CHOICE = "napari-heatmap"


def _texts(menu) -> list[str]:
    return [action.text() for action in menu.actions()]


def _submenu(menu, text):
    (action,) = [a for a in menu.actions() if a.text() == text and a.menu() is not None]
    return action.menu()


@pytest.mark.gui
def test_file_and_plugins_menus_show_the_readme_names(make_napari_viewer):
    viewer = make_napari_viewer()
    samples = _submenu(viewer.window.file_menu, "Open Sample")
    assert SAMPLE_ITEM in _texts(samples)
    assert WIDGET_ITEM in _texts(viewer.window.plugins_menu)


@pytest.mark.gui
def test_the_plugins_menu_item_docks_the_widget_by_its_name(make_napari_viewer):
    viewer = make_napari_viewer()
    (action,) = [a for a in viewer.window.plugins_menu.actions() if a.text() == WIDGET_ITEM]
    action.trigger()
    from napari_heatmap._qt.widget import HeatmapWidget

    # napari names the dock the same way, and it holds our widget
    assert isinstance(viewer.window.dock_widgets[WIDGET_ITEM], HeatmapWidget)


@pytest.mark.gui
def test_the_reader_dialog_offers_the_readme_name(tmp_path, qtbot):
    from napari._qt.dialogs.qt_reader_dialog import QtReaderDialog
    from napari.plugins._npe2 import get_readers

    (tmp_path / "ds" / "ann").mkdir(parents=True)
    (tmp_path / "ds" / "ann" / "a.json").write_text(
        '{"size": {"height": 4, "width": 4}, "tags": [], "objects": []}'
    )
    readers = get_readers(str(tmp_path / "ds"))
    dialog = QtReaderDialog(pth=str(tmp_path / "ds"), readers=readers)
    qtbot.addWidget(dialog)
    choices = [button.text() for button in dialog.reader_btn_group.buttons()]
    assert READER_CHOICE in choices


def test_the_readme_uses_the_names_napari_shows():
    assert f"File ▸ Open Sample ▸ {SAMPLE_ITEM}" in README
    assert f"Plugins ▸ {WIDGET_ITEM}" in README
    assert f"choose *{READER_CHOICE}*" in README
    # no stale spelling of the old menu paths
    assert not re.search(r"Open Sample ▸ napari-heatmap ▸", README)
    assert "**Plugins ▸ Heatmap**" not in README


def test_the_launcher_docks_the_widget_under_its_manifest_name():
    from npe2 import PluginManifest

    from napari_heatmap._launcher import WIDGET_NAME

    manifest = PluginManifest.from_distribution("napari-heatmap")
    assert manifest.display_name == READER_CHOICE
    assert [w.display_name for w in manifest.contributions.widgets] == [WIDGET_NAME]
    assert [s.display_name for s in manifest.contributions.sample_data] == ["Heatmap demo"]
