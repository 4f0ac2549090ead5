"""What the density API accepts, read into annotations: a folder read skips broken files.

`density_map` and ``Heatmap.set_heatmap_from_annotations`` take annotations, JSON dicts, paths
of files and of dataset or project folders, alone or in a list. A file given by name must be
readable; a file found inside a folder that cannot be read is skipped and reported in one
`SuperviselyWarning`, as the napari reader does (docs/supervisely.md, decision 4).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ._annotation import Annotation, annotation_from_any
from ._errors import SuperviselyFormatError, SuperviselyWarning
from ._folders import SuperviselyLayout, find_annotations
from ._loading import ReadReport, load_layouts

__all__ = ["annotation_sources", "read_sources"]


def _is_single(obj: object) -> bool:
    return isinstance(obj, str | os.PathLike | Mapping | Annotation) or hasattr(obj, "to_json")


def _folder_layout(item: str | os.PathLike[str], name: str) -> SuperviselyLayout:
    layout = find_annotations(item)
    if layout is None or not layout.items:
        raise ValueError(f"{name}: {os.fspath(item)!r} holds no Supervisely annotations")
    return layout


def annotation_sources(anns: object, name: str = "anns") -> list[Any]:
    """Check what ``set_heatmap_from_annotations`` accepts and return it as a list.

    A single path, dict or annotation object counts as a list of one. Folders are checked
    (they must hold Supervisely annotations) and kept as folders: `read_sources` and
    `density_map` read their files, skipping broken ones.

    Parameters
    ----------
    anns : object
        Annotations, JSON dicts, paths (files or folders), objects with ``to_json()``, or an
        iterable of them.
    name : str
        The parameter name used in error messages.

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
    for item in items:
        if isinstance(item, str | os.PathLike) and Path(item).is_dir():
            _folder_layout(item, name)
    return items


def _read_folder(layout: SuperviselyLayout, out: list[Annotation]) -> str | None:
    """Append the folder's readable annotations to `out`; say which files were skipped."""
    report = ReadReport()
    out += [ann for _, ann in load_layouts([layout], report)]
    folder = os.fspath(layout.root)
    for text in report.warnings:  # a meta that could not be used
        warnings.warn(f"{folder}: {text}", SuperviselyWarning, stacklevel=4)
    skipped = report.skipped_lines()
    return f"{folder}: " + "; ".join(skipped) if skipped else None


def read_sources(annotations: object, name: str = "annotations") -> list[Annotation]:
    """Read everything `annotations` stands for (see `annotation_sources`).

    Parameters
    ----------
    annotations : object
        What `annotation_sources` accepts.
    name : str
        The parameter name used in error messages.

    Returns
    -------
    list of Annotation
        One per readable annotation, folders expanded in their layout's order.

    Raises
    ------
    ValueError
        If nothing is given, a folder holds no annotations, a file given by name is broken,
        or no file of the folders given can be read.
    TypeError
        For an unsupported input type.
    """
    out: list[Annotation] = []
    failed: list[str] = []
    for index, item in enumerate(annotation_sources(annotations, name)):
        if isinstance(item, str | os.PathLike) and Path(item).is_dir():
            skipped = _read_folder(_folder_layout(item, name), out)
            if skipped is not None:
                failed.append(skipped)
            continue
        try:
            out.append(annotation_from_any(item))
        except SuperviselyFormatError as e:
            if e.path is not None:  # a file: its name says which item it is
                raise
            label = f"{name}[{index}] ({type(item).__name__})"
            raise SuperviselyFormatError(e.reason, label, e.object_index) from e.__cause__
    if failed and not out:
        raise ValueError(
            f"{name}: none of the Supervisely annotation files could be read: " + " | ".join(failed)
        )
    for message in failed:
        warnings.warn(message, SuperviselyWarning, stacklevel=3)
    return out
