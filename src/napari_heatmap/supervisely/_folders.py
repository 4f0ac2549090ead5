"""Discovery of annotation files: a single file, a dataset folder or a project folder.

Layout (docs/supervisely.md): a project holds ``meta.json`` (legacy: ``classes.json``) and
dataset folders; a dataset holds ``ann/`` and optionally ``img/``; nested datasets live in
``<dataset>/datasets/<child>/`` at any depth. An annotation is named ``<image name>.json``
(legacy: ``<image stem>.json``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ._jsonio import sniff_kind
from ._meta import META_NAMES, find_meta_for

__all__ = ["AnnotationItem", "SuperviselyLayout", "find_annotations", "is_supervisely_json"]

#: Folder names inside a dataset that are never datasets themselves.
SERVICE_FOLDERS = frozenset({"img", "ann", "img_info", "seg", "meta", "datasets", "blob"})


@dataclass(frozen=True)
class AnnotationItem:
    """One annotation file and the image it belongs to.

    Attributes
    ----------
    ann_path : pathlib.Path
        The annotation JSON file.
    image_path : pathlib.Path or None
        The image in the dataset's ``img/`` folder, when present.
    dataset : str
        Dataset name; nested datasets are joined with ``/`` (``""`` for a lone file).
    name : str
        Item name: the annotation file name without ``.json``.
    """

    ann_path: Path
    image_path: Path | None
    dataset: str
    name: str


@dataclass(frozen=True)
class SuperviselyLayout:
    """What a path holds.

    Attributes
    ----------
    kind : {"file", "dataset", "project"}
        A single annotation file, a dataset folder or a project folder.
    root : pathlib.Path
        The path given (for ``ann/`` folders: the dataset folder).
    meta_path : pathlib.Path or None
        The project meta file, when there is one.
    items : list of AnnotationItem
        The annotations, datasets in name order, items in file name order.
    """

    kind: Literal["file", "dataset", "project"]
    root: Path
    meta_path: Path | None
    items: list[AnnotationItem] = field(default_factory=list)


def is_supervisely_json(path: str | os.PathLike[str]) -> bool:
    """Tell whether `path` is a Supervisely annotation or project meta JSON file.

    Declines cheaply (extension, first bytes); a large file is judged by its first megabyte.

    Parameters
    ----------
    path : str or os.PathLike
        A file path.

    Returns
    -------
    bool
        True for an annotation (``size`` with ``height``/``width`` and an ``objects`` list) or a
        meta (``classes`` list, or a legacy bare list of classes).
    """
    return sniff_kind(path) is not None


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    """List the entries of `folder` in name order (as ``sorted(folder.iterdir())`` does)."""
    with os.scandir(folder) as it:
        return sorted(it, key=lambda e: e.name)


def _real_of(entry: os.DirEntry[str], real_folder: str) -> str:
    """Return the real path of an entry: `real_folder` joined with its name, unless a symlink.

    The same as ``os.path.realpath(entry.path)`` (a path resolves component by component), at
    the cost of one ``realpath`` per folder rather than one per file.
    """
    if entry.is_symlink():
        return os.path.realpath(entry.path)
    return os.path.join(real_folder, entry.name)


#: An annotation item and the real path of its file (what `_once` compares).
_Found = tuple[AnnotationItem, str]


def _dataset_items(folder: Path, dataset: str) -> list[_Found]:
    """Annotations of one dataset folder, paired with images of ``img/``.

    When ``img/`` holds images only their annotations count (as in the SDK); an image without
    an annotation is skipped. Otherwise every ``ann/*.json`` counts.
    """
    ann_dir, img_dir = folder / "ann", folder / "img"
    if not ann_dir.is_dir():
        return []
    anns = [e for e in _entries(ann_dir) if e.is_file()]
    real_dir = os.path.realpath(ann_dir)
    images = (
        [Path(e.path) for e in _entries(img_dir) if e.is_file() and not e.name.startswith(".")]
        if img_dir.is_dir()
        else []
    )
    if not images:
        return [
            (AnnotationItem(Path(e.path), None, dataset, e.name[: -len(".json")]), real)
            for e in anns
            if not e.name.startswith(".") and e.name.lower().endswith(".json")
            for real in (_real_of(e, real_dir),)
        ]
    by_name = {e.name: e for e in anns}
    items = []
    for image in images:
        for candidate in (f"{image.name}.json", f"{image.stem}.json"):
            entry = by_name.get(candidate)
            if entry is not None:
                item = AnnotationItem(ann_dir / candidate, image, dataset, image.name)
                items.append((item, _real_of(entry, real_dir)))
                break
    return items


def _real(path: Path) -> str:
    """Return the path with every symlink resolved (never raises for a loop)."""
    return os.path.realpath(path)


def _datasets(folder: Path, prefix: str, seen: set[str]) -> list[tuple[Path, str]]:
    """Dataset folders under `folder` (non-service sub-folders), nested ones after parents.

    A folder reached again through a symlink (``datasets/child -> ..``) is skipped: `seen`
    holds the real paths of the folders visited so far.
    """
    out = []
    real_folder = _real(folder)
    for entry in _entries(folder):
        if not entry.is_dir() or entry.name.startswith(".") or entry.name in SERVICE_FOLDERS:
            continue
        real = _real_of(entry, real_folder)
        if real in seen:
            continue
        seen.add(real)
        sub = Path(entry.path)
        name = f"{prefix}{sub.name}"
        out.append((sub, name))
        nested = sub / "datasets"
        if nested.is_dir():
            out.extend(_datasets(nested, f"{name}/", seen))
    return out


def _once(found: list[_Found]) -> list[AnnotationItem]:
    """Keep the first item of each annotation file (by real path): every file counts once."""
    unique: dict[str, AnnotationItem] = {}
    for item, real in found:
        unique.setdefault(real, item)
    return list(unique.values())


def _dataset_tree_items(folder: Path) -> list[AnnotationItem]:
    """Annotations of a dataset folder and of the datasets nested in its ``datasets/``.

    A dataset may hold nothing itself and everything in its children.
    """
    found = _dataset_items(folder, folder.name)
    nested = folder / "datasets"
    if nested.is_dir():
        for sub, name in _datasets(nested, f"{folder.name}/", {_real(folder)}):
            found += _dataset_items(sub, name)
    return _once(found)


def find_annotations(path: str | os.PathLike[str]) -> SuperviselyLayout | None:
    """Find the annotation files of a file, dataset folder or project folder.

    Parameters
    ----------
    path : str or os.PathLike
        An annotation JSON file; a dataset folder (holding ``ann/`` or nested ``datasets/``,
        whose annotations count too) or its ``ann/`` folder; or a project folder
        (``meta.json``/``classes.json`` plus datasets).

    Returns
    -------
    SuperviselyLayout or None
        The layout, or ``None`` when `path` is none of these.
    """
    p = Path(path)
    if p.is_file():
        if sniff_kind(p) != "annotation":
            return None
        dataset_dir = p.parent.parent if p.parent.name == "ann" else None
        image = None
        name = p.name[: -len(".json")] if p.name.lower().endswith(".json") else p.stem
        if dataset_dir is not None and (dataset_dir / "img").is_dir():
            for candidate in (
                dataset_dir / "img" / name,
                *sorted((dataset_dir / "img").glob(f"{_glob_escape(name)}.*")),
            ):
                if candidate.is_file():
                    image = candidate
                    break
        dataset = dataset_dir.name if dataset_dir is not None else ""
        return SuperviselyLayout(
            "file", p, find_meta_for(p), [AnnotationItem(p, image, dataset, name)]
        )
    if not p.is_dir():
        return None
    if p.name == "ann" and not (p / "ann").is_dir():
        p = p.parent
    meta = next((p / n for n in META_NAMES if (p / n).is_file()), None)
    if (p / "ann").is_dir() or (meta is None and (p / "datasets").is_dir()):
        return SuperviselyLayout("dataset", p, find_meta_for(p), _dataset_tree_items(p))
    datasets = _datasets(p, "", {_real(p)})
    items = _once([found for folder, name in datasets for found in _dataset_items(folder, name)])
    if meta is None and not items:
        return None
    return SuperviselyLayout("project", p, meta, items)


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)
