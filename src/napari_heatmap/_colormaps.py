"""The 22 OpenCV colormaps as RGB lookup tables, and name/id resolution.

Pure floor: imports neither napari nor Qt.
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np

__all__ = ["COLORMAP_NAMES", "colormap_lut", "colormap_name", "resolve_colormap"]

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
