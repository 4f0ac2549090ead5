"""Exceptions and warnings raised by the Supervisely reader."""

from __future__ import annotations

import os

__all__ = ["SuperviselyFormatError", "SuperviselyWarning"]


class SuperviselyFormatError(ValueError):
    """Input that is not a readable Supervisely annotation or meta.

    Parameters
    ----------
    message : str
        What is wrong.
    path : str or os.PathLike, optional
        The file the input came from, when known.
    object_index : int, optional
        Index of the offending object in the annotation's ``objects`` list.
    """

    def __init__(
        self,
        message: str,
        path: str | os.PathLike[str] | None = None,
        object_index: int | None = None,
    ) -> None:
        self.reason = message
        self.path = None if path is None else os.fspath(path)
        self.object_index = object_index
        where = []
        if self.path is not None:
            where.append(self.path)
        if object_index is not None:
            where.append(f"object {object_index}")
        super().__init__(f"{': '.join(where)}: {message}" if where else message)


class SuperviselyWarning(UserWarning):
    """Input was read leniently or drawn differently from the Supervisely SDK."""
