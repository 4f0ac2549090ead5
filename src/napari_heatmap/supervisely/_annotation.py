"""Annotation JSON: image size and labels, read leniently (docs/supervisely.md, decision 4)."""

from __future__ import annotations

import json
import os
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._errors import SuperviselyFormatError, SuperviselyWarning
from ._geometry import crop_geometry, parse_geometry
from ._jsonio import read_head, read_json
from ._meta import GEOMETRY_TYPES, ObjClass, ProjectMeta, default_color, find_meta_for, load_meta
from ._shapes import Geometry

__all__ = [
    "MAX_IMAGE_PIXELS",
    "MAX_IMAGE_SIDE",
    "Annotation",
    "Label",
    "annotation_from_any",
    "load_annotation",
]

#: Largest image side accepted (pixels); a bigger ``size`` is refused as implausible.
MAX_IMAGE_SIDE = 1 << 17
#: Largest image accepted (height x width, 2**28 pixels, e.g. 16384 x 16384): an annotation's
#: size decides the density grid and how far bitmaps may inflate, so a 200-byte file claiming
#: 50000 x 50000 pixels must be refused before anything that size is allocated.
MAX_IMAGE_PIXELS = 1 << 28

MetaLike = ProjectMeta | str | os.PathLike[str] | Mapping[str, Any] | list[Any]

# Payload keys that tell the geometry when neither class nor object names it.
_PAYLOAD_HINTS = (
    ("nodes", "graph"),
    ("vertices", "cuboid_2d"),
    ("parts", "multipolygon"),
    ("faces", "cuboid"),
)


@dataclass(frozen=True)
class Label:
    """One object of an annotation, cropped to its image.

    Attributes
    ----------
    class_name : str
        The class title.
    geometry_type : str
        Geometry name the payload was read as.
    geometry : Geometry
        The geometry, in image pixels.
    color : tuple of int
        RGB colour of the class (a default one when the class is unknown).
    """

    class_name: str
    geometry_type: str
    geometry: Geometry
    color: tuple[int, int, int]


@dataclass(frozen=True)
class Annotation:
    """A parsed annotation of one image.

    Attributes
    ----------
    img_size : tuple of int
        ``(height, width)`` of the image.
    labels : list of Label
        The labels left after load-time cropping (a label cut away entirely is dropped).
    path : pathlib.Path or None
        The annotation file, when read from one.
    name : str or None
        Item (image) name: the file name without ``.json``.
    """

    img_size: tuple[int, int]
    labels: list[Label] = field(default_factory=list)
    path: Path | None = None
    name: str | None = None


def _as_meta(meta: MetaLike | None) -> ProjectMeta | None:
    if meta is None or isinstance(meta, ProjectMeta):
        return meta
    return load_meta(meta)


def _img_size(data: Mapping[str, Any], path: Path | None) -> tuple[int, int]:
    size = data.get("size")
    if not isinstance(size, Mapping):
        raise SuperviselyFormatError("annotation has no 'size'", path)
    out = []
    for key in ("height", "width"):
        v = size.get(key)
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise SuperviselyFormatError(f"size.{key} must be a positive integer", path)
        if v > MAX_IMAGE_SIDE:
            raise SuperviselyFormatError(
                f"size.{key} is {v}, more than the {MAX_IMAGE_SIDE} pixels an image side may "
                "have here",
                path,
            )
        out.append(v)
    if out[0] * out[1] > MAX_IMAGE_PIXELS:
        raise SuperviselyFormatError(
            f"size is {out[0]}x{out[1]} ({out[0] * out[1]} pixels), more than the "
            f"{MAX_IMAGE_PIXELS} pixels an image may have here",
            path,
        )
    return out[0], out[1]


def _geometry_type(obj: Mapping[str, Any], cls: ObjClass | None) -> str:
    if cls is not None and cls.shape != "any":
        return cls.shape
    named = obj.get("geometryType", obj.get("shape"))
    if isinstance(named, str):
        return named if named in GEOMETRY_TYPES else "any"
    if isinstance(obj.get("bitmap"), Mapping):
        return "bitmap"
    for key, gtype in _PAYLOAD_HINTS:
        if key in obj:
            return gtype
    return "any"


