"""Load a background image from an array, a file, an http(s) URL or a data: URL (§5).

Pure floor: no napari, no Qt. Images are returned in RGB(A) order, never flipped.
"""

from __future__ import annotations

import base64
import binascii
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import cv2
import numpy as np

__all__ = ["URL_TIMEOUT", "load_background", "natural_contrast_limits"]

#: Seconds to wait for an http(s) background before giving up.
URL_TIMEOUT = 15.0
#: Refuse downloads larger than this many bytes.
MAX_DOWNLOAD = 256 * 1024 * 1024

_ACCEPTED = "an H×W, H×W×3 or H×W×4 array (uint8, uint16 or float), an image path, or a URL"


def load_background(image: object) -> np.ndarray:
    """Return the background as an H×W×3 (RGB) or H×W×4 (RGBA) array.

    Gray arrays and files become three equal channels; dtypes are kept (uint8, uint16,
    float). Channels are never flipped.

    Parameters
    ----------
    image : numpy.ndarray, str or os.PathLike
        An array, an image file path, an ``http(s)://`` URL or a ``data:`` URL.

    Returns
    -------
    numpy.ndarray
        A new array the caller owns.

    Raises
    ------
    FileNotFoundError
        If a path does not exist.
    ValueError
        If the file, URL or array cannot be used as an image.
    TypeError
        If ``background_image`` is of a type that is not accepted.
    """
    if isinstance(image, np.ndarray):
        return _from_array(image)
    if isinstance(image, str) and image.startswith("data:"):
        return _decode(_read_data_url(image), "data: URL")
    if isinstance(image, str) and image.lower().startswith(("http://", "https://")):
        return _decode(_download(image), image)
    if isinstance(image, str | os.PathLike):
        if not os.fspath(image):
            raise ValueError("background_image: got an empty path")
        path = Path(os.fspath(image)).expanduser()
        if path.is_dir():
            raise ValueError(f"background_image: {str(path)!r} is a folder, not an image file")
        if not path.is_file():
            raise FileNotFoundError(f"background_image: no such file: {str(path)!r}")
        try:
            raw = path.read_bytes()  # works for any path, unlike cv2.imread
        except OSError as exc:
            raise ValueError(f"background_image: cannot read {str(path)!r}: {exc}") from exc
        return _decode(raw, str(path))
    raise TypeError(f"background_image must be {_ACCEPTED}; got {type(image).__name__}")


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
    buf = np.frombuffer(raw, np.uint8)
    img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if buf.size else None
    if img is None:
        raise ValueError(f"background_image: {source!r} is not an image OpenCV can read")
    if img.ndim == 3 and img.shape[-1] == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    elif img.ndim == 3 and img.shape[-1] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGBA)
    return _from_array(img)


def _read_data_url(url: str) -> bytes:
    head, sep, payload = url.partition(",")
    if not sep:
        raise ValueError("background_image: a data: URL needs a ',' before its payload")
    try:
        if head.endswith(";base64"):
            return base64.b64decode(payload, validate=False)
        return urllib.parse.unquote_to_bytes(payload)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"background_image: bad data: URL payload: {exc}") from exc


def _download(url: str) -> bytes:
    """Fetch a URL within URL_TIMEOUT seconds overall (a trickling server cannot stall us)."""
    req = urllib.request.Request(url, headers={"User-Agent": "napari-heatmap"})
    deadline = time.monotonic() + URL_TIMEOUT
    chunks: list[bytes] = []
    size = 0
    try:
        with urllib.request.urlopen(req, timeout=URL_TIMEOUT) as resp:
            while chunk := resp.read1(1 << 16):  # what has arrived, up to 64 KiB
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_DOWNLOAD:
                    raise ValueError(f"larger than {MAX_DOWNLOAD} bytes")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"took more than {URL_TIMEOUT:g} s")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise ValueError(f"background_image: cannot download {url!r}: {exc}") from exc
    return b"".join(chunks)
