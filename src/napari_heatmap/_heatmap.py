"""The ``Heatmap`` controller: one object owning the layers, parameters and click callbacks.

napari-model floor: imports napari, never Qt. Works on a ``napari.Viewer`` or a bare
``ViewerModel``; the dock widget is a view over this object.
"""

from __future__ import annotations

import logging
import math
import numbers
import uuid
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
from napari.utils.events import EmitterGroup, Event
from napari.utils.notifications import show_error, show_warning

from . import _pipeline as pl
from ._background import load_background, natural_contrast_limits
from ._colormaps import resolve_colormap
from ._layers import layer_contrast_limits, napari_colormap
from ._placement import frame_size, layer_transform, pixel_at, validate_size

if TYPE_CHECKING:
    from napari.components import ViewerModel
    from napari.layers import Image, Layer, Points

__all__ = ["ClickCallback", "Heatmap"]

logger = logging.getLogger(__name__)

ClickCallback = Callable[[int, int, float], Any]

_INSTANCES: list[Heatmap] = []


@dataclass(frozen=True)
class _Field:
    """A mask and everything derived from it, computed before anything is committed."""

    mask: Any
    gray: np.ndarray
    data_range: tuple[float, float] | None
    all_finite: bool
    limits: tuple[float, float] | None
    offset: float
    display: np.ndarray

#: A press and release further apart than this many screen pixels is a drag, not a click.
DRAG_TOLERANCE_PX = 4.0


def format_value(value: float) -> str:
    """Format a mask value for the marker and the status bar."""
    return "nan" if math.isnan(value) else f"{value:.4g}"


