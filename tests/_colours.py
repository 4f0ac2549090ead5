"""Helpers for model tests: what napari's GPU path paints, without a GPU."""

from __future__ import annotations

from typing import Any

import numpy as np


def gpu_rgba(layer: Any) -> np.ndarray:
    """RGBA (uint8) that a layer's colormap gives its data through its contrast limits.

    This is the shader's arithmetic; fully transparent pixels have their colour zeroed
    (see :func:`visible_rgba`), as it cannot be seen.
    """
    lo, hi = layer.contrast_limits
    t = np.clip((layer.data.astype(np.float64) - lo) / (hi - lo), 0, 1)
    rgba = layer.colormap.map(t.ravel()).reshape(*t.shape, 4)
    rgba[np.isnan(layer.data)] = 0
    return visible_rgba(np.round(rgba * 255).astype(np.uint8))


def visible_rgba(rgba: np.ndarray) -> np.ndarray:
    """RGBA as it can be seen: the colour of a fully transparent pixel does not matter."""
    out = rgba.copy()
    out[out[..., 3] == 0] = 0
    return out
