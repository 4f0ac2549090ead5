"""Decoding of bitmap and alpha-mask payloads: base64(zlib(PNG)), or plain base64 PNG.

Sizes are checked before anything is inflated: the zlib output is bounded and the PNG header's
width x height may not exceed the image's pixel count, so a crafted payload cannot allocate
more memory than the image it annotates.
"""

from __future__ import annotations

import base64
import binascii
import zlib

import cv2
import numpy as np

from .._imagesize import ImageHeaderError, header_size
from ._errors import SuperviselyFormatError

__all__ = ["decode_alpha", "decode_bitmap"]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Room for PNG chunks other than pixel data (palette, text, ICC profile ...).
_PNG_OVERHEAD = 1 << 20
# Upper bound of raw PNG bytes per pixel (16-bit RGBA, stored deflate blocks).
_MAX_BYTES_PER_PIXEL = 9


def _png_bytes(text: object, max_pixels: int) -> tuple[bytes, bool]:
    """Return the PNG file inside a payload and whether it came zlib-wrapped."""
    if not isinstance(text, str | bytes):
        raise SuperviselyFormatError("bitmap 'data' is not a string")
    try:
        raw = base64.b64decode(text)
    except (binascii.Error, ValueError) as e:
        raise SuperviselyFormatError(f"bitmap data is not valid base64 ({e})") from None
    if raw.startswith(_PNG_SIGNATURE):  # no zlib layer: plain base64 PNG
        return raw, False
    limit = _MAX_BYTES_PER_PIXEL * max_pixels + _PNG_OVERHEAD
    inflater = zlib.decompressobj()
    try:
        png = inflater.decompress(raw, limit)
    except zlib.error as e:
        raise SuperviselyFormatError(f"bitmap data is neither zlib nor PNG ({e})") from None
    if inflater.unconsumed_tail:
        raise SuperviselyFormatError(
            f"bitmap data inflates to more than {limit} bytes, too large for its image"
        )
    if not inflater.eof:
        raise SuperviselyFormatError("bitmap data is a truncated zlib stream")
    return png, True


def _check_png(png: bytes, max_pixels: int) -> None:
    """Check the PNG header's size against the image's pixel count (the shared recipe)."""
    try:
        kind, width, height = header_size(png)
    except ImageHeaderError:
        kind, width, height = "", 0, 0
    if kind != "PNG":
        raise SuperviselyFormatError("bitmap data is not a PNG image")
    if width == 0 or height == 0:
        raise SuperviselyFormatError("bitmap PNG has zero size")
    if width * height > max_pixels:
        raise SuperviselyFormatError(
            f"bitmap PNG is {width}x{height} pixels, more than its image ({max_pixels} pixels)"
        )


def _decode(png: bytes, flags: int) -> np.ndarray:
    try:
        img = cv2.imdecode(np.frombuffer(png, np.uint8), flags)
    except cv2.error as e:
        raise SuperviselyFormatError(f"bitmap PNG cannot be decoded ({e})") from None
    if img is None or img.size == 0:
        raise SuperviselyFormatError("bitmap PNG cannot be decoded")
    return img


def decode_bitmap(text: object, max_pixels: int) -> np.ndarray:
    """Decode a ``bitmap`` payload to a boolean mask.

    Parameters
    ----------
    text : str
        The ``bitmap.data`` string.
    max_pixels : int
        Pixel count of the annotated image; larger PNGs are rejected before decoding.

    Returns
    -------
    numpy.ndarray
        2-D bool mask: the alpha channel of 4-channel PNGs (palette + tRNS, RGBA), the value of
        grey PNGs; without the zlib layer any non-zero channel.

    Raises
    ------
    SuperviselyFormatError
        Invalid base64, zlib or PNG, a PNG too large for its image, or 3-channel data.
    """
    png, zipped = _png_bytes(text, max_pixels)
    _check_png(png, max_pixels)
    img = _decode(png, cv2.IMREAD_UNCHANGED)
    if img.ndim == 2:
        return img != 0
    if img.shape[2] >= 4:
        return img[:, :, 3] != 0
    if img.shape[2] == 1:
        return img[:, :, 0] != 0
    if not zipped:
        return np.any(img != 0, axis=2)
    raise SuperviselyFormatError("bitmap PNG has colour but no alpha (wrong internal mask format)")


def decode_alpha(text: object, max_pixels: int) -> np.ndarray:
    """Decode an ``alpha_mask`` payload to uint8 alpha (the PNG read as greyscale).

    Parameters
    ----------
    text : str
        The ``bitmap.data`` string.
    max_pixels : int
        Pixel count of the annotated image; larger PNGs are rejected before decoding.

    Returns
    -------
    numpy.ndarray
        2-D uint8 alpha, 0..255.

    Raises
    ------
    SuperviselyFormatError
        Invalid base64, zlib or PNG, or a PNG too large for its image.
    """
    png, _ = _png_bytes(text, max_pixels)
    _check_png(png, max_pixels)
    img = _decode(png, cv2.IMREAD_GRAYSCALE)
    if img.ndim == 3:
        img = img[:, :, 0]
    return np.ascontiguousarray(img, dtype=np.uint8)
