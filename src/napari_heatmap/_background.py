"""Load a background image from an array, a file, an http(s) URL or a data: URL (§5).

Pure floor: no napari, no Qt. Images are returned in RGB(A) order, never flipped.
"""

from __future__ import annotations

import base64
import binascii
import errno
import os
import re
import stat
import urllib.parse
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ._fetch import DownloadError, fetch
from ._imagesize import ImageHeaderError, ImageTooLargeError, check_pixels

__all__ = [
    "MAX_IMAGE_BYTES",
    "MAX_IMAGE_PIXELS",
    "URL_TIMEOUT",
    "load_background",
    "natural_contrast_limits",
]

#: Seconds an http(s) background may take in all (connection, headers and body together).
URL_TIMEOUT = 15.0
#: Refuse image files, downloads and data: URLs larger than this many bytes (before reading).
MAX_IMAGE_BYTES = 512 * 1024 * 1024
#: Refuse images whose header announces more pixels than this (before decoding): 2**27, e.g.
#: 16384 x 8192; as 16-bit RGBA that is already 1 GiB.
MAX_IMAGE_PIXELS = 1 << 27

_ACCEPTED = "an H×W, H×W×3 or H×W×4 array (uint8, uint16 or float), an image path, or a URL"
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")


def load_background(image: object) -> np.ndarray:
    """Return the background as an H×W×3 (RGB) or H×W×4 (RGBA) array.

    Gray arrays and files become three equal channels; dtypes are kept (uint8, uint16,
    float). Channels are never flipped. Files, downloads and ``data:`` URLs larger than
    `MAX_IMAGE_BYTES` and images of more than `MAX_IMAGE_PIXELS` pixels are refused before
    they are read or decoded; a download must end within `URL_TIMEOUT` seconds in all.

    Parameters
    ----------
    image : numpy.ndarray, str or os.PathLike
        An array, an image file path, an ``http(s)://`` URL or a ``data:`` URL (schemes in
        any case).

    Returns
    -------
    numpy.ndarray
        A new array the caller owns.

    Raises
    ------
    FileNotFoundError
        If a path does not exist.
    ValueError
        If the file, URL or array cannot be used as an image, or is too large.
    TypeError
        If ``background_image`` is of a type that is not accepted.
    """
    if isinstance(image, np.ndarray):
        return _from_array(image)
    if isinstance(image, str) and (scheme := _url_scheme(image)) is not None:
        if scheme == "data":
            return _decode(_read_data_url(image), "data: URL")
        return _decode(_download(image), image)
    if isinstance(image, str | os.PathLike):
        return _decode(_read_file(image), os.fspath(image))
    raise TypeError(f"background_image must be {_ACCEPTED}; got {type(image).__name__}")


def _url_scheme(text: str) -> str | None:
    """Return the lower-case scheme of a URL (``data``, ``http``, ``https``), else None.

    A drive letter (``C:`` then a backslash) is a path; any other ``scheme://`` is refused by name.
    """
    m = _SCHEME.match(text)
    if m is None or len(m.group(1)) == 1:
        return None
    scheme = m.group(1).lower()
    if scheme in ("data", "http", "https"):
        return scheme
    if text[m.end() : m.end() + 2] == "//":
        raise ValueError(
            f"background_image: unsupported URL scheme {m.group(1)!r} in {_short(text)!r}; "
            "only http://, https:// and data: URLs are read"
        )
    return None


