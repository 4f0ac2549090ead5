"""npe2 writer: a heatmap layer's coloured picture as a PNG with alpha.

napari-model floor: imports napari's registry of heatmaps, never Qt. The picture is the one
:func:`~napari_heatmap.mask_to_rgba` renders with the heatmap's settings (before opacity,
without the background), so a saved file and a batch export agree pixel for pixel.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ._layers import LAYER_KEY

__all__ = ["write_heatmap_png"]


def write_heatmap_png(path: str, data: Any, attributes: dict[str, Any]) -> list[str]:
    """Save a heatmap layer's picture to ``path`` as an RGBA PNG; return ``[path]``.

    Raises
    ------
    ValueError
        If the layer is not a napari-heatmap layer, or ``path`` does not end in ``.png``.
    OSError
        If the file cannot be written.
    """
    if Path(path).suffix.lower() != ".png":
        raise ValueError(f"path must end in .png; got {path!r}")
    rgba = _picture(attributes)
    folder = Path(path).parent
    if not folder.is_dir():
        raise OSError(f"cannot write {path}: folder {folder} does not exist")
    if not cv2.imwrite(str(path), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA)):
        raise OSError(f"cannot write {path}")
    return [str(path)]


def _picture(attributes: dict[str, Any]) -> np.ndarray:
    meta = (attributes.get("metadata") or {}).get(LAYER_KEY)
    if isinstance(meta, dict):
        from . import _registry

        for hm in _registry.heatmaps():
            if hm.widget_id == meta.get("widget_id") or (
                meta.get("token") is not None and hm.widget_id == meta.get("token")
            ):
                return hm.to_rgba()
        if "mask" in meta:  # a heatmap layer not made live (yet): its own recipe
            from ._pipeline import mask_to_rgba

            settings = meta.get("settings", {})
            keys = ("colormap", "transparent_low", "vmin", "vmax", "blur_ksize")
            return mask_to_rgba(meta["mask"], **{k: settings[k] for k in keys if k in settings})
    name = attributes.get("name", "this layer")
    raise ValueError(
        f"{name!r} is not a napari-heatmap layer: save it with napari's own image writer"
    )
