"""Project meta: object classes, their shapes, colours and keypoint templates."""

from __future__ import annotations

import functools
import os
import re
import warnings
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import SuperviselyFormatError, SuperviselyWarning
from ._jsonio import read_json, sniff_kind

__all__ = [
    "CUBOID_2D_EDGES",
    "CUBOID_2D_VERTICES",
    "GEOMETRY_TYPES",
    "ObjClass",
    "ProjectMeta",
    "default_color",
    "find_meta_for",
    "load_meta",
]

#: Geometry names of image projects that this package draws (anything else is ``any``).
GEOMETRY_TYPES = frozenset(
    {
        "point",
        "rectangle",
        "polygon",
        "line",
        "bitmap",
        "alpha_mask",
        "graph",
        "cuboid_2d",
        "cuboid",
        "oriented_bbox",
        "multipolygon",
        "any",
    }
)

#: The eight vertex names of a 2-D cuboid, face 1 then face 2, clockwise from top-left.
CUBOID_2D_VERTICES = (
    "face1-topleft",
    "face1-topright",
    "face1-bottomright",
    "face1-bottomleft",
    "face2-topleft",
    "face2-topright",
    "face2-bottomright",
    "face2-bottomleft",
)


def _cuboid_2d_edges() -> tuple[tuple[str, str], ...]:
    face1, face2 = CUBOID_2D_VERTICES[:4], CUBOID_2D_VERTICES[4:]
    rings = [(face[i], face[(i + 1) % 4]) for face in (face1, face2) for i in range(4)]
    return (*rings, *zip(face1, face2, strict=True))


#: The twelve edges the SDK synthesises for every ``cuboid_2d`` class.
CUBOID_2D_EDGES = _cuboid_2d_edges()

_HEX = re.compile(r"^#[0-9A-Fa-f]{6}$")
_PALETTE = (
    (255, 59, 48),
    (52, 199, 89),
    (0, 122, 255),
    (255, 149, 0),
    (175, 82, 222),
    (90, 200, 250),
    (255, 204, 0),
    (255, 45, 85),
)


def default_color(name: str) -> tuple[int, int, int]:
    """Return a stable colour for a class that has none (or is missing from the meta)."""
    return _PALETTE[zlib.crc32(name.encode("utf-8")) % len(_PALETTE)]


def _parse_hex(value: Any) -> tuple[int, int, int] | None:
    if isinstance(value, str) and _HEX.match(value):
        return (int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16))
    if (
        isinstance(value, list | tuple)
        and len(value) == 3
        and all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in value)
    ):
        return (int(value[0]), int(value[1]), int(value[2]))
    return None


@dataclass(frozen=True)
class ObjClass:
    """An object class of a project meta.

    Attributes
    ----------
    title : str
        Class name, referenced by an object's ``classTitle``.
    shape : str
        Geometry name (``"any"`` for unknown names).
    color : tuple of int
        RGB colour, 0..255.
    geometry_config : dict
        Keypoint template for ``graph`` classes (the synthesised template for ``cuboid_2d``),
        else empty.
    """

    title: str
    shape: str
    color: tuple[int, int, int]
    geometry_config: Mapping[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def edges(self) -> tuple[tuple[str, str, bool], ...]:
        """Template edges as ``(src, dst, has_colour)``; the fixed 12 for ``cuboid_2d``.

        Worked out once per class (every graph object of the class asks for them).
        """
        if self.shape == "cuboid_2d":
            return tuple((a, b, True) for a, b in CUBOID_2D_EDGES)
        raw = self.geometry_config.get("edges", []) if self.shape == "graph" else []
        out = []
        for edge in raw if isinstance(raw, list) else []:
            if isinstance(edge, Mapping) and "src" in edge and "dst" in edge:
                out.append((str(edge["src"]), str(edge["dst"]), edge.get("color") is not None))
        return tuple(out)


@dataclass(frozen=True)
class ProjectMeta:
    """Object classes of a project, by title.

    Attributes
    ----------
    classes : dict of str to ObjClass
        The classes, keyed by title.
    path : pathlib.Path or None
        The file the meta was read from.
    """

    classes: Mapping[str, ObjClass]
    path: Path | None = None

    def get(self, title: str) -> ObjClass | None:
        """Return the class called `title`, or ``None``."""
        return self.classes.get(title)


def _parse_class(raw: Any, index: int, path: Path | None) -> ObjClass:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("title"), str):
        raise SuperviselyFormatError(f"class {index} has no 'title'", path)
    title = raw["title"]
    shape = raw.get("shape", "any")
    if shape not in GEOMETRY_TYPES:
        shape = "any"
    color = _parse_hex(raw.get("color"))
    if color is None:
        if "color" in raw:
            warnings.warn(
                f"class {title!r} has a malformed colour {raw['color']!r}; using a default",
                SuperviselyWarning,
                stacklevel=4,
            )
        color = default_color(title)
    config = raw.get("geometry_config") or {}
    if not isinstance(config, Mapping):
        config = {}
    return ObjClass(title, shape, color, dict(config))


