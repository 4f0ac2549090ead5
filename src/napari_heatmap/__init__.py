"""napari-heatmap: overlay a 2-D field of values on an image in napari.

``Heatmap`` is the scripting object (the console, scripts and the dock widget share it);
``mask_to_rgba`` renders the same picture with no viewer, no Qt and no GPU;
``difference`` and ``side_by_side`` compare heatmaps.
"""

from __future__ import annotations

from typing import Any

from ._colormaps import COLORMAP_NAMES, colormap_lut
from ._pipeline import mask_to_rgba
from ._sample import demo_data, make_demo_sample

__version__ = "0.1.0"

__all__ = [
    "COLORMAP_NAMES",
    "Heatmap",
    "HeatmapWidget",
    "colormap_lut",
    "demo_data",
    "difference",
    "make_demo_sample",
    "mask_to_rgba",
    "napari_get_reader",
    "side_by_side",
    "write_heatmap_png",
]

# Names that import napari (Heatmap, the reader) or Qt (the widget) load on first use,
# so that `import napari_heatmap` and `mask_to_rgba` stay light and Qt-free.
_LAZY = {
    "Heatmap": "._heatmap",
    "HeatmapWidget": "._qt.widget",
    "difference": "._compare",
    "side_by_side": "._compare",
    "napari_get_reader": "._reader",
    "write_heatmap_png": "._writer",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module = importlib.import_module(_LAZY[name], __name__)
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
