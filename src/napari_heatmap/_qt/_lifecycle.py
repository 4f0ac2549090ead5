"""Notice when napari takes a docked widget out of its dock (``remove_dock_widget``).

napari orphans the inner widget (``setParent(None)``) and deletes only the dock, and a
docked widget never receives ``closeEvent``; this filter reports the orphaning so the
widget can close itself instead of lingering as a hidden top-level window.
"""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import QEvent, QObject

__all__ = ["OrphanWatcher"]


class OrphanWatcher(QObject):
    """Call ``on_orphaned()`` when the watched widget loses the parent it had."""

    def __init__(self, widget: QObject, on_orphaned: Callable[[], object]) -> None:
        super().__init__(widget)
        self._widget = widget
        self._on_orphaned = on_orphaned
        self._had_parent = widget.parent() is not None
        widget.installEventFilter(self)

    def eventFilter(self, obj: QObject | None, event: QEvent | None) -> bool:
        """Watch the widget's parent changes (Qt API)."""
        if obj is self._widget and event is not None and event.type() == QEvent.Type.ParentChange:
            if obj.parent() is not None:
                self._had_parent = True
            elif self._had_parent:
                self._had_parent = False
                self._on_orphaned()
        return False

    def stop(self) -> None:
        """Stop watching."""
        self._widget.removeEventFilter(self)
