"""Builders of Supervisely annotation JSON, shared by the format tests and the SDK parity check.

``ann``/``obj``/``pts`` write the dicts of an annotation file; ``bitmap_payload`` encodes a mask
as the ``base64(zlib(PNG))`` text of a ``bitmap`` object, in the flavours seen in real exports.
"""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

H, W = 20, 30


def ann(objects: list[dict[str, Any]], h: int = H, w: int = W) -> dict[str, Any]:
    """An annotation dict of an h×w image holding ``objects``."""
    return {"size": {"height": h, "width": w}, "tags": [], "objects": objects}


def obj(gtype: str, cls: str = "c", **payload: Any) -> dict[str, Any]:
    """One object of class ``cls`` with geometry type ``gtype``."""
    return {"classTitle": cls, "geometryType": gtype, "tags": [], **payload}


def pts(exterior: Sequence[Any], interior: Sequence[Any] = ()) -> dict[str, Any]:
    """A ``points`` payload."""
    return {"exterior": exterior, "interior": list(interior)}


def bitmap(origin: list[int], mask: np.ndarray, flavour: str = "palette") -> dict[str, Any]:
    """A ``bitmap`` payload: `mask` (boolean) with its top-left corner at `origin` ``[x, y]``."""
    return {"bitmap": {"origin": origin, "data": bitmap_payload(mask, flavour)}}


def _chunk(tag: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(tag + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)


def png_palette_1bit(mask: np.ndarray) -> bytes:
    """A 1-bit palette PNG, palette [black, white], index 0 transparent: what the SDK writes."""
    h, w = mask.shape
    rows = np.packbits(mask.astype(np.uint8), axis=1)
    raw = b"".join(b"\x00" + rows[i].tobytes() for i in range(h))
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 1, 3, 0, 0, 0)),
            _chunk(b"PLTE", bytes([0, 0, 0, 255, 255, 255])),
            _chunk(b"tRNS", b"\x00"),
            _chunk(b"IDAT", zlib.compress(raw)),
            _chunk(b"IEND", b""),
        )
    )


def png_cv2(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", img)
    if not ok:  # pragma: no cover
        raise RuntimeError("cv2.imencode failed")
    return buf.tobytes()


def encode_png(png: bytes) -> str:
    """``base64(zlib(PNG))`` as in ``Bitmap.data_2_base64``."""
    return base64.b64encode(zlib.compress(png)).decode("ascii")


def bitmap_payload(mask: np.ndarray, flavour: str) -> str:
    if flavour == "palette":
        return encode_png(png_palette_1bit(mask))
    if flavour == "rgba":  # the labeling tool: white RGB, alpha 0/255
        bgra = np.zeros((*mask.shape, 4), np.uint8)
        bgra[mask] = 255
        return encode_png(png_cv2(bgra))
    if flavour == "grey":  # 8-bit greyscale 0/255
        return encode_png(png_cv2(mask.astype(np.uint8) * 255))
    raise ValueError(flavour)
