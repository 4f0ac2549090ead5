"""JSON files read whole (with their failures named) or judged from their first bytes.

`read_json` accepts a UTF-8 byte-order mark and turns every way a file can fail to be JSON
(bad syntax, bad encoding, nesting deep enough to exhaust Python's recursion) into a
`SuperviselyFormatError` naming the file. `sniff_kind` tells a Supervisely annotation or meta
from other JSON by the top-level keys at the start of the file, so that napari asking the
reader whether it wants a 200 MB JSON file costs a megabyte read, not a full parse.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Literal

from ._errors import SuperviselyFormatError

__all__ = ["HEAD_BYTES", "MAX_JSON_BYTES", "read_head", "read_json", "sniff_kind"]

#: Refuse JSON files larger than this before reading them (parsed JSON takes ~10x its size).
MAX_JSON_BYTES = 1 << 30
#: Files up to this size are parsed whole to be judged; larger ones by this many first bytes.
HEAD_BYTES = 1 << 20
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]')
_DECODER = json.JSONDecoder()

Kind = Literal["annotation", "meta"]


def read_json(path: str | os.PathLike[str]) -> Any:
    """Parse a JSON file; a UTF-8 byte-order mark is accepted.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    object
        The parsed JSON.

    Raises
    ------
    SuperviselyFormatError
        If the file is not a regular file, is larger than `MAX_JSON_BYTES`, is not UTF-8 JSON,
        or is nested too deeply to parse; names the file.
    OSError
        If the file cannot be read.
    """
    with _open_regular(path) as f:
        size = os.fstat(f.fileno()).st_size
        if size > MAX_JSON_BYTES:
            raise SuperviselyFormatError(
                f"the file is {size} bytes, more than the {MAX_JSON_BYTES} bytes read as JSON",
                path,
            )
        raw = f.read()
    try:
        return json.loads(raw.decode("utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SuperviselyFormatError(f"not a JSON file ({e})", path) from None
    except RecursionError:
        raise SuperviselyFormatError(
            "not a usable JSON file: nested too deeply to parse", path
        ) from None


def _open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a regular file for reading; anything else is refused, naming the file."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not wait for a writer
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SuperviselyFormatError("not a regular file", path)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_head(path: str | os.PathLike[str], n: int) -> bytes:
    """Return the first `n` bytes of a regular file (the errors of `read_json`)."""
    with _open_regular(path) as f:
        return f.read(n)


def _kind_of(data: Any) -> Kind | None:
    """Judge parsed JSON: an annotation (size + objects), else a meta (class list)."""
    if isinstance(data, dict):
        size = data.get("size")
        if (
            isinstance(size, dict)
            and "height" in size
            and "width" in size
            and isinstance(data.get("objects"), list)
        ):
            return "annotation"
        return "meta" if isinstance(data.get("classes"), list) else None
    if isinstance(data, list) and data:
        ok = all(isinstance(c, dict) and "title" in c and "shape" in c for c in data)
        return "meta" if ok else None
    return None


def _top_level_keys(text: str) -> Iterator[tuple[str, int]]:
    """Yield the keys of the top-level object in `text` and where each value starts."""
    depth = 0
    last: str | None = None
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok in "{[":
            depth += 1
            last = None
        elif tok in "}]":
            depth -= 1
            last = None
            if depth <= 0:
                return
        elif tok == ":":
            if depth == 1 and last is not None:
                yield json.loads(last), m.end()
            last = None
        elif tok == ",":
            last = None
        else:
            last = tok if depth == 1 else None


def _value_at(text: str, pos: int) -> Any:
    """Parse the JSON value starting at `pos` (None when it runs past the head)."""
    stripped = len(text) - len(text[pos:].lstrip())
    try:
        return _DECODER.raw_decode(text, stripped)[0]
    except (ValueError, RecursionError):
        return None


def _opens_list(text: str, pos: int) -> bool:
    return text[pos:].lstrip()[:1] == "["


def _head_kind(text: str) -> Kind | None:
    """Judge the start of a large file by its top-level keys (or first class)."""
    if text[:1] == "[":
        first = _value_at(text, 1)
        ok = isinstance(first, dict) and "title" in first and "shape" in first
        return "meta" if ok else None
    if text[:1] != "{":
        return None
    sized = listed = classes = False
    for key, pos in _top_level_keys(text):
        if key == "size":
            size = _value_at(text, pos)
            sized = isinstance(size, dict) and "height" in size and "width" in size
        elif key == "objects":
            listed = _opens_list(text, pos)
        elif key == "classes":
            classes = _opens_list(text, pos)
        if sized and listed:
            return "annotation"
    return "meta" if classes else None


def sniff_kind(path: str | os.PathLike[str]) -> Kind | None:
    """Tell whether a file is a Supervisely annotation or meta JSON, cheaply.

    Files of up to `HEAD_BYTES` are parsed whole. Of a larger file only the first
    `HEAD_BYTES` are read: it is an annotation when its top-level object has a ``size`` with
    ``height`` and ``width`` and an ``objects`` list there, a meta when it has a ``classes``
    list (or is a list whose first item is a class with ``title`` and ``shape``).

    Parameters
    ----------
    path : str or os.PathLike
        A file; anything but ``*.json`` is declined unread.

    Returns
    -------
    {"annotation", "meta"} or None
        What the file is, or None for anything else (including unreadable files).
    """
    p = Path(path)
    if p.suffix.lower() != ".json":
        return None
    try:
        if not p.is_file():
            return None
        with open(p, "rb") as f:
            head = f.read(HEAD_BYTES + 1)
    except (OSError, ValueError):
        return None
    if len(head) <= HEAD_BYTES:
        try:
            return _kind_of(json.loads(head.decode("utf-8-sig")))
        except (ValueError, RecursionError):
            return None
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    return _head_kind(text)
