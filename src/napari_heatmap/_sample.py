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
    """Return the demo as napari layer data, adopted by a ready ``Heatmap`` (npe2 sample).

    napari's ``open_sample`` must receive at least one layer-data tuple, so the
    background and the display field are returned as two tuples whose metadata carry a
    token. A one-shot hook on the current viewer's layer list hands both layers, once
    napari has added them, to a :class:`~napari_heatmap.Heatmap` with the demo's
    settings, so clicking, the console's ``heatmap`` name and the dock widget work on
    them. Without a current viewer the tuples are plain layers.
    """
    import uuid

    import napari

    from . import _pipeline as pl
    from ._colormaps import resolve_colormap
    from ._layers import layer_contrast_limits, napari_colormap

    background, mask = demo_data()
    token = f"heatmap-demo-{uuid.uuid4().hex[:8]}"
    gray = pl.reduce_mask(mask)
    data_range = pl.finite_range(gray)
    limits = pl.infer_limits(data_range, DEMO_SETTINGS["vmin"], DEMO_SETTINGS["vmax"])
    display = pl.display_field(gray, DEMO_SETTINGS["blur_ksize"], None, data_range)
    cmap = napari_colormap(
        resolve_colormap(DEMO_SETTINGS["colormap"]), DEMO_SETTINGS["transparent_low"]
    )
    background_kwargs = {
        "name": "Heatmap background",
        "rgb": True,
        "metadata": {_TOKEN_KEY: token, _ROLE_KEY: "background"},
    }
    heatmap_kwargs = {
        "name": "Heatmap",
        "colormap": cmap,
        "contrast_limits": layer_contrast_limits(limits),
        "opacity": DEMO_OPACITY / 100.0,
        "blending": "translucent",
        "metadata": {_TOKEN_KEY: token, _ROLE_KEY: "heatmap"},
    }
    viewer = napari.current_viewer()
    if viewer is not None:
        _DemoAdopter(viewer, token, mask).connect()
    return [(background, background_kwargs, "image"), (display, heatmap_kwargs, "image")]


_PENDING: set[_DemoAdopter] = set()
_TOKEN_KEY = "napari_heatmap"
_ROLE_KEY = "napari_heatmap_role"


class _DemoAdopter:
    """One-shot: once both demo layers of ``token`` are in the viewer, adopt them.

    napari's emitters hold bound methods weakly, so pending adopters are kept alive in
    ``_PENDING`` until they have done their work.
    """

    def __init__(self, viewer: Any, token: str, mask: np.ndarray) -> None:
        self.viewer, self.token, self.mask = viewer, token, mask

    def connect(self) -> None:
        _PENDING.add(self)
        self.viewer.layers.events.inserted.connect(self._on_inserted)

    def disconnect(self) -> None:
        self.viewer.layers.events.inserted.disconnect(self._on_inserted)
        _PENDING.discard(self)

    def _find(self, role: str) -> Any:
        for layer in self.viewer.layers:
            meta = layer.metadata
            if meta.get(_TOKEN_KEY) == self.token and meta.get(_ROLE_KEY) == role:
                return layer
        return None

    def _on_inserted(self, event: Any) -> None:
        background, heatmap = self._find("background"), self._find("heatmap")
        if background is None or heatmap is None:
            return
        self.disconnect()
        from ._heatmap import Heatmap
        from ._session import push_to_console

        hm = Heatmap(
            heatmap_mask=self.mask,
            widget_id=self.token,
            viewer=self.viewer,
            _layers=(background, heatmap),
            **DEMO_SETTINGS,
        )
        hm.opacity = DEMO_OPACITY
        push_to_console(self.viewer, hm)
