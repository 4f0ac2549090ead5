"""Colormaps as 256-entry lookup tables: the 22 OpenCV ones, and any colormap napari knows.

Pure floor: imports neither napari nor Qt at import time. A colormap that is not one of
OpenCV's is looked up in napari (:func:`choose_colormap`), which is imported then.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from functools import cache
from typing import Any

import cv2
import numpy as np

__all__ = [
    "COLORMAP_NAMES",
    "NAPARI_PREFIX",
    "ColormapChoice",
    "choose_colormap",
    "colormap_lut",
    "colormap_name",
    "resolve_colormap",
]

#: OpenCV colormap ids 0..21, by lower-case name (without the ``COLORMAP_`` prefix).
COLORMAP_NAMES: dict[str, int] = {
    "autumn": 0,
    "bone": 1,
    "jet": 2,
    "winter": 3,
    "rainbow": 4,
    "ocean": 5,
    "summer": 6,
    "spring": 7,
    "cool": 8,
    "hsv": 9,
    "pink": 10,
    "hot": 11,
    "parula": 12,
    "magma": 13,
    "inferno": 14,
    "plasma": 15,
    "viridis": 16,
    "cividis": 17,
    "twilight": 18,
    "twilight_shifted": 19,
    "turbo": 20,
    "deepgreen": 21,
}
_NAMES_BY_ID = {v: k for k, v in COLORMAP_NAMES.items()}
#: A colormap name with this prefix is napari's, even where OpenCV has the same name.
NAPARI_PREFIX = "napari:"


def resolve_colormap(colormap: object) -> int:
    """Return the OpenCV colormap id for an id or a name.

    Parameters
    ----------
    colormap : int or str
        An OpenCV constant such as ``cv2.COLORMAP_JET`` (an int 0-21), or a name such
        as ``"jet"``, ``"JET"`` or ``"COLORMAP_JET"``.

    Returns
    -------
    int
        The colormap id, 0-21.

    Raises
    ------
    ValueError
        If the colormap is unknown; the message lists the accepted names.
    """
    if isinstance(colormap, str):
        key = colormap.strip().lower()
        key = key.removeprefix("colormap_")
        if key in COLORMAP_NAMES:
            return COLORMAP_NAMES[key]
    elif (
        isinstance(colormap, int | np.integer)
        and not isinstance(colormap, bool | np.bool_)
        and int(colormap) in _NAMES_BY_ID
    ):
        return int(colormap)
    raise ValueError(
        f"colormap must be an OpenCV colormap id 0-21 or one of the names "
        f"{', '.join(COLORMAP_NAMES)}; got {colormap!r}"
    )


def colormap_name(colormap: object) -> str:
    """Return the lower-case name (e.g. ``"jet"``) of a colormap id or name."""
    return _NAMES_BY_ID[resolve_colormap(colormap)]


@cache
def _lut(cmap_id: int) -> np.ndarray:
    ramp = np.arange(256, dtype=np.uint8).reshape(256, 1)
    bgr = cv2.applyColorMap(ramp, cmap_id).reshape(256, 3)
    rgb = np.ascontiguousarray(bgr[:, ::-1])
    rgb.setflags(write=False)
    return rgb


def colormap_lut(colormap: object) -> np.ndarray:
    """Return the colormap as a read-only ``(256, 3)`` uint8 table in RGB order.

    Entry ``k`` is the colour OpenCV's ``applyColorMap`` gives the uint8 value ``k``.
    """
    return _lut(resolve_colormap(colormap))


@dataclass(frozen=True, eq=False)
class ColormapChoice:
    """A resolved colormap: what it reads back as, and its 256-entry RGBA table.

    Attributes
    ----------
    value : int or str
        What ``Heatmap.colormap`` reads back: the OpenCV id for OpenCV colormaps, else the
        napari colormap's name.
    name : str
        A short name (``"jet"``, ``"PiYG"``) for labels.
    table : numpy.ndarray
        ``(256, 4)`` uint8 RGBA, read-only: entry ``k`` is the colour of ``t = k / 255``.
    opencv : bool
        Whether this is one of OpenCV's 22 colormaps.
    """

    value: int | str
    name: str
    table: np.ndarray
    opencv: bool

    @property
    def key(self) -> str:
        """A name that tells this colormap from any other (for napari's registry)."""
        if self.opencv:
            return f"opencv-{self.name}"
        digest = format(zlib.crc32(self.table.tobytes()), "08x")
        return f"napari-{self.name}-{digest}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ColormapChoice):
            return NotImplemented
        return self.value == other.value and np.array_equal(self.table, other.table)

    def __hash__(self) -> int:
        return hash((self.value, self.table.tobytes()))


@cache
def _opencv_choice(cmap_id: int) -> ColormapChoice:
    rgba = np.concatenate([_lut(cmap_id), np.full((256, 1), 255, np.uint8)], axis=1)
    rgba.setflags(write=False)
    return ColormapChoice(cmap_id, _NAMES_BY_ID[cmap_id], rgba, True)


def napari_table(cmap: Any) -> np.ndarray:
    """Return a napari ``Colormap`` as a read-only ``(256, 4)`` uint8 RGBA table at t = k/255."""
    colours = np.asarray(cmap.map(np.arange(256, dtype=np.float64) / 255.0), np.float64)
    table = np.round(np.clip(colours, 0.0, 1.0) * 255.0).astype(np.uint8)
    table.setflags(write=False)
    return table


def choose_colormap(colormap: object) -> ColormapChoice:
    """Resolve a colormap: an OpenCV id or name first, else any colormap napari knows.

    Parameters
    ----------
    colormap : int, str or napari.utils.Colormap
        An OpenCV constant (``cv2.COLORMAP_JET``) or name (``"jet"``, ``"COLORMAP_JET"``);
        otherwise a napari colormap name (``"gray"``, ``"PiYG"``, a matplotlib name napari
        can resolve) or a ``napari.utils.Colormap``. ``"napari:<name>"`` skips OpenCV (for
        the names both know, such as ``"napari:viridis"``).

    Raises
    ------
    ValueError
        If neither OpenCV nor napari knows the colormap; the message lists OpenCV's names.
    """
    if isinstance(colormap, ColormapChoice):
        return colormap
    if isinstance(colormap, str) and colormap.startswith(NAPARI_PREFIX):
        return _napari_choice(colormap.removeprefix(NAPARI_PREFIX))
    try:
        return _opencv_choice(resolve_colormap(colormap))
    except ValueError as exc:
        opencv_error = exc
    if isinstance(colormap, bool | np.bool_ | int | np.integer) or colormap is None:
        raise opencv_error
    return _napari_choice(colormap)


def _napari_choice(colormap: object) -> ColormapChoice:
    from napari.utils.colormaps import Colormap, ensure_colormap  # only for napari's names

    if not isinstance(colormap, str | Colormap):
        raise TypeError(
            f"colormap must be an OpenCV id or name, a napari colormap name or a "
            f"napari.utils.Colormap; got {type(colormap).__name__}"
        )
    try:
        cmap = ensure_colormap(colormap)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise ValueError(
            f"colormap must be an OpenCV colormap id 0-21, one of the names "
            f"{', '.join(COLORMAP_NAMES)}, or a colormap napari knows; got {colormap!r}"
        ) from exc
    name = str(cmap.name)
    return ColormapChoice(name, name, napari_table(cmap), False)
