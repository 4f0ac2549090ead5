"""What the density API accepts: annotations, JSON dicts, paths of files and of folders.

`density_map` and ``Heatmap.set_heatmap_from_annotations`` take annotations, JSON dicts, paths
of files and of dataset or project folders, alone or in a list. A file given by name must be
readable; a file found inside a folder that cannot be read is skipped and reported in one
`SuperviselyWarning`, as the napari reader does (docs/supervisely.md, decision 4).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ._annotation import Annotation
from ._folders import SuperviselyLayout, find_annotations

__all__ = ["annotation_sources", "folder_layout"]


def _is_single(obj: object) -> bool:
    single = str | os.PathLike | Mapping | Annotation | SuperviselyLayout
    return isinstance(obj, single) or hasattr(obj, "to_json")


def folder_layout(item: str | os.PathLike[str] | SuperviselyLayout, name: str) -> SuperviselyLayout:
    """Return the layout of a folder given as `name`; ValueError when it has no annotations."""
    where = item.root if isinstance(item, SuperviselyLayout) else item
    layout = item if isinstance(item, SuperviselyLayout) else find_annotations(item)
    if layout is None or not layout.items:
        raise ValueError(f"{name}: {os.fspath(where)!r} holds no Supervisely annotations")
    return layout


def annotation_sources(anns: object, name: str = "anns", *, layouts: bool = False) -> list[Any]:
    """Check what ``set_heatmap_from_annotations`` accepts and return it as a list.

    A single path, dict or annotation object counts as a list of one. Folders are checked
    (they must hold Supervisely annotations) and kept as folders, or given as the layout
    found there (`layouts`): `density_map` reads their files, skipping broken ones, and takes
    either.

    Parameters
    ----------
    anns : object
        Annotations, JSON dicts, paths (files or folders), objects with ``to_json()``, or an
        iterable of them.
    name : str
        The parameter name used in error messages.
    layouts : bool
        Return each folder as its `SuperviselyLayout` (the files found there), so that the
        folder is not listed again by whoever reads it.

    Returns
    -------
    list
        The items.

    Raises
    ------
    ValueError
        If a folder holds no Supervisely annotations.
    TypeError
        If `anns` is not an annotation, a path or an iterable of them.
    """
    if _is_single(anns):
        items: list[Any] = [anns]
    elif isinstance(anns, Iterable):
        items = list(anns)
    else:
        raise TypeError(
            f"{name} must be annotations, JSON dicts, paths (files or folders) or a list of "
            f"them; got {type(anns).__name__}"
        )
    for i, item in enumerate(items):
        if isinstance(item, SuperviselyLayout) or (
            isinstance(item, str | os.PathLike) and Path(item).is_dir()
        ):
            layout = folder_layout(item, name)
            if layouts:
                items[i] = layout
    return items