def load_meta(source: str | os.PathLike[str] | Mapping[str, Any] | list[Any]) -> ProjectMeta:
    """Read a project meta.

    Parameters
    ----------
    source : str, os.PathLike, dict or list
        Path to ``meta.json`` (or a legacy ``classes.json``), or its parsed JSON: a dict with
        ``classes``, or the legacy bare list of classes.

    Returns
    -------
    ProjectMeta
        The classes by title.

    Raises
    ------
    SuperviselyFormatError
        If the file is not JSON or holds no class list.

    Warns
    -----
    SuperviselyWarning
        For classes without a ``title``, which are skipped (their objects then get default
        colours, as objects of any class missing from the meta do).
    """
    path = None
    data: Any = source
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        data = read_json(path)
    if isinstance(data, Mapping):
        if not isinstance(data.get("classes"), list):
            raise SuperviselyFormatError("meta has no 'classes' list", path)
        data = data["classes"]
    elif not isinstance(data, list):
        raise SuperviselyFormatError("meta must be a dict with 'classes' or a list", path)
    classes, untitled = [], []
    for index, raw in enumerate(data):
        if isinstance(raw, Mapping) and isinstance(raw.get("title"), str):
            classes.append(_parse_class(raw, index, path))
        else:
            untitled.append(str(index))
    if untitled:
        where = f"{path}: " if path is not None else ""
        warnings.warn(
            f"{where}skipped class(es) without a 'title': index {', '.join(untitled[:10])}"
            + (f" and {len(untitled) - 10} more" if len(untitled) > 10 else ""),
            SuperviselyWarning,
            stacklevel=2,
        )
    return ProjectMeta({c.title: c for c in classes}, path)


#: The names a project's meta file has: ``meta.json``, else a legacy ``classes.json``.
META_NAMES = ("meta.json", "classes.json")


def _is_meta_file(path: Path) -> bool:
    """Whether a file is a project meta: the one test the reader's discovery uses too."""
    return sniff_kind(path) == "meta"


def find_meta_for(
    path: str | os.PathLike[str], max_levels: int = 32, known: dict[Path, bool] | None = None
) -> Path | None:
    """Find the project meta of an annotation file or dataset folder.

    Walks up from `path` and returns the first ``meta.json`` (else ``classes.json``) that
    holds a class list.

    Parameters
    ----------
    path : str or os.PathLike
        An annotation file, or a dataset or project folder.
    max_levels : int
        How many parent folders to try at most.
    known : dict, optional
        Files already judged (meta or not), filled in as they are: a cache shared by calls
        that look for the metas of many files, so that each candidate is read once.

    Returns
    -------
    pathlib.Path or None
        The meta file, or ``None`` when there is none.
    """
    here = Path(os.path.realpath(path))  # Path.resolve raises on a symlink loop
    folder = here if here.is_dir() else here.parent
    for _ in range(max_levels):
        for name in META_NAMES:
            candidate = folder / name
            if candidate == here or not candidate.is_file():
                continue
            if known is None:
                if _is_meta_file(candidate):
                    return candidate
                continue
            if candidate not in known:
                known[candidate] = _is_meta_file(candidate)
            if known[candidate]:
                return candidate
        if folder.parent == folder:
            break
        folder = folder.parent
    return None
