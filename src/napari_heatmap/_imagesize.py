"""An image's pixel size read from its header, so that a decompression bomb is refused unread.

Pure floor: no napari, no Qt, no OpenCV. Backgrounds (`_background`) and Supervisely bitmap
payloads (`supervisely._bitmap`) both check a file's width x height against a pixel budget
before handing it to ``cv2.imdecode``: a few kilobytes of PNG, TIFF or JPEG may otherwise
decode to gigabytes, and OpenCV's own cap (2**30 pixels) is far above what fits in memory.

Formats whose header tells no size here (OpenEXR, JPEG 2000, AVIF, ...) are reported as
unknown; the callers refuse them rather than decode them blind.
"""

from __future__ import annotations

import re
import struct

__all__ = ["ImageHeaderError", "ImageTooLargeError", "check_pixels", "header_size"]


class ImageHeaderError(ValueError):
    """The image's size cannot be told from its header, or is over the budget."""


class ImageTooLargeError(ImageHeaderError):
    """The image's header announces more pixels than the budget."""


_PNG = b"\x89PNG\r\n\x1a\n"
# JPEG start-of-frame markers (C0..CF without DHT C4, JPG C8 and DAC CC).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_PNM_HEAD = re.compile(rb"^P[1-7Ff](?:\s+|#[^\n]*\n)*(\d+)(?:\s+|#[^\n]*\n)+(\d+)")
_HDR_SIZE = re.compile(rb"\n[-+][XY] (\d+) [-+][XY] (\d+)\n")