class Heatmap:
    """An interactive heatmap overlay in a napari viewer.

    Parameters
    ----------
    background_image : numpy.ndarray, str, os.PathLike or None
        Image under the heatmap: an array (gray, RGB, RGBA; uint8, uint16 or float), an
        image file, an ``http(s)://`` URL or a ``data:`` URL.
    heatmap_mask : numpy.ndarray or None
        H×W (or H×W×C, averaged over the last axis) values.
    vmin, vmax : float or None
        Colour limits; None infers them from the finite values of the mask.
    transparent_low : bool
        Make pixels that would get the colormap's lowest colour transparent.
    colormap : int or str
        OpenCV colormap constant (``cv2.COLORMAP_JET``) or name (``"jet"``).
    width, height : float or None
        Size of the frame in world units; with one given the other keeps the aspect ratio.
    blur_ksize : (int, int) or None
        Gaussian blur kernel (odd ints) for display; None disables it.
    blur_function : callable or None
        Custom blur ``f(gray_float32) -> array``; wins over ``blur_ksize``.
    widget_id : str or None
        Identifier; generated when None.
    viewer : napari.Viewer or ViewerModel or None
        Where to draw: the current viewer when None, else a new one.

    Attributes
    ----------
    events : napari.utils.events.EmitterGroup
        Emits ``mask``, ``background``, ``colormap``, ``vmin``, ``vmax``, ``limits``,
        ``transparent_low``, ``opacity``, ``blur``, ``frame``, ``click`` and ``closed``.
    viewer : napari.components.ViewerModel or None
        The viewer drawn into; None after :meth:`close`.
    """

    def __init__(
        self,
        background_image: Any = None,
        heatmap_mask: Any = None,
        vmin: float | None = None,
        vmax: float | None = None,
        transparent_low: bool = False,
        colormap: int | str = cv2.COLORMAP_JET,
        width: float | None = None,
        height: float | None = None,
        blur_ksize: tuple[int, int] | None = (5, 5),
        blur_function: pl.BlurFunction | None = None,
        widget_id: str | None = None,
        *,
        viewer: ViewerModel | None = None,
        _layers: tuple[Image | None, Image | None] | None = None,
    ) -> None:
        # Validate everything before touching any viewer: a failed call adds nothing.
        self._vmin = pl.validate_limit("vmin", vmin)
        self._vmax = pl.validate_limit("vmax", vmax)
        pl.infer_limits(None, self._vmin, self._vmax)  # vmin > vmax fails even with no mask
        self._colormap = resolve_colormap(colormap)
        self._transparent_low = _validate_bool("transparent_low", transparent_low)
        self._width = validate_size("width", width)
        self._height = validate_size("height", height)
        self._blur_ksize = pl.validate_blur_ksize(blur_ksize)
        self._blur_function = pl.validate_blur_function(blur_function)
        if widget_id is not None and not isinstance(widget_id, str):
            raise TypeError(f"widget_id must be a str or None; got {widget_id!r}")
        self.widget_id: str = widget_id or f"heatmap-{uuid.uuid4().hex[:8]}"
        self._opacity = 70.0

        self._background: np.ndarray | None = None
        if background_image is None and _layers is not None and _layers[0] is not None:
            background_image = np.asarray(_layers[0].data)
        if background_image is not None:
            self._background = load_background(background_image)
        self._mask: Any = None
        self._gray: np.ndarray | None = None
        self._data_range: tuple[float, float] | None = None
        self._display: np.ndarray | None = None
        self._all_finite: bool | None = None
        self._limits: tuple[float, float] | None = None
        self._offset = 0.0
        if heatmap_mask is not None:
            self._commit(self._prepare(heatmap_mask))
        self._check_frame(self._width, self._height)

        self._click_y: int | None = None
        self._click_x: int | None = None
        self._click_value: float | None = None
        self._callbacks: list[ClickCallback] = []

        self.events = EmitterGroup(
            source=self,
            mask=Event,
            background=Event,
            colormap=Event,
            vmin=Event,
            vmax=Event,
            limits=Event,
            transparent_low=Event,
            opacity=Event,
            blur=Event,
            frame=Event,
            click=Event,
            closed=Event,
        )

        self.background_layer: Image | None = None
        self.heatmap_layer: Image | None = None
        self.marker_layer: Points | None = None
        self._hooked = False
        self._removing = False
        self._user_removal = False
        self._in_status = False
        self._status_text = ""

        if viewer is None:
            import napari

            viewer = napari.current_viewer() or napari.Viewer()
        self.viewer: ViewerModel | None = viewer
        if _layers is not None:  # adopt layers made elsewhere (the npe2 sample)
            self.background_layer, self.heatmap_layer = _layers
        viewer.layers.events.removed.connect(self._on_layer_removed)
        self._sync_background()
        self._sync_heatmap()
        _INSTANCES.append(self)

    @staticmethod
    def instances(viewer: ViewerModel | None = None) -> list[Heatmap]:
        """Return the open heatmaps, oldest first (only those of ``viewer`` if given)."""
        return [hm for hm in _INSTANCES if viewer is None or hm.viewer is viewer]

    # ------------------------------------------------------------------ properties

    @property
    def heatmap_mask(self) -> Any:
        """The current mask exactly as given, or None. Assigning it calls set_heatmap."""
        return self._mask

    @heatmap_mask.setter
    def heatmap_mask(self, mask: Any) -> None:
        self.set_heatmap(mask)

    @property
    def background_image(self) -> np.ndarray | None:
        """The background on screen as an RGB(A) array (read-only view), or None."""
        if self._background is None:
            return None
        view = self._background.view()
        view.setflags(write=False)
        return view

    @background_image.setter
    def background_image(self, image: Any) -> None:
        self.set_background(image)

    @property
    def colormap(self) -> int:
        """The OpenCV colormap id (``cv2.COLORMAP_*``); accepts an id or a name."""
        return self._colormap

    @colormap.setter
    def colormap(self, value: int | str) -> None:
        self._check_open()
        cmap = resolve_colormap(value)
        if cmap == self._colormap:
            return
        self._colormap = cmap
        self._apply_colour()
        self.events.colormap(value=cmap)

    @property
    def vmin(self) -> float | None:
        """The lower limit as set (None: inferred). See :attr:`limits` for the one used."""
        return self._vmin

    @vmin.setter
    def vmin(self, value: float | None) -> None:
        self._set_limits(pl.validate_limit("vmin", value), self._vmax, "vmin")

    @property
    def vmax(self) -> float | None:
        """The upper limit as set (None: inferred). See :attr:`limits` for the one used."""
        return self._vmax

    @vmax.setter
    def vmax(self, value: float | None) -> None:
        self._set_limits(self._vmin, pl.validate_limit("vmax", value), "vmax")

    @property
    def limits(self) -> tuple[float, float] | None:
        """The (vmin, vmax) actually used, or None when the mask has no finite value."""
        return self._limits

    @property
    def data_range(self) -> tuple[float, float] | None:
        """(min, max) of the finite values of the mask (after reduction to 2-D)."""
        return self._data_range

    @property
    def transparent_low(self) -> bool:
        """Whether pixels that would get the lowest colour are transparent."""
        return self._transparent_low

    @transparent_low.setter
    def transparent_low(self, value: bool) -> None:
        self._check_open()
        value = _validate_bool("transparent_low", value)
        if value == self._transparent_low:
            return
        self._transparent_low = value
        self._apply_colour()
        self.events.transparent_low(value=value)

    @property
    def opacity(self) -> float:
        """Heatmap opacity in percent, 0-100 (values outside are clamped)."""
        return self._opacity

    @opacity.setter
    def opacity(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"opacity must be a number from 0 to 100; got {value!r}")
        if math.isnan(float(value)):
            raise ValueError(f"opacity must be a number from 0 to 100; got {value!r}")
        self._check_open()
        value = min(100.0, max(0.0, float(value)))
        if value == self._opacity:
            return
        self._opacity = value
        if self.heatmap_layer is not None:
            self.heatmap_layer.opacity = value / 100.0
        self.events.opacity(value=value)

    @property
    def blur_ksize(self) -> tuple[int, int] | None:
        """Gaussian blur kernel (odd ints), or None for no blur."""
        return self._blur_ksize

    @blur_ksize.setter
    def blur_ksize(self, value: tuple[int, int] | None) -> None:
        self._set_blur(pl.validate_blur_ksize(value), self._blur_function)

    @property
    def blur_function(self) -> pl.BlurFunction | None:
        """Custom blur function (wins over :attr:`blur_ksize`), or None."""
        return self._blur_function

    @blur_function.setter
    def blur_function(self, value: pl.BlurFunction | None) -> None:
        self._set_blur(self._blur_ksize, pl.validate_blur_function(value))

    @property
    def width(self) -> float | None:
        """Frame width in world units (None: natural size)."""
        return self._width

    @width.setter
    def width(self, value: float | None) -> None:
        self._check_open()
        value = validate_size("width", value)
        if value == self._width:
            return
        self._check_frame(value, self._height)
        self._width = value
        self._place_layers()
        self.events.frame(value=self.frame)

    @property
    def height(self) -> float | None:
        """Frame height in world units (None: natural size)."""
        return self._height

    @height.setter
    def height(self, value: float | None) -> None:
        self._check_open()
        value = validate_size("height", value)
        if value == self._height:
            return
        self._check_frame(self._width, value)
        self._height = value
        self._place_layers()
        self.events.frame(value=self.frame)

    @property
    def frame(self) -> tuple[float, float] | None:
        """The (height, width) of the shared frame in world units, or None."""
        return frame_size(self._natural_size(), self._width, self._height)

    def _natural_size(self) -> tuple[int, ...] | None:
        if self._background is not None:
            return self._background.shape[:2]
        if self._gray is not None:
            return self._gray.shape
        return None

    def _check_frame(self, width: float | None, height: float | None) -> None:
        frame = frame_size(self._natural_size(), width, height)
        if frame is not None and not all(math.isfinite(v) and v > 0 for v in frame):
            raise ValueError(
                f"width and height must give a finite frame; width={width!r}, "
                f"height={height!r} give {frame}"
            )

    @property
    def click_x(self) -> int | None:
        """Column of the last click in mask pixels (None before the first click)."""
        return self._click_x

    @property
    def click_y(self) -> int | None:
        """Row of the last click in mask pixels (None before the first click)."""
        return self._click_y

    @property
    def click_value(self) -> float | None:
        """Raw mask value at the last click (None before the first click)."""
        return self._click_value

    @property
    def layers(self) -> tuple[Layer, ...]:
        """The napari layers this heatmap owns and shows now."""
        return tuple(
            layer
            for layer in (self.background_layer, self.heatmap_layer, self.marker_layer)
            if layer is not None
        )

    # ------------------------------------------------------------------ methods

    def set_heatmap(self, mask: Any) -> None:
        """Show a new mask (None removes the heatmap). A failure changes nothing.

        The mask is kept as given, not copied: after changing its values in place, call
        ``set_heatmap`` again so the picture, the limits and the clicks agree.
        """
        self._check_open()
        if mask is None:
            self._clear_field()
        else:
            self._commit(self._prepare(mask))
        self._remove_marker()
        self._sync_heatmap()
        self.events.mask(value=self._mask)
        self.events.limits(value=self._limits)

    def set_background(self, image: Any) -> None:
        """Show a new background (None removes it). A failure keeps the previous one."""
        self._check_open()
        self._background = None if image is None else load_background(image)
        self._sync_background()
        self._place_layers()
        self.events.background(value=self._background)

    def set_heatmap_from_annotations(
        self, anns: Iterable[Any], object_name: str | None = None
    ) -> None:
        """Show the density of Supervisely labels (contract §6).

        Parameters
        ----------
        anns : annotation, path or iterable of them
            Annotations: parsed ones, JSON dicts, paths to annotation files, dataset or
            project folders (all their annotations), or objects with ``to_json()`` (the
            Supervisely SDK's ``Annotation``). The grid follows :attr:`width` /
            :attr:`height` when set, else the mean image size (contract §6).
        object_name : str or None
            Only labels of this class title count.
        """
        from .supervisely import annotation_sources, density_map

        self._check_open()
        w = None if self._width is None else int(round(self._width))
        h = None if self._height is None else int(round(self._height))
        sources = annotation_sources(anns)
        self.set_heatmap(density_map(sources, width=w, height=h, object_name=object_name))

    def click(self, func: ClickCallback) -> ClickCallback:
        """Register ``func(y, x, value)`` to be called on every click on the heatmap.

        Usable as a decorator; returns ``func``. Any number of callbacks may be registered.
        """
        if not callable(func):
            raise TypeError(f"click expects a callable func(y, x, value); got {func!r}")
        if func not in self._callbacks:
            self._callbacks.append(func)
        return func

    def remove_click_callback(self, func: ClickCallback) -> None:
        """Unregister a function added with :meth:`click` (no error if absent)."""
        if func in self._callbacks:
            self._callbacks.remove(func)

    def value_at(self, y: int, x: int) -> float:
        """Return the raw mask value at mask pixel (y, x) (channel mean for H×W×C masks)."""
        if self._gray is None:
            raise ValueError("value_at: there is no heatmap_mask")
        return float(self._gray[int(y), int(x)])

    def click_at(self, world: Iterable[float]) -> tuple[int, int, float] | None:
        """Act as a click at a world position: what a left click on the canvas does.

        Returns (y, x, value), or None when the point is outside the heatmap.
        """
        self._check_open()
        world = tuple(world)
        if len(world) < 2:
            raise ValueError(f"click_at expects a world position (..., y, x); got {world!r}")
        target = self._target(world)
        if target is None:
            return None
        y, x = target
        value = self.value_at(y, x)
        self._click_y, self._click_x, self._click_value = y, x, value
        self._show_marker(world, value)
        self.events.click(value=(y, x, value))
        for func in list(self._callbacks):
            try:
                func(y, x, value)
            except Exception as exc:  # a user callback must not break the others
                logger.exception("click callback %r raised", func)
                show_error(f"napari-heatmap: click callback {_name(func)} raised {exc!r}")
        return y, x, value

    def close(self) -> None:
        """Remove this heatmap's layers and hooks from the viewer. Safe to call twice."""
        viewer = self.viewer
        if viewer is None:
            return
        self._unhook()
        for layer in self.layers:
            self._drop_layer(layer)
        self.background_layer = self.heatmap_layer = self.marker_layer = None
        viewer.layers.events.removed.disconnect(self._on_layer_removed)
        self.viewer = None
        if self in _INSTANCES:
            _INSTANCES.remove(self)
        self.events.closed()

    def __repr__(self) -> str:
        shape = None if self._gray is None else self._gray.shape
        return (
            f"Heatmap(widget_id={self.widget_id!r}, mask_shape={shape}, limits={self._limits}, "
            f"colormap={self._colormap}, opacity={self._opacity})"
        )

    # ------------------------------------------------------------------ internals

    def _prepare(self, mask: Any) -> _Field:
        gray = pl.reduce_mask(mask)
        data_range, all_finite = pl.finite_stats(gray)
        limits = pl.infer_limits(data_range, self._vmin, self._vmax)
        offset = pl.display_offset(data_range, self._blur_function)
        display = pl.display_field(
            gray, self._blur_ksize, self._blur_function, data_range, all_finite, offset
        )
        if data_range is None:
            show_warning("napari-heatmap: heatmap_mask has no finite value; nothing to show")
        return _Field(mask, gray, data_range, all_finite, limits, offset, display)

    def _commit(self, f: _Field) -> None:
        self._mask, self._gray, self._data_range = f.mask, f.gray, f.data_range
        self._all_finite, self._limits = f.all_finite, f.limits
        self._offset, self._display = f.offset, f.display

    def _clear_field(self) -> None:
        self._mask = self._gray = self._display = None
        self._data_range = self._limits = self._all_finite = None
        self._offset = 0.0

    def _check_open(self) -> None:
        if self.viewer is None:
            raise RuntimeError(
                f"{self.widget_id} is closed (close() was called or its layers were "
                "deleted); create a new Heatmap"
            )

    def _set_limits(self, vmin: float | None, vmax: float | None, which: str) -> None:
        self._check_open()
        limits = pl.infer_limits(self._data_range, vmin, vmax)
        if (vmin, vmax) == (self._vmin, self._vmax):
            return
        self._vmin, self._vmax, self._limits = vmin, vmax, limits
        self._apply_colour()
        getattr(self.events, which)(value=getattr(self, which))
        self.events.limits(value=limits)

    def _set_blur(self, ksize: tuple[int, int] | None, func: pl.BlurFunction | None) -> None:
        self._check_open()
        if (ksize, func) == (self._blur_ksize, self._blur_function):
            return
        if self._gray is not None:
            offset = pl.display_offset(self._data_range, func)
            display = pl.display_field(
                self._gray, ksize, func, self._data_range, self._all_finite, offset
            )
        self._blur_ksize, self._blur_function = ksize, func
        if self._gray is not None:
            self._display, self._offset = display, offset
            if self.heatmap_layer is not None:
                self.heatmap_layer.data = display
                self._apply_colour()
        self.events.blur(value=(ksize, func))

    def _apply_colour(self) -> None:
        layer = self.heatmap_layer
        if layer is None:
            return
        limits = self._limits
        constant = limits is not None and limits[0] == limits[1]
        cmap = napari_colormap(self._colormap, self._transparent_low, constant)  # cached
        if layer.colormap is not cmap:  # each set costs napari a thumbnail: set what changed
            layer.colormap = cmap
        clim = layer_contrast_limits(limits, self._offset)
        if tuple(layer.contrast_limits) != clim:
            layer.contrast_limits = clim

    def _sync_heatmap(self) -> None:
        viewer = self.viewer
        if viewer is None:
            return
        if self._display is None:
            if self.heatmap_layer is not None:
                with _flag(self, "_removing"):
                    viewer.layers.remove(self.heatmap_layer)
                self.heatmap_layer = None
            self._unhook()
            self._remove_marker()
            return
        if self.heatmap_layer is None:
            constant = self._limits is not None and self._limits[0] == self._limits[1]
            self.heatmap_layer = viewer.add_image(
                self._display,
                name="Heatmap",
                colormap=napari_colormap(self._colormap, self._transparent_low, constant),
                contrast_limits=layer_contrast_limits(self._limits, self._offset),
                opacity=self._opacity / 100.0,
                blending="translucent",
                metadata={"napari_heatmap": self.widget_id},
                **self._transform(self._display.shape),  # placed before napari fits the view
            )
            self._hook()
        else:
            self.heatmap_layer.data = self._display
            self.heatmap_layer.opacity = self._opacity / 100.0
            self.heatmap_layer.blending = "translucent"
            self._apply_colour()
            self._hook()
        self._place_layers()

    def _sync_background(self) -> None:
        viewer = self.viewer
        if viewer is None:
            return
        if self._background is None:
            if self.background_layer is not None:
                with _flag(self, "_removing"):
                    viewer.layers.remove(self.background_layer)
                self.background_layer = None
            return
        clim = natural_contrast_limits(self._background)
        if self.background_layer is None:
            self.background_layer = viewer.add_image(
                self._background,
                name="Heatmap background",
                rgb=True,
                contrast_limits=clim,
                metadata={"napari_heatmap": self.widget_id},
                **self._transform(self._background.shape[:2]),
            )
            if self.heatmap_layer is not None:  # keep the background under the heatmap
                layers = viewer.layers
                layers.move(layers.index(self.background_layer), layers.index(self.heatmap_layer))
        else:
            self.background_layer.data = self._background
            self.background_layer.contrast_limits = clim

    def _transform(self, shape: tuple[int, ...]) -> dict[str, tuple[float, float]]:
        frame = self.frame
        if frame is None:
            return {}
        scale, translate = layer_transform(frame, shape[:2])
        return {"scale": scale, "translate": translate}

    def _place_layers(self) -> None:
        frame = self.frame
        if frame is None:
            return
        for layer, shape in (
            (self.background_layer, None if self._background is None else self._background.shape),
            (self.heatmap_layer, None if self._gray is None else self._gray.shape),
        ):
            if layer is not None and shape is not None:
                scale, translate = layer_transform(frame, shape[:2])
                if tuple(layer.scale) != scale:  # each set costs napari a refresh
                    layer.scale = scale
                if tuple(layer.translate) != translate:
                    layer.translate = translate
        self._remove_marker()

    def _target(self, world: tuple[float, ...]) -> tuple[int, int] | None:
        frame = self.frame
        if self._gray is None or frame is None or self.heatmap_layer is None:
            return None
        return pixel_at(world, frame, self._gray.shape)

    # mouse and status hooks ------------------------------------------------------

    def _hook(self) -> None:
        viewer = self.viewer
        if self._hooked or viewer is None:
            return
        viewer.mouse_drag_callbacks.append(self._on_mouse_drag)
        viewer.events.status.connect(self._on_status, position="last")
        viewer.cursor.events.position.connect(self._on_status, position="last")
        self._hooked = True

    def _unhook(self) -> None:
        viewer = self.viewer
        if not self._hooked or viewer is None:
            return
        if self._on_mouse_drag in viewer.mouse_drag_callbacks:
            viewer.mouse_drag_callbacks.remove(self._on_mouse_drag)
        viewer.events.status.disconnect(self._on_status)
        viewer.cursor.events.position.disconnect(self._on_status)
        self._hooked = False

    def _on_mouse_drag(self, viewer: Any, event: Any) -> Generator[None, None, None]:
        """Report a left click (press and release without dragging); a drag pans."""
        if event.type != "mouse_press" or event.button != 1:
            return
        start = np.asarray(event.pos, dtype=float)
        world = tuple(float(v) for v in event.position)
        dragged = False
        yield
        while event.type == "mouse_move":
            if np.hypot(*(np.asarray(event.pos, dtype=float) - start)) > DRAG_TOLERANCE_PX:
                dragged = True
            yield
        if event.type == "mouse_release" and not dragged:
            self.click_at(world)

    def _on_status(self, event: Any = None) -> None:
        """Show the raw value under the cursor in napari's status bar.

        Runs when napari sets a new status and when the cursor moves, so the value is
        there whether napari computes its status in a thread or not.
        """
        viewer = self.viewer
        if self._in_status or viewer is None:
            return
        target = None
        if viewer.mouse_over_canvas:
            target = self._target(tuple(viewer.cursor.position))
        text = ""
        if target is not None and self.heatmap_layer is not None:
            value = format_value(self.value_at(*target))
            text = f" | {self.heatmap_layer.name} mask[{target[0]}, {target[1]}] = {value}"
        status = viewer.status
        current = str(status.get("coordinates", "")) if isinstance(status, dict) else status
        # drop what this heatmap appended before (another heatmap's text stays)
        base = current.replace(self._status_text, "") if self._status_text else current
        updated = base + text
        self._status_text = text
        if updated == current:
            return
        with _flag(self, "_in_status"):
            if isinstance(status, dict):
                viewer.status = {**status, "coordinates": updated}
            else:
                viewer.status = updated

    # marker --------------------------------------------------------------------

    def _show_marker(self, world: tuple[float, ...], value: float) -> None:
        viewer = self.viewer
        frame = self.frame
        if viewer is None or frame is None:
            return
        point = np.array([[world[-2], world[-1]]], dtype=float)
        text = {"string": {"constant": format_value(value)}, "color": "white", "size": 12,
                "anchor": "upper_left"}
        if self.marker_layer is None:
            selected = list(viewer.layers.selection)
            active = viewer.layers.selection.active
            self.marker_layer = viewer.add_points(
                point,
                name="Heatmap click",
                size=max(frame) * 0.015,
                face_color="white",
                border_color="black",
                text=text,
                metadata={"napari_heatmap": self.widget_id},
            )
            viewer.layers.selection.clear()  # adding a layer selects it: give it back
            viewer.layers.selection.update(selected)
            viewer.layers.selection.active = active
        else:
            self.marker_layer.data = point
            self.marker_layer.text = text
            self.marker_layer.size = max(frame) * 0.015

    def _remove_marker(self) -> None:
        self._drop_layer(self.marker_layer)
        self.marker_layer = None

    def _drop_layer(self, layer: Layer | None) -> None:
        """Remove one of our layers from the viewer, unless napari is removing it already."""
        viewer = self.viewer
        if layer is None or viewer is None or layer not in viewer.layers:
            return
        if self._user_removal and layer in viewer.layers.selection:
            return  # part of the user's "remove selected": napari removes it next
        with _flag(self, "_removing"):
            viewer.layers.remove(layer)

    def _on_layer_removed(self, event: Any) -> None:
        """Let go of a layer the user removed."""
        if self._removing:
            return
        with _flag(self, "_user_removal"):
            self._let_go(event.value)

    def _let_go(self, layer: Layer) -> None:
        if layer is self.marker_layer:
            self.marker_layer = None
        elif layer is self.background_layer:
            self.background_layer = None
            self._background = None
            self._place_layers()  # the frame is the mask's now
            self.events.background(value=None)
            self.events.frame(value=self.frame)
        elif layer is self.heatmap_layer:
            self.heatmap_layer = None
            self._unhook()
            self._remove_marker()
            self._clear_field()
            self.events.mask(value=None)
            self.events.limits(value=None)
        if self.background_layer is None and self.heatmap_layer is None:
            self.close()  # nothing of ours is left: leave no callbacks behind


class _flag:
    """Context manager setting a boolean attribute for the duration of a block."""

    def __init__(self, obj: object, name: str) -> None:
        self.obj, self.name = obj, name

    def __enter__(self) -> None:
        self.old = getattr(self.obj, self.name)
        setattr(self.obj, self.name, True)

    def __exit__(self, *exc: object) -> None:
        setattr(self.obj, self.name, self.old)


def _validate_bool(name: str, value: object) -> bool:
    if isinstance(value, bool | np.bool_):
        return bool(value)
    raise TypeError(f"{name} must be True or False; got {value!r}")


def _name(func: Callable[..., Any]) -> str:
    return getattr(func, "__qualname__", None) or repr(func)
