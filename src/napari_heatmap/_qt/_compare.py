"""The dock's *Compare* panel: the difference of two heatmaps, several side by side.

A view over :func:`~napari_heatmap.difference` and :func:`~napari_heatmap.side_by_side`:
it lists the viewer's heatmaps by layer name, calls those functions and keeps nothing but
the last arrangement, so that *Undo* can put the heatmaps back.
"""

from __future__ import annotations

import logging
from typing import Any

from magicgui.widgets import ComboBox, Container, Label, PushButton, Select
from napari.utils.notifications import show_error
from qtpy.QtCore import QTimer

from .. import _registry
from .._compare import Arrangement, difference, side_by_side
from .._heatmap import Heatmap

__all__ = ["ComparePanel"]

logger = logging.getLogger(__name__)


class ComparePanel(Container):
    """Pick two heatmaps for their difference, or several to put side by side.

    Parameters
    ----------
    viewer : napari.Viewer or ViewerModel
        The viewer whose heatmaps are listed.
    """

    def __init__(self, viewer: Any) -> None:
        self.viewer = getattr(viewer, "__wrapped__", viewer)
        self.arrangement: Arrangement | None = None
        self._closed = False
        self.first = ComboBox(label="a", choices=self._choices, tooltip="the heatmap a of a − b")
        self.second = ComboBox(label="b", choices=self._choices, tooltip="the heatmap b of a − b")
        self.difference_button = PushButton(
            text="Difference", tooltip="a new heatmap of a − b over a, centred on 0"
        )
        self.row = Select(
            label="row",
            choices=self._choices,
            tooltip="heatmaps to put side by side, left to right in list order",
        )
        self.row.native.setMaximumHeight(90)
        self.side_by_side_button = PushButton(
            text="Side by side", tooltip="place the chosen heatmaps in a row (one zoom and pan)"
        )
        self.undo_button = PushButton(text="Undo", tooltip="put them back where they were")
        buttons = Container(
            widgets=[self.side_by_side_button, self.undo_button], layout="horizontal", labels=False
        )
        buttons.margins = (0, 0, 0, 0)
        super().__init__(
            widgets=[
                Label(value="Compare heatmaps"),
                self.first,
                self.second,
                self.difference_button,
                self.row,
                buttons,
            ]
        )
        self.margins = (0, 0, 0, 0)
        self.difference_button.changed.connect(self._on_difference)
        self.side_by_side_button.changed.connect(self._on_side_by_side)
        self.undo_button.changed.connect(self._on_undo)
        events = self.viewer.layers.events
        for emitter in (events.inserted, events.removed, events.renamed):
            emitter.connect(self._on_layers_changed)
        self.native.destroyed.connect(self._cleanup)
        self._refresh()

    def _choices(self, _: Any = None) -> list[tuple[str, Heatmap]]:
        """Return the viewer's open heatmaps that have a mask, by their layer's name."""
        # the registry's list as it is: adopting layers is the dock's and the watcher's job
        return [
            (hm.heatmap_layer.name, hm)
            for hm in _registry.heatmaps(self.viewer)
            if hm.heatmap_layer is not None
        ]

    def _on_layers_changed(self, event: Any = None) -> None:
        # a Heatmap registers itself after adding its layers: list them once it is done
        QTimer.singleShot(0, self._refresh)

    def _refresh(self) -> None:
        if self._closed:
            return
        for picker in (self.first, self.second, self.row):
            with picker.changed.blocked():
                picker.reset_choices()
        count = len(self.first.choices)
        if count > 1 and self.second.value is self.first.value:
            with self.second.changed.blocked():
                self.second.value = self.first.choices[1]
        self.difference_button.enabled = count > 1
        self.side_by_side_button.enabled = count > 1
        if self.arrangement is not None and all(
            hm.viewer is None for hm in self.arrangement.heatmaps
        ):
            self.arrangement = None  # nothing left to put back: let go of the heatmaps
        self.undo_button.enabled = self.arrangement is not None

    def _on_difference(self, _: Any = None) -> None:
        a, b = self.first.value, self.second.value
        if a is None or b is None:
            show_error("napari-heatmap: pick two heatmaps, a and b, for their difference")
            return
        self._run(difference, a, b)

    def _on_side_by_side(self, _: Any = None) -> None:
        chosen = list(self.row.value)
        if len(chosen) < 2:
            show_error("napari-heatmap: pick at least two heatmaps to put side by side")
            return
        order = [hm for _, hm in self._choices()]  # left to right as listed
        chosen.sort(key=lambda hm: order.index(hm) if hm in order else len(order))
        arrangement = self._run(side_by_side, *chosen)
        if arrangement is not None:
            self.arrangement = arrangement
        self._refresh()

    def _on_undo(self, _: Any = None) -> None:
        arrangement, self.arrangement = self.arrangement, None
        if arrangement is not None:
            self._run(arrangement.restore)
        self._refresh()

    def _run(self, func: Any, *args: Any) -> Any:
        """Call a comparison for the user: a refusal or a bug is shown, never raised."""
        try:
            return func(*args)
        except (ValueError, TypeError, RuntimeError) as exc:
            show_error(f"napari-heatmap: {exc}")
        except Exception as exc:
            logger.exception("napari-heatmap compare panel: %s failed", func)
            show_error(f"napari-heatmap: comparing failed: {exc!r}")
        return None

    def _cleanup(self, *_: Any) -> None:
        """Let go of the viewer's events (the panel's Qt widget is gone). Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        events = self.viewer.layers.events
        for emitter in (events.inserted, events.removed, events.renamed):
            emitter.disconnect(self._on_layers_changed)