def _png(raw: bytes) -> tuple[int, int] | None:
    if len(raw) < 24 or raw[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", raw[16:24])
    return width, height


def _jpeg(raw: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(raw):
        if raw[pos] != 0xFF:
            return None
        marker = raw[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a length
            pos += 2
            continue
        (length,) = struct.unpack(">H", raw[pos + 2 : pos + 4])
        if marker in _JPEG_SOF:
            if pos + 9 > len(raw):
                return None
            height, width = struct.unpack(">HH", raw[pos + 5 : pos + 9])
            return width, height
        if marker == 0xDA or length < 2:  # scan data before any frame header: broken
            return None
        pos += 2 + length
    return None


def _gif(raw: bytes) -> tuple[int, int] | None:
    return struct.unpack("<HH", raw[6:10]) if len(raw) >= 10 else None


def _bmp(raw: bytes) -> tuple[int, int] | None:
    if len(raw) < 26:
        return None
    (dib,) = struct.unpack("<I", raw[14:18])
    if dib == 12:  # OS/2 core header
        return struct.unpack("<HH", raw[18:22])
    width, height = struct.unpack("<ii", raw[18:26])
    return abs(width), abs(height)  # negative height: top-down rows


def _webp(raw: bytes) -> tuple[int, int] | None:
    chunk = raw[12:16]
    if chunk == b"VP8X" and len(raw) >= 30:
        w = int.from_bytes(raw[24:27], "little") + 1
        h = int.from_bytes(raw[27:30], "little") + 1
        return w, h
    if chunk == b"VP8L" and len(raw) >= 25:
        bits = int.from_bytes(raw[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and len(raw) >= 30:
        w, h = struct.unpack("<HH", raw[26:30])
        return w & 0x3FFF, h & 0x3FFF
    return None


def _tiff(raw: bytes) -> tuple[int, int] | None:
    """Width and length of the first image (IFD) of a classic or Big TIFF."""
    end = "<" if raw[:2] == b"II" else ">"
    (version,) = struct.unpack(end + "H", raw[2:4])
    big = version == 43
    try:
        if big:
            (ifd,) = struct.unpack(end + "Q", raw[8:16])
            (count,) = struct.unpack(end + "Q", raw[ifd : ifd + 8])
            entry, first, size = 20, ifd + 8, 8
        else:
            (ifd,) = struct.unpack(end + "I", raw[4:8])
            (count,) = struct.unpack(end + "H", raw[ifd : ifd + 2])
            entry, first, size = 12, ifd + 2, 4
        found: dict[int, int] = {}
        for k in range(min(count, 4096)):
            at = first + k * entry
            tag, kind = struct.unpack(end + "HH", raw[at : at + 4])
            if tag in (256, 257):
                value = raw[at + 4 + size : at + 4 + 2 * size]
                fmt = {3: "H", 4: "I", 16: "Q"}.get(kind)
                if fmt is None:
                    return None
                (found[tag],) = struct.unpack(end + fmt, value[: struct.calcsize(fmt)])
        return (found[256], found[257]) if len(found) == 2 else None
    except (struct.error, KeyError):
        return None


def _pnm(raw: bytes) -> tuple[int, int] | None:
    if raw[:2] == b"P7":  # PAM: WIDTH and HEIGHT lines
        w = re.search(rb"\nWIDTH (\d+)", raw[:4096])
        h = re.search(rb"\nHEIGHT (\d+)", raw[:4096])
        return (int(w.group(1)), int(h.group(1))) if w and h else None
    m = _PNM_HEAD.match(raw[:4096])
    return (int(m.group(1)), int(m.group(2))) if m else None


def _sun(raw: bytes) -> tuple[int, int] | None:
    return struct.unpack(">II", raw[4:12]) if len(raw) >= 12 else None


def _hdr(raw: bytes) -> tuple[int, int] | None:
    m = _HDR_SIZE.search(raw[:65536])
    if m is None:
        return None
    a, b = int(m.group(1)), int(m.group(2))
    y_first = m.group(0)[2:3] == b"Y"
    return (b, a) if y_first else (a, b)


_READERS = (
    ("PNG", lambda r: r.startswith(_PNG), _png),
    ("JPEG", lambda r: r.startswith(b"\xff\xd8\xff"), _jpeg),
    ("GIF", lambda r: r[:6] in (b"GIF87a", b"GIF89a"), _gif),
    ("BMP", lambda r: r.startswith(b"BM"), _bmp),
    ("WebP", lambda r: r[:4] == b"RIFF" and r[8:12] == b"WEBP", _webp),
    ("TIFF", lambda r: r[:4] in (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+"), _tiff),
    ("PNM", lambda r: r[:1] == b"P" and r[1:2] in b"1234567Ff" and len(r) > 2, _pnm),
    ("Sun raster", lambda r: r.startswith(b"\x59\xa6\x6a\x95"), _sun),
    ("Radiance HDR", lambda r: r.startswith((b"#?RADIANCE", b"#?RGBE")), _hdr),
)


def header_size(raw: bytes) -> tuple[str, int, int]:
    """Return an encoded image's format name, width and height, from its header only.

    Parameters
    ----------
    raw : bytes
        The encoded image (its first kilobytes suffice for most formats; a TIFF needs its
        first directory).

    Returns
    -------
    tuple of (str, int, int)
        ``(format, width, height)``.

    Raises
    ------
    ImageHeaderError
        If the format is not one whose header this module reads, or the header is cut short.
    """
    for name, matches, reader in _READERS:
        if matches(raw):
            size = reader(raw)
            if size is None:
                raise ImageHeaderError(f"its {name} header is broken or cut short")
            return name, int(size[0]), int(size[1])
    raise ImageHeaderError(
        "its format is not one whose size can be checked before decoding "
        "(PNG, JPEG, TIFF, BMP, WebP, GIF, PNM, Sun raster, Radiance HDR)"
    )


def check_pixels(raw: bytes, max_pixels: int) -> tuple[str, int, int]:
    """Return `header_size` of `raw` after checking it holds 1 to `max_pixels` pixels.

    Parameters
    ----------
    raw : bytes
        The encoded image.
    max_pixels : int
        The pixel budget (width x height).

    Returns
    -------
    tuple of (str, int, int)
        ``(format, width, height)``.

    Raises
    ------
    ImageHeaderError
        If the size cannot be read or is zero; `ImageTooLargeError` (a subclass) if it is
        more than `max_pixels`.
    """
    name, width, height = header_size(raw)
    if width <= 0 or height <= 0:
        raise ImageHeaderError(f"its {name} header gives an empty size {width}x{height}")
    if width * height > max_pixels:
        raise ImageTooLargeError(
            f"it is a {width}x{height} {name} ({width * height} pixels), more than the "
            f"{max_pixels} pixels allowed"
        )
    return name, width, height