def _short(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _read_file(image: str | os.PathLike[Any]) -> bytes:
    """Read an image file, refusing folders, special files and files over the byte budget."""
    name = os.fspath(image)
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    if not name:
        raise ValueError("background_image: got an empty path")
    path = Path(name).expanduser()
    shown = _short(str(path))
    try:
        st = path.stat()
    except FileNotFoundError:
        raise FileNotFoundError(f"background_image: no such file: {shown!r}") from None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise ValueError(
                f"background_image: the path is too long for the system ({len(name)} "
                f"characters): {shown!r}"
            ) from None
        if exc.errno in (errno.ENOTDIR, errno.ELOOP):
            raise FileNotFoundError(
                f"background_image: no such file: {shown!r} ({exc.strerror})"
            ) from None
        raise ValueError(f"background_image: cannot read {shown!r}: {exc.strerror}") from None
    except ValueError as exc:  # e.g. an embedded null byte
        raise ValueError(f"background_image: not a usable path {shown!r}: {exc}") from None
    if stat.S_ISDIR(st.st_mode):
        raise ValueError(f"background_image: {shown!r} is a folder, not an image file")
    if not stat.S_ISREG(st.st_mode):
        raise ValueError(f"background_image: {shown!r} is not a regular file")
    if st.st_size > MAX_IMAGE_BYTES:
        raise ValueError(
            f"background_image: {shown!r} is {st.st_size} bytes, more than the "
            f"{MAX_IMAGE_BYTES} bytes allowed for an image"
        )
    try:
        with open(path, "rb") as f:  # works for any path, unlike cv2.imread
            raw = f.read(min(st.st_size, MAX_IMAGE_BYTES) + 1)  # read(n) reserves n bytes
    except OSError as exc:
        raise ValueError(f"background_image: cannot read {shown!r}: {exc}") from exc
    if len(raw) > MAX_IMAGE_BYTES:  # grew since stat
        raise ValueError(
            f"background_image: {shown!r} is more than the {MAX_IMAGE_BYTES} bytes allowed"
        )
    return raw


def natural_contrast_limits(image: np.ndarray) -> tuple[float, float]:
    """Return the contrast limits that show an RGB(A) background as given."""
    if image.dtype == np.uint8:
        return 0.0, 255.0
    if image.dtype == np.uint16:
        return 0.0, 65535.0
    rgb = image[..., :3]
    if np.issubdtype(image.dtype, np.integer):  # no natural range: show the data's
        lo, hi = float(rgb.min()), float(rgb.max())
        return (lo, hi) if hi > lo else (lo, lo + 1.0)
    lo, hi = float(np.nanmin(rgb)), float(np.nanmax(rgb))
    if lo >= 0.0 and hi <= 1.0:
        return 0.0, 1.0
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _from_array(arr: np.ndarray) -> np.ndarray:
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8) * 255
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"background_image must hold numbers; got dtype {arr.dtype}")
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=-1)
    elif not (arr.ndim == 3 and arr.shape[-1] in (3, 4)):
        raise ValueError(f"background_image must be {_ACCEPTED}; got an array of shape {arr.shape}")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"background_image must not be empty; got shape {arr.shape}")
    if np.issubdtype(arr.dtype, np.floating) and not np.isfinite(arr).all():
        arr = np.nan_to_num(arr, nan=0.0, posinf=0.0, neginf=0.0)
    return np.ascontiguousarray(arr).copy()


def _decode(raw: bytes, source: str) -> np.ndarray:
    shown = _short(source)
    if not raw:
        raise ValueError(f"background_image: {shown!r} is empty, not an image")
    try:
        check_pixels(raw, MAX_IMAGE_PIXELS)
    except ImageTooLargeError as exc:
        raise ValueError(f"background_image: {shown!r} is too large: {exc}") from None
    except ImageHeaderError as exc:
        raise ValueError(
            f"background_image: {shown!r} is not an image that can be read safely: {exc}"
        ) from None
    try:
        img = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as exc:
        raise ValueError(f"background_image: {shown!r} cannot be decoded: {exc}") from None
    if img is None:
        raise ValueError(f"background_image: {shown!r} is not an image OpenCV can read")
    if img.ndim == 3 and img.shape[-1] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    elif img.ndim == 3 and img.shape[-1] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
    return _from_array(img)


def _read_data_url(url: str) -> bytes:
    head, sep, payload = url.partition(",")
    if not sep:
        raise ValueError("background_image: a data: URL needs a ',' before its payload")
    if len(payload) > MAX_IMAGE_BYTES * 4 // 3 + 4:
        raise ValueError(
            f"background_image: the data: URL holds {len(payload)} characters, more than an "
            f"image of {MAX_IMAGE_BYTES} bytes needs"
        )
    try:
        if head.lower().endswith(";base64"):
            return base64.b64decode(payload, validate=False)
        return urllib.parse.unquote_to_bytes(payload)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"background_image: bad data: URL payload: {exc}") from exc


def _download(url: str) -> bytes:
    """Fetch a URL within URL_TIMEOUT seconds overall and MAX_IMAGE_BYTES at most."""
    try:
        return fetch(url, timeout=URL_TIMEOUT, max_bytes=MAX_IMAGE_BYTES)
    except DownloadError as exc:
        raise ValueError(f"background_image: cannot download {_short(url)!r}: {exc}") from exc
