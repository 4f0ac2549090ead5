"""The demo from the original widget's documentation: gradient background, two blobs.

Pure floor for the data; ``make_demo_sample`` returns napari layer data for the npe2
sample contribution.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["DEMO_SETTINGS", "demo_data", "make_demo_sample"]

#: Settings of the documented mini-app.
DEMO_SETTINGS: dict[str, Any] = {
    "vmin": 0,
    "vmax": 255,
    "transparent_low": True,
    "colormap": "jet",
    "blur_ksize": (7, 7),
    "width": 600,
    "height": 400,
}
DEMO_OPACITY = 70


def demo_data(height: int = 400, width: int = 600) -> tuple[np.ndarray, np.ndarray]:
    """Return (background, mask) of the documented demo.

    The background is an RGB uint8 gradient; the mask two Gaussian blobs in 0..255
    (float32).
    """
    rows = np.arange(height)
    background = np.zeros((height, width, 3), dtype=np.uint8)
    background[..., 0] = (50 + rows // 3)[:, None].astype(np.uint8)
    background[..., 1] = 100
    background[..., 2] = (150 + rows // 5)[:, None].astype(np.uint8)
    y, x = np.ogrid[:height, :width]
    cy1, cx1 = height // 3, width // 3
    mask1 = np.exp(-((x - cx1) ** 2 + (y - cy1) ** 2) / (2 * 80**2))
    cy2, cx2 = 2 * height // 3, 2 * width // 3
    mask2 = np.exp(-((x - cx2) ** 2 + (y - cy2) ** 2) / (2 * 60**2))
    mask = ((mask1 + mask2 * 0.7) * 255).astype(np.float32)
    return background, mask


def make_demo_sample() -> list[tuple[Any, ...]]:
    """Return the demo as napari layer data that becomes a live heatmap (npe2 sample).

    The background and the heatmap layer carry napari-heatmap's metadata (the raw mask and
    the demo's settings for the heatmap layer). The viewer's registry turns them into a
    :class:`~napari_heatmap.Heatmap` as napari inserts them, so clicking, the console's
    ``heatmap`` name and the dock work at once; ``Heatmap.instances(viewer)`` does the same
    for a viewer that was not watched (a bare ``ViewerModel``).
    """
    import uuid

    import napari

    from . import _registry
    from ._field import prepare
    from ._layers import LAYER_KEY, heatmap_layer_kwargs

    background, mask = demo_data()
    token = f"heatmap-demo-{uuid.uuid4().hex[:8]}"
    settings = {**DEMO_SETTINGS, "opacity": DEMO_OPACITY}
    field = prepare(mask, DEMO_SETTINGS["blur_ksize"], None)
    heatmap_kwargs = heatmap_layer_kwargs(
        colormap=DEMO_SETTINGS["colormap"],
        transparent_low=DEMO_SETTINGS["transparent_low"],
        limits=field.display_limits(field.limits(DEMO_SETTINGS["vmin"], DEMO_SETTINGS["vmax"])),
        opacity=DEMO_OPACITY / 100.0,
        metadata={"role": "heatmap", "token": token, "mask": mask, "settings": settings},
    )
    background_kwargs = {
        "name": "Heatmap background",
        "rgb": True,
        "metadata": {LAYER_KEY: {"role": "background", "token": token}},
    }
    _registry.watch(napari.current_viewer())
    return [(background, background_kwargs, "image"), (field.display, heatmap_kwargs, "image")]