def _own_geometry_type(obj: Mapping[str, Any]) -> str | None:
    """Return the geometry the object names itself (else its payload hints), or ``None``."""
    named = obj.get("geometryType", obj.get("shape"))
    if isinstance(named, str) and named in GEOMETRY_TYPES and named != "any":
        return named
    if isinstance(obj.get("bitmap"), Mapping):
        return "bitmap"
    return next((gtype for key, gtype in _PAYLOAD_HINTS if key in obj), None)


def _conflict(reason: str, obj: Mapping[str, Any], cls: ObjClass | None) -> str:
    """Name a class/shape conflict plainly when it is why the payload did not parse."""
    own = _own_geometry_type(obj)
    if cls is None or cls.shape == "any" or own is None or own == cls.shape:
        return reason
    return (
        f"class {cls.title!r} is declared as {cls.shape!r} in the project meta but the object "
        f"is a {own!r}; the meta's shape decides how an object is read (as in the Supervisely "
        f"SDK), and as a {cls.shape!r} it fails: {reason}"
    )


def _parse(
    data: Any, meta: ProjectMeta | None, path: Path | None, notes: list[str] | None = None
) -> Annotation:
    """Read parsed annotation JSON; missing classes are warned of, or appended to `notes`."""
    if not (type(data) is dict or isinstance(data, Mapping)):
        raise SuperviselyFormatError("annotation must be a JSON object", path)
    img_size = _img_size(data, path)
    objects = data.get("objects")
    if not isinstance(objects, list):
        raise SuperviselyFormatError("annotation has no 'objects' list", path)
    labels: list[Label] = []
    missing: set[str] = set()
    classes = meta.get if meta is not None else None
    for index, obj in enumerate(objects):
        try:
            if not (type(obj) is dict or isinstance(obj, Mapping)) or not isinstance(
                obj.get("classTitle"), str
            ):
                raise SuperviselyFormatError("object has no 'classTitle'")
            name = obj["classTitle"]
            cls = None
            if classes is not None:
                cls = classes(name)
                if cls is None:
                    missing.add(name)
            gtype = _geometry_type(obj, cls)
            try:
                geometry = parse_geometry(gtype, obj, img_size, cls)
            except SuperviselyFormatError as e:
                raise SuperviselyFormatError(_conflict(e.reason, obj, cls)) from None
            pieces = crop_geometry(geometry, img_size)
        except SuperviselyFormatError as e:
            raise SuperviselyFormatError(e.reason, path, index) from None
        color = cls.color if cls is not None else default_color(name)
        for piece in pieces:
            labels.append(Label(name, gtype, piece, color))
    if missing:
        where = f"{path}: " if path is not None else ""
        note = (
            f"{where}classes missing from the project meta, drawn with default colours: "
            f"{', '.join(sorted(missing))}"
        )
        if notes is None:
            warnings.warn(note, SuperviselyWarning, stacklevel=3)
        else:  # a worker of a parallel read: the caller warns, in file order
            notes.append(note)
    name = data.get("name") if isinstance(data.get("name"), str) else None
    if path is not None:
        name = path.name[: -len(".json")] if path.name.endswith(".json") else path.stem
    return Annotation(img_size, labels, path, name)


def load_annotation(
    source: str | os.PathLike[str] | Mapping[str, Any], meta: MetaLike | None = None
) -> Annotation:
    """Read one annotation.

    Parameters
    ----------
    source : str, os.PathLike or dict
        Path to an annotation JSON file, or its parsed JSON.
    meta : ProjectMeta, path, dict or list, optional
        The project meta. For a path without one, the ``meta.json`` (or ``classes.json``) found
        by walking up from the file is used; without any meta, each object's ``geometryType``
        decides how it is read.

    Returns
    -------
    Annotation
        The image size and the labels, coordinates floored and cropped to the image.

    Raises
    ------
    SuperviselyFormatError
        If the input is not JSON, has no ``size``, or an object's payload is broken; the message
        names the file and the object's index.
    """
    if isinstance(source, Mapping):
        return _parse(source, _as_meta(meta), None)
    path = Path(source)
    if meta is None:
        meta = find_meta_for(path)
    meta_obj = _as_meta(meta)
    return _parse(read_json(path), meta_obj, path)


def read_annotation_file(path: Path, meta: ProjectMeta | None, notes: list[str]) -> Annotation:
    """Read an annotation file with a meta already loaded; warnings go to `notes`."""
    return _parse(read_json(path), meta, path, notes)


def read_image_size(path: Path) -> tuple[int, int]:
    """Read only an annotation file's image ``(height, width)`` (the JSON is parsed whole)."""
    data = read_json(path)
    if not isinstance(data, Mapping):
        raise SuperviselyFormatError("annotation must be a JSON object", path)
    return _img_size(data, path)


#: Bytes at the start of an annotation file where `guess_image_size` looks for the size.
SIZE_HEAD_BYTES = 1 << 16
_SIZE_IN_HEAD = re.compile(rb'"size"\s*:\s*(\{[^{}]*\})')


def guess_image_size(path: Path) -> tuple[int, int]:
    """Read an annotation file's image ``(height, width)`` from its first bytes if it can.

    The first ``"size": {...}`` within `SIZE_HEAD_BYTES` bytes (where the Supervisely SDK
    writes it, before the objects), checked as `read_image_size` checks it; otherwise the file
    is parsed whole. Only a guess when the file is odd (a ``size`` key nested before the
    top-level one, a file broken further on): whoever relies on it must check it against the
    file read whole, as the density's drawing pass does.
    """
    try:
        found = _SIZE_IN_HEAD.search(read_head(path, SIZE_HEAD_BYTES))
        if found is not None:
            return _img_size({"size": json.loads(found.group(1))}, path)
    except (OSError, ValueError, RecursionError):
        pass  # read whole, which names what is wrong
    return read_image_size(path)


def _meta_of_sdk_annotation(obj: Any) -> ProjectMeta | None:
    """Collect the classes an SDK ``Annotation``'s labels carry (duck-typed)."""
    classes = {}
    for label in getattr(obj, "labels", None) or []:
        cls = getattr(label, "obj_class", None)
        to_json = getattr(cls, "to_json", None)
        if callable(to_json):
            raw = to_json()
            if isinstance(raw, Mapping) and isinstance(raw.get("title"), str):
                classes[raw["title"]] = raw
    return load_meta(list(classes.values())) if classes else None


def annotation_from_any(obj: Any, meta: MetaLike | None = None) -> Annotation:
    """Turn any supported annotation input into an `Annotation`.

    Parameters
    ----------
    obj : Annotation, dict, str, os.PathLike or object with ``to_json()``
        A parsed annotation, its JSON dict, a path to its file, or e.g. a Supervisely SDK
        ``Annotation`` (read through its ``to_json()``; its labels' classes serve as meta).
    meta : ProjectMeta, path, dict or list, optional
        The project meta, see `load_annotation`.

    Returns
    -------
    Annotation
        The parsed annotation.

    Raises
    ------
    TypeError
        For an unsupported input type.
    SuperviselyFormatError
        For broken input.
    """
    if isinstance(obj, Annotation):
        return obj
    if isinstance(obj, Mapping | str | os.PathLike):
        return load_annotation(obj, meta)
    to_json = getattr(obj, "to_json", None)
    if callable(to_json):
        if meta is None:
            try:
                meta = _meta_of_sdk_annotation(obj)
            except Exception as e:  # foreign code: name it, whatever it raised
                raise SuperviselyFormatError(
                    f"the classes of {type(obj).__name__}'s labels cannot be read: "
                    f"{type(e).__name__}: {e}"
                ) from e
        try:
            data = to_json()
        except Exception as e:  # foreign code: name it, whatever it raised
            raise SuperviselyFormatError(
                f"{type(obj).__name__}.to_json() raised {type(e).__name__}: {e}"
            ) from e
        if not isinstance(data, Mapping):
            raise SuperviselyFormatError(f"{type(obj).__name__}.to_json() did not return a dict")
        return load_annotation(data, meta)
    raise TypeError(
        "an annotation must be an Annotation, a JSON dict, a path or have to_json(); "
        f"got {type(obj).__name__}"
    )
