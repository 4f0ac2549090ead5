"""The ``Heatmap`` controller: one object owning the layers, settings and click callbacks.

napari-model floor: imports napari, never Qt. Works on a ``napari.Viewer`` or a bare
``ViewerModel``; the dock widget is a view over this object. Its collaborators each have one
job: :class:`~napari_heatmap._settings.Settings` (validation), :func:`~napari_heatmap._field.
prepare` (the field), :mod:`~napari_heatmap._layers` (the layer recipe and its inverse),
:class:`~napari_heatmap._interaction.Interaction` (clicks, hover, marker) and
:mod:`~napari_heatmap._registry` (the heatmaps of a viewer).

One state with napari: what napari's layer controls change on the heatmap layer (contrast
limits, colormap, opacity, blending, visibility) is folded back into the settings at once,
announced by the same events as a change from code; gamma, which the colour rule cannot
honour, is put back to 1 with a notification.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

import cv2
import numpy as np
from napari.utils.events import EmitterGroup, Event
from napari.utils.notifications import show_error, show_warning

from . import _pipeline as pl
from . import _registry
from ._background import load_background, natural_contrast_limits
from ._binding import LayerBinding
from ._colormaps import ColormapChoice
from ._field import AnyField, prepare
from ._interaction import DRAG_TOLERANCE_PX, Interaction, format_value
from ._layers import (
    LAYER_KEY,
    heatmap_layer_kwargs,
)
from ._lazy import LazyField
from ._placement import (
    DEFAULT_ORIGIN,
    check_pixel_size,
    frame_size,
    layer_extent,
    pixel_at,
    stack_index_at,
    stack_transform,
)
from ._settings import Settings
from ._stack import load_stack_background

if TYPE_CHECKING:
    from napari.components import ViewerModel
    from napari.layers import Image, Layer, Points

__all__ = ["DRAG_TOLERANCE_PX", "ClickCallback", "Heatmap", "format_value"]

logger = logging.getLogger(__name__)

ClickCallback = Callable[[int, int, float], Any]

#: The events a settings change announces, by setting.
_EVENTS = {
    "vmin": ("vmin", "limits"),
    "vmax": ("vmax", "limits"),
    "percentiles": ("percentiles", "limits"),
    "colormap": ("colormap",),
    "transparent_low": ("transparent_low",),
    "opacity": ("opacity",),
    "blur_ksize": ("blur",),
    "blur_function": ("blur",),
    "width": ("frame",),
    "height": ("frame",),
    "blending": ("blending",),
    "visible": ("visible",),
    "norm": ("norm", "limits"),
    "linthresh": ("norm", "limits"),
    "vcenter": ("norm", "limits"),
    "threshold": ("threshold",),
}


class _Setting:
    """A ``Heatmap`` property backed by its settings: read the setting, assign to update it.

    Assigning goes through ``Heatmap._update``: validated whole, pushed to the layer,
    announced by the setting's events; a bad value raises and changes nothing.
    """

    def __init__(self, doc: str) -> None:
        self.__doc__ = doc

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        if obj is None:
            return self
        return getattr(obj._settings, self.name)

    def __set__(self, obj: Any, value: Any) -> None:
        obj._update(**{self.name: value})


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
    colormap : int, str or napari.utils.Colormap
        OpenCV colormap constant (``cv2.COLORMAP_JET``) or name (``"jet"``) — these come
        first — else any colormap napari knows (``"gray"``, ``"PiYG"``, a ``Colormap``).
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
    origin : (float, float) or None
        World position (y, x) of the frame's top-left corner; None puts the centre of
        pixel (0, 0) at the world origin, as napari does for a new image.
    percentiles : (float, float)
        An inferred (None) vmin / vmax is this percentile of the finite values of the mask
        (NumPy's default method), so ``(2, 98)`` ignores outliers; ``(0, 100)``: min and max.
    norm : {"linear", "log", "symlog", "centered"}
        How a display value becomes a colour: t as matplotlib's ``Normalize``, ``LogNorm``,
        ``SymLogNorm(linthresh, linscale=1, base=10)`` or ``TwoSlopeNorm(vcenter)`` computes
        it (behaviour §11).
    linthresh : float
        The "symlog" norm's linear range around 0 (> 0).
    vcenter : float
        The "centered" norm's centre; two inferred limits are made symmetric about it.
    threshold : float or None
        Display values below it are transparent, whatever the norm.
    stack : bool
        Read the mask as a stack (…, H, W): every axis before the last two is shown with
        napari's dimension sliders, each slice blurred on its own, limits over the whole
        stack (behaviour §12). The background may then be a stack of the same leading shape.

    Attributes
    ----------
    events : napari.utils.events.EmitterGroup
        Emits ``mask``, ``background``, ``colormap``, ``vmin``, ``vmax``, ``limits``,
        ``transparent_low``, ``opacity``, ``blur``, ``frame``, ``blending``, ``visible``,
        ``percentiles``, ``norm`` (norm, linthresh or vcenter), ``threshold``, ``click`` and
        ``closed`` — for changes from code and from napari's layer controls.
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
        colormap: Any = cv2.COLORMAP_JET,
        width: float | None = None,
        height: float | None = None,
        blur_ksize: tuple[int, int] | None = (5, 5),
        blur_function: pl.BlurFunction | None = None,
        widget_id: str | None = None,
        *,
        viewer: ViewerModel | None = None,
        origin: tuple[float, float] | None = None,
        percentiles: tuple[float, float] = (0.0, 100.0),
        norm: str = "linear",
        linthresh: float = 1.0,
        vcenter: float = 0.0,
        threshold: float | None = None,
        stack: bool = False,
    ) -> None:
        # Validate and compute everything before touching any viewer: a failed call adds nothing.
        settings = Settings().replace(
            vmin=vmin,
            vmax=vmax,
            transparent_low=transparent_low,
            colormap=colormap,
            width=width,
            height=height,
            blur_ksize=blur_ksize,
            blur_function=blur_function,
            percentiles=percentiles,
            norm=norm,
            linthresh=linthresh,
            vcenter=vcenter,
            threshold=threshold,
        )
        stack = _validate_stack(stack)
        field = None if heatmap_mask is None else self._prepare(heatmap_mask, settings, stack)
        background = None if background_image is None else _load_background(background_image, field)
        self._init_state(settings, widget_id, background, field, _validate_origin(origin), stack)
        if viewer is None:
            import napari

            viewer = napari.current_viewer() or napari.Viewer()
        elif not hasattr(getattr(viewer, "__wrapped__", viewer), "layers"):
            raise TypeError(
                f"viewer must be a napari.Viewer, a ViewerModel or None; got "
                f"{type(viewer).__name__}"
            )
        self._attach(viewer)

    @classmethod
    def from_layers(
        cls,
        mask_layer: Image,
        background_layer: Image | None = None,
        **keywords: Any,
    ) -> Heatmap:
        """Make a heatmap from two image layers, covering the mask layer's world extent.

        The mask layer's data become the mask (the layer is hidden, not removed); the
        background layer's data the background, stretched over the same frame. Its scale
        and translate are honoured: the heatmap sits exactly where the mask layer was.

        Parameters
        ----------
        mask_layer : napari.layers.Image
            A 2-D (or H×W×C) image layer of a viewer.
        background_layer : napari.layers.Image or None
            The layer to show beneath, or None.
        **keywords
            Any other keyword of :class:`Heatmap` (not ``width``, ``height``, ``origin``);
            ``viewer`` defaults to the current viewer that holds ``mask_layer``.
        """
        viewer = keywords.pop("viewer", None) or _viewer_of(mask_layer)
        data = np.asarray(mask_layer.data)
        plane = data.shape[-2:] if keywords.get("stack") else data.shape[:2]
        frame, origin = layer_extent(plane, mask_layer.scale, mask_layer.translate)
        background = None if background_layer is None else np.asarray(background_layer.data)
        hm = cls(
            background_image=background,
            heatmap_mask=data,
            width=frame[1],
            height=frame[0],
            viewer=viewer,
            origin=origin,
            **keywords,
        )
        hm._mask_source = mask_layer
        mask_layer.visible = False
        return hm

    @classmethod
    def _adopt(
        cls, viewer: Any, layer: Image, background_layer: Image | None, spec: dict[str, Any]
    ) -> Heatmap:
        """Make a live heatmap of a layer napari-heatmap made (the sample, the reader)."""
        settings = Settings().replace(**spec.get("settings", {}))
        field = cls._prepare(spec["mask"], settings)
        hm = cls.__new__(cls)
        background = None
        if background_layer is not None:
            background = load_background(np.asarray(background_layer.data))
        hm._init_state(settings, spec.get("token"), background, field, DEFAULT_ORIGIN)
        # live now: the layer's metadata say whose it is, the mask and settings live here
        layer.metadata = {**layer.metadata, **hm.layer_metadata("heatmap")}
        hm._attach(viewer, heatmap_layer=layer, background_layer=background_layer)
        from ._console import push_to_console

        push_to_console(viewer, hm)
        return hm

    def _init_state(
        self,
        settings: Settings,
        widget_id: str | None,
        background: np.ndarray | None,
        field: AnyField | None,
        origin: tuple[float, float],
        stack: bool = False,
    ) -> None:
        if widget_id is not None and not isinstance(widget_id, str):
            raise TypeError(f"widget_id must be a str or None; got {widget_id!r}")
        limits = _limits_for(field, settings)
        self.widget_id: str = widget_id or f"heatmap-{uuid.uuid4().hex[:8]}"
        self._settings = settings
        self._background = background
        self._field = field
        self._limits = limits
        self._picture = _picture(None, field, settings, limits)
        self._origin = origin
        self._stack = stack
        _check_frame(
            self._natural_size(),
            settings.width,
            settings.height,
            [None if field is None else field.plane_shape],
        )
        self._click: tuple[int, int, float] | None = None
        self._click_index: tuple[int, ...] | None = None
        self._slice_names: tuple[str, ...] | None = None
        self._callbacks: list[ClickCallback] = []
        self._mask_source: Layer | None = None
        self._busy = False
        # (what, the field or mask it was computed from, blur_ksize, blur_function), result
        self._precomputed: tuple[tuple[Any, ...], AnyField] | None = None
        self._removing = False
        self._user_removal = False
        self.events = EmitterGroup(
            source=self,
            mask=Event,
            background=Event,
            colormap=Event,
            vmin=Event,
            vmax=Event,
            limits=Event,
            percentiles=Event,
            transparent_low=Event,
            opacity=Event,
            blur=Event,
            frame=Event,
            blending=Event,
            visible=Event,
            norm=Event,
            threshold=Event,
            click=Event,
            closed=Event,
        )
        self.background_layer: Image | None = None
        self.heatmap_layer: Image | None = None
        self._interaction = Interaction(self)
        self._binding = LayerBinding(self)
        self.viewer: ViewerModel | None = None

    def _attach(
        self,
        viewer: Any,
        heatmap_layer: Image | None = None,
        background_layer: Image | None = None,
    ) -> None:
        self.viewer = getattr(viewer, "__wrapped__", viewer)  # a plugin widget gets a proxy
        self.background_layer, self.heatmap_layer = background_layer, heatmap_layer
        if heatmap_layer is not None:
            self._binding.connect(heatmap_layer)
        self.viewer.layers.events.removed.connect(self._on_layer_removed)
        self._sync_background()
        self._sync_heatmap()
        _registry.register(self)
        _registry.watch(self.viewer)

    @staticmethod
    def instances(viewer: ViewerModel | None = None) -> list[Heatmap]:
        """Return the open heatmaps, oldest first (only those of ``viewer`` if given).

        Heatmap layers that napari-heatmap made (the sample, the reader) and that are not
        live yet become live heatmaps first.
        """
        if viewer is not None:
            _registry.adopt_layers(viewer)
        return _registry.heatmaps(viewer)

    # ------------------------------------------------------------------ properties

    # settings-backed properties: reading gives the setting, assigning is a validated update
    vmin = _Setting("The lower limit as set (None: inferred). See :attr:`limits` for the one used.")
    vmax = _Setting("The upper limit as set (None: inferred). See :attr:`limits` for the one used.")
    percentiles = _Setting(
        "The (lo, hi) percentiles of the finite values that inferred limits are (default 0, 100)."
    )
    transparent_low = _Setting("Whether pixels that would get the lowest colour are transparent.")
    opacity = _Setting("Heatmap opacity in percent, 0-100 (values outside are clamped).")
    blending = _Setting("How the heatmap layer is blended over the layers beneath (napari's).")
    visible = _Setting("Whether the heatmap layer is shown (napari's eye button sets it too).")
    blur_ksize = _Setting("Gaussian blur kernel (odd ints), or None for no blur.")
    blur_function = _Setting("Custom blur function (wins over :attr:`blur_ksize`), or None.")
    width = _Setting("Frame width in world units (None: natural size).")
    height = _Setting("Frame height in world units (None: natural size).")
    norm = _Setting(
        'How values become colours: "linear", "log", "symlog" or "centered" (behaviour §11).'
    )
    linthresh = _Setting('The "symlog" norm\'s linear range around 0 (> 0).')
    vcenter = _Setting('The "centered" norm\'s centre.')
    threshold = _Setting("Display values below it are transparent (None: no threshold).")

    @property
    def heatmap_mask(self) -> Any:
        """The current mask exactly as given, or None. Assigning it calls set_heatmap."""
        return None if self._field is None else self._field.mask

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
    def colormap(self) -> int | str:
        """The colormap: the OpenCV id (``cv2.COLORMAP_*``) for OpenCV's, else napari's name.

        Accepts an OpenCV id or name (these come first), a napari colormap name or a
        ``napari.utils.Colormap``. napari's colormap box sets it too.
        """
        return self._settings.colormap.value

    @colormap.setter
    def colormap(self, value: Any) -> None:
        self._update(colormap=value)

    @property
    def colormap_choice(self) -> ColormapChoice:
        """The resolved colormap: its read-back value, name and ``(256, 4)`` RGBA table."""
        return self._settings.colormap

    @property
    def limits(self) -> tuple[float, float] | None:
        """The (vmin, vmax) actually used, or None when the mask has no finite value."""
        return self._limits

    @property
    def data_range(self) -> tuple[float, float] | None:
        """(min, max) of the finite values of the mask (after reduction to 2-D)."""
        return None if self._field is None else self._field.data_range

    @property
    def stats(self) -> dict[str, float | int | None] | None:
        """Statistics of the mask's finite values (None without a mask), measured once a mask.

        Keys: ``count``, ``finite``, ``nan``, ``posinf``, ``neginf``, ``min``, ``max``,
        ``mean``, ``std`` (ddof 0) and ``p1``, ``p5``, ``p25``, ``p50``, ``p75``, ``p95``,
        ``p99`` (NumPy's default percentile method).
        """
        return None if self._field is None else dict(self._field.stats)

    @property
    def stats_measured(self) -> bool:
        """Whether :attr:`stats` are measured already (reading them is then free)."""
        return self._field is not None and "stats" in vars(self._field)

    @property
    def frame(self) -> tuple[float, float] | None:
        """The (height, width) of the shared frame in world units, or None."""
        return frame_size(self._natural_size(), self._settings.width, self._settings.height)

    @property
    def origin(self) -> tuple[float, float]:
        """World position (y, x) of the frame's top-left corner.

        Assigning moves the frame (background, heatmap and marker together; the marker of the
        last click is removed, the click values stay) and announces ``frame``.
        """
        return self._origin

    @origin.setter
    def origin(self, value: Any) -> None:
        self._check_open()
        if value is None:
            raise TypeError("origin must be a pair of numbers (y, x); got None")
        new = _validate_origin(value)
        if new == self._origin:
            return
        self._origin = new
        self._place_layers()
        self._emit("frame", self.frame)

    def _natural_size(self) -> tuple[int, ...] | None:
        if self._background is not None:
            return _plane(self._background)
        if self._field is not None:
            return self._field.plane_shape
        return None

    @property
    def stack(self) -> bool:
        """Whether the mask is read as a stack of 2-D slices (behaviour §12).

        Assigning re-reads the current mask (kept as given) the new way; a failure (a
        stacked background under ``stack=False``, say) changes nothing.
        """
        return self._stack

    @stack.setter
    def stack(self, value: bool) -> None:
        self._check_open()
        stack = _validate_stack(value)
        if stack == self._stack:
            return
        old, source = self._stack, self._mask_source
        self._stack = stack
        try:
            self.set_heatmap(self.heatmap_mask)
        except Exception:
            self._stack = old
            raise
        if source is not None:  # still the same layer's data: as set_heatmap_from_layer does
            self._mask_source = source
            self._emit("mask", self.heatmap_mask)

    @property
    def click_index(self) -> tuple[int, ...] | None:
        """Full index of the last click in the mask: (stack indices..., y, x); None before.

        For a 2-D mask it is ``(y, x)``; for a stack the slice on screen when clicked.
        """
        return self._click_index

    @property
    def click_y(self) -> int | None:
        """Row of the last click in mask pixels (None before the first click)."""
        return None if self._click is None else self._click[0]

    @property
    def click_x(self) -> int | None:
        """Column of the last click in mask pixels (None before the first click)."""
        return None if self._click is None else self._click[1]

    @property
    def click_value(self) -> float | None:
        """Raw mask value at the last click (None before the first click)."""
        return None if self._click is None else self._click[2]

    @property
    def marker_layer(self) -> Points | None:
        """The layer marking the last click, or None."""
        return self._interaction.marker_layer

    @property
    def mask_layer(self) -> Layer | None:
        """The image layer the mask was taken from (dock, :meth:`from_layers`), or None."""
        layer = self._mask_source
        if layer is None or self.viewer is None or layer not in self.viewer.layers:
            return None
        return layer

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
        ``set_heatmap`` again so the picture, the limits and the clicks agree. The last
        click is cleared.
        """
        self._set_mask(mask, None)

    def _set_mask(self, mask: Any, names: tuple[str, ...] | None) -> None:
        """Show a new mask whose slices are named ``names`` (or not named)."""
        self._check_open()
        s = self._settings
        key = ("mask", mask, s.blur_ksize, s.blur_function, self._stack)
        ready = self._take_precomputed(key)
        with self._computing():
            field = (
                ready
                if ready is not None and ready.mask is mask
                else (None if mask is None else self._prepare(mask, s, self._stack))
            )
        if ready is not None and field is ready:
            _warn_about(field.mask, self._stack)
            if field.data_range is None:
                show_warning("napari-heatmap: heatmap_mask has no finite value; nothing to show")
        _check_background_stack(self._background, field)
        limits = _limits_for(field, s)
        picture = _picture(None, field, s, limits)
        natural = (
            _plane(self._background)
            if self._background is not None
            else (None if field is None else field.plane_shape)
        )
        _check_frame(natural, s.width, s.height, [None if field is None else field.plane_shape])
        self._field, self._limits, self._picture = field, limits, picture
        self._slice_names = names
        self._binding.forget_field()
        self._mask_source = None
        self._clear_click()
        self._sync_heatmap()
        self._emit("mask", self.heatmap_mask)
        self._emit("limits", self._limits)

    def set_heatmap_from_layer(self, layer: Image) -> None:
        """Show the data of an image layer as the mask; hide that layer and remember it.

        The heatmap's own layer is the mask already: choosing it changes nothing.
        """
        self._check_open()
        if layer is self.heatmap_layer or layer is self.mask_layer:
            return
        self.set_heatmap(np.asarray(layer.data))
        self._mask_source = layer
        layer.visible = False
        self._emit("mask", self.heatmap_mask)

    def precompute_blur(
        self, blur_ksize: tuple[int, int] | None, blur_function: pl.BlurFunction | None = None
    ) -> None:
        """Do the work of a new blur now, so that setting it later is quick.

        Safe to call from a worker thread (``napari.qt.threading.thread_worker``) with a
        Gaussian ``blur_ksize``: it only reads the mask and keeps the result; then set
        ``blur_ksize`` on the GUI thread, which finds the work done if nothing has changed
        in between (else it does the work itself). A ``blur_function`` runs where this is
        called: call it on the GUI thread unless the function is thread-safe.
        """
        field = self._field
        ksize = pl.validate_blur_ksize(blur_ksize)
        func = pl.validate_blur_function(blur_function)
        if field is not None:
            key = ("blur", field, ksize, func)
            self._precomputed = (key, field.reblurred(ksize, func))

    def precompute_mask(self, mask: Any) -> None:
        """Do the work of ``set_heatmap(mask)`` now, so that calling it later is quick.

        Thread-safe in the sense of :meth:`precompute_blur`; ``set_heatmap`` with the very same
        mask object, blur and blur function on the GUI thread then uses the result.
        """
        s = self._settings
        key = ("mask", mask, s.blur_ksize, s.blur_function, self._stack)
        field = prepare(mask, s.blur_ksize, s.blur_function, self._stack)
        self._precomputed = (key, field)

    def _take_precomputed(self, key: tuple[Any, ...]) -> AnyField | None:
        """Return (and let go of) precomputed work for exactly these inputs, else None."""
        slot, self._precomputed = self._precomputed, None
        if slot is None or len(slot[0]) != len(key):
            return None
        same = all(
            a is b or (a == b if isinstance(a, str | tuple) or a is None else False)
            for a, b in zip(slot[0], key, strict=True)
        )
        return slot[1] if same else None

    def set_background(self, image: Any) -> None:
        """Show a new background (None removes it). A failure keeps the previous one."""
        self._check_open()
        background = None if image is None else _load_background(image, self._field)
        natural = (
            _plane(background)
            if background is not None
            else (None if self._field is None else self._field.plane_shape)
        )
        _check_frame(
            natural,
            self._settings.width,
            self._settings.height,
            [None if self._field is None else self._field.plane_shape],
        )
        self._background = background
        self._sync_background()
        self._place_layers()
        self._emit("background", self._background)

    def set_heatmap_from_annotations(
        self, anns: Iterable[Any], object_name: str | None = None, *, stack: bool = False
    ) -> None:
        """Show the density of Supervisely labels (see the README's *Supervisely annotations*).

        Parameters
        ----------
        anns : annotation, path or iterable of them
            Annotations: parsed ones, JSON dicts, paths to annotation files, dataset or
            project folders (all their annotations), or objects with ``to_json()`` (the
            Supervisely SDK's ``Annotation``). The grid follows :attr:`width` /
            :attr:`height` when set, else the mean image size.
        object_name : str or None
            Only labels of this class title count.
        stack : bool
            One slice per annotation file (in the order given; a folder's in sorted order)
            on the common grid, as a stack with napari's slider (the heatmap is in stack mode
            from then on); :attr:`slice_names` names the files, and the status bar and the
            dock show the name of the slice on screen.
        """
        from ._reader._density import density_progress
        from .supervisely import annotation_sources, density_map, density_stack

        self._check_open()
        stack = _validate_stack(stack)
        s = self._settings
        w = None if s.width is None else int(round(s.width))
        h = None if s.height is None else int(round(s.height))
        sources = annotation_sources(anns, layouts=True)  # each folder listed once
        if not stack:
            grid = density_map(
                sources, width=w, height=h, object_name=object_name, progress=density_progress
            )
            self.set_heatmap(grid)
            return
        slices, names = density_stack(
            sources, width=w, height=h, object_name=object_name, progress=density_progress
        )
        old = self._stack
        self._stack = True
        try:
            self._set_mask(slices, tuple(names))
        except Exception:
            self._stack = old
            raise

    @property
    def slice_names(self) -> tuple[str, ...] | None:
        """The name of each slice of a stack made from annotation files, or None."""
        return self._slice_names

    @property
    def slice_name(self) -> str | None:
        """The name of the slice on screen (see :attr:`slice_names`), or None."""
        names = self._slice_names
        at = self._slice_on_screen() if names else None
        return names[at[0]] if names and at else None

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

    def value_at(self, y: int, x: int, *, index: Iterable[int] | None = None) -> float:
        """Return the raw mask value at mask pixel (y, x) (channel mean for H×W×C masks).

        For a stack, of the slice on screen, or of the slice at ``index`` (its stack indices).
        """
        if self._field is None:
            raise ValueError("value_at: there is no heatmap_mask")
        gray = self._field.gray
        lead = self._field.stack_shape
        at = self._slice_on_screen() if index is None else tuple(int(i) for i in index)
        if at is None or len(at) != len(lead):
            raise IndexError(f"value_at: index {at!r} is not a slice of the stack {lead}")
        for name, i, size in zip(
            (*(f"index[{k}]" for k in range(len(lead))), "y", "x"),
            (*at, y, x),
            gray.shape,
            strict=True,
        ):
            if not 0 <= int(i) < size:
                raise IndexError(f"value_at: {name}={i!r} is outside the mask (0..{size - 1})")
        full = (*at, int(y), int(x))
        if isinstance(self._field, LazyField):  # one element of the source, read now
            return self._field.value(full)
        return float(gray[full])

    def _slice_on_screen(self) -> tuple[int, ...] | None:
        """Return the stack indices of the slice on screen (() for a 2-D mask), None if none."""
        if self._field is None or not self._field.stack_shape:
            return ()
        viewer = self.viewer
        point = () if viewer is None else tuple(viewer.dims.point)
        return stack_index_at(point, self._field.stack_shape)

    def pixel_at(self, world: Iterable[float]) -> tuple[int, int] | None:
        """Return the mask pixel (y, x) under a world position, or None outside the heatmap."""
        index = self.index_at(world)
        return None if index is None else (index[-2], index[-1])

    def index_at(self, world: Iterable[float]) -> tuple[int, ...] | None:
        """Return the full mask index (stack indices..., y, x) under a world position, or None.

        A world position shorter than the viewer's (a (y, x) pair, say) is on the slice on
        screen (napari's dimension sliders fill in the other axes).
        """
        frame = self.frame
        if self._field is None or frame is None or self.heatmap_layer is None:
            return None
        world = tuple(world)
        yx = pixel_at(world, frame, self._field.plane_shape, self._origin)
        if yx is None:
            return None
        lead = self._field.stack_shape
        if not lead:
            return yx
        point = list(self.viewer.dims.point) if self.viewer is not None else []
        if len(world) < len(point):
            point[len(point) - len(world) :] = world
            world = tuple(point)
        at = stack_index_at(world, lead)
        return None if at is None else (*at, *yx)

    def click_at(self, world: Iterable[float]) -> tuple[int, int, float] | None:
        """Act as a click at a world position: what a left click on the canvas does.

        Returns (y, x, value), or None when the point is outside the heatmap.
        """
        self._check_open()
        world = tuple(world)
        if len(world) < 2:
            raise ValueError(f"click_at expects a world position (..., y, x); got {world!r}")
        target = self.index_at(world)
        if target is None:
            return None
        y, x = target[-2:]
        field = self._field
        if isinstance(field, LazyField):  # one element of the source, read now
            value = field.value(target)
        else:
            value = float(field.gray[target]) if field is not None else math.nan
        click = self._click = (y, x, value)
        self._click_index = target
        self._interaction.show_marker(world, value)
        self._emit("click", self._click)
        for func in list(self._callbacks):
            try:
                func(y, x, value)
            except Exception as exc:  # a user callback must not break the others
                logger.exception("click callback %r raised", func)
                show_error(f"napari-heatmap: click callback {_name(func)} raised {exc!r}")
        return click

    def to_rgba(self) -> Any:
        """Return the heatmap layer's picture as ``(H, W, 4)`` uint8 RGBA (before opacity).

        For a stack, ``(…, H, W, 4)``: every slice with the stack's limits.

        The same picture :func:`~napari_heatmap.mask_to_rgba` renders with these settings: a
        NumPy array, or for a lazy mask (§13) a dask array computed chunk by chunk.
        """
        if self._field is None:
            raise ValueError("to_rgba: there is no heatmap_mask")
        if isinstance(self._field, LazyField):  # a lazy picture, coloured chunk by chunk
            s = self._settings
            return self._field.rgba(
                self._limits,
                s.colormap,
                s.transparent_low,
                norm=s.norm_spec,
                threshold=s.threshold,
            )
        return self._colour(self._field.display, self._field.scale)

    def colours_of(self, values: Any) -> np.ndarray:
        """Return the RGBA (uint8, shape ``(..., 4)``) the screen gives these display values.

        With the current limits, norm, colormap, ``transparent_low`` and threshold: what the
        legend and the dock's histogram paint. All transparent without limits.
        """
        try:
            arr = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(f"colours_of expects numbers; got {values!r}") from None
        return self._colour(arr, 1.0)

    def histogram(self, bins: int = 128) -> tuple[np.ndarray, np.ndarray] | None:
        """Return (counts, edges) of the mask's finite raw values, or None when there are none.

        ``bins`` equal bins between the finite min and max; under ``norm="log"`` bins equal
        in log10 over the positive values. Measured once per mask and ``bins`` (one pass).
        """
        if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
            raise ValueError(f"bins must be a positive int; got {bins!r}")
        if self._field is None:
            return None
        return self._field.histogram(int(bins), log=self._settings.norm == "log")

    def _colour(self, display: np.ndarray, scale: float) -> np.ndarray:
        s = self._settings
        return pl.rgba_from_display(
            display,
            self._limits,
            s.colormap,
            s.transparent_low,
            norm=s.norm_spec,
            threshold=s.threshold,
            scale=scale,
        )

    def _layer_limits(self) -> tuple[float, float] | None:
        """Return the limits in the layer field's units (display units, or the norm's)."""
        limits, field = self._limits, self._field
        if limits is None or field is None:
            return limits
        norm = self._settings.norm_spec
        if norm.linear or pl.is_constant(limits):
            return field.display_limits(limits)
        return norm.layer_limits(limits)

    def _layer_range(self) -> tuple[float, float] | None:
        """Return the finite values' range in the layer field's units (for napari's slider).

        Under "log" the positive values' (the floor of values <= 0 is left out).
        """
        field, limits = self._field, self._limits
        if field is None or limits is None or field.data_range is None:
            return None
        norm = self._settings.norm_spec
        if norm.linear or pl.is_constant(limits):
            return field.display_limits(field.data_range)
        span = field.positive_range if norm.kind == "log" else field.data_range
        if span is None:
            return None
        lo, hi = norm.layer_field(np.array(span, np.float64), limits)
        return float(lo), float(hi)

    def _limits_from_layer(self, layer_limits: tuple[float, float]) -> tuple[float, float]:
        """Return data limits for limits in the layer field's units (napari's slider)."""
        field, limits = self._field, self._limits
        norm = self._settings.norm_spec
        if field is None or limits is None or norm.linear or pl.is_constant(limits):
            scale = 1.0 if field is None else field.scale
            return layer_limits[0] / scale, layer_limits[1] / scale
        return norm.limits_from_layer(layer_limits, limits)

    def layer_metadata(self, role: str) -> dict[str, Any]:
        """Return the metadata that marks a layer as this heatmap's (``role``: its part)."""
        return {LAYER_KEY: {"widget_id": self.widget_id, "role": role}}

    def close(self) -> None:
        """Remove this heatmap's layers and hooks from the viewer. Safe to call twice."""
        viewer = self.viewer
        if viewer is None:
            return
        self._check_open()  # not from inside its own blur_function
        self._interaction.disconnect()
        if self.heatmap_layer is not None:
            self._binding.disconnect(self.heatmap_layer)
        for layer in self.layers:
            self.drop_layer(layer)
        self._interaction.marker_layer = None
        self.background_layer = self.heatmap_layer = None
        viewer.layers.events.removed.disconnect(self._on_layer_removed)
        self.viewer = None
        _registry.unregister(self, viewer)
        self._emit("closed", None)

    def __repr__(self) -> str:
        shape = None if self._field is None else self._field.gray.shape
        return (
            f"Heatmap(widget_id={self.widget_id!r}, mask_shape={shape}, limits={self._limits}, "
            f"colormap={self.colormap!r}, opacity={self.opacity})"
        )

    # ------------------------------------------------------------------ settings

    @staticmethod
    def _prepare(mask: Any, settings: Settings, stack: bool = False) -> AnyField:
        field = prepare(mask, settings.blur_ksize, settings.blur_function, stack)
        _warn_about(mask, stack)
        if field.data_range is None:
            show_warning("napari-heatmap: heatmap_mask has no finite value; nothing to show")
        return field

    def _update(self, **changes: Any) -> None:
        """Validate, compute, then commit a settings change; push it to the layer; announce it.

        Every step that can fail runs before anything is committed, so a bad value changes
        nothing. Changes folded back from napari's controls come through here too.
        """
        self._check_open()
        old = self._settings
        new = old.replace(**changes)
        changed = [k for k in _EVENTS if getattr(new, k) != getattr(old, k)]
        if not changed:
            return
        field = self._field
        if field is not None and (new.blur_ksize, new.blur_function) != (
            old.blur_ksize,
            old.blur_function,
        ):
            ready = self._take_precomputed(("blur", field, new.blur_ksize, new.blur_function))
            with self._computing():
                field = (
                    ready
                    if ready is not None
                    else field.reblurred(new.blur_ksize, new.blur_function)
                )
        limits = _limits_for(field, new)
        picture = _picture(self._picture, field, new, limits)
        if "width" in changed or "height" in changed:
            _check_frame(
                self._natural_size(),
                new.width,
                new.height,
                [None if field is None else field.plane_shape],
            )
        before = (self._settings, self._field, self._limits, self._picture)
        self._settings, self._field, self._limits, self._picture = new, field, limits, picture
        repainted = picture.data is not before[3].data
        try:
            self._show(repainted=repainted, placed="width" in changed or "height" in changed)
        except Exception as exc:  # napari refused it: put everything back as it was
            self._settings, self._field, self._limits, self._picture = before
            self._binding.forget_field()
            try:
                self._show(repainted=repainted, placed=True)
            except Exception:
                logger.exception("napari-heatmap: could not restore the heatmap layer")
            raise ValueError(
                f"{', '.join(changed)}: napari could not show this change ({exc}); "
                "nothing was changed"
            ) from exc
        for name in dict.fromkeys(e for key in changed for e in _EVENTS[key]):
            value = (
                self.frame
                if name == "frame"
                else (
                    (new.blur_ksize, new.blur_function) if name == "blur" else getattr(self, name)
                )
            )
            self._emit(name, value)

    def _show(self, *, repainted: bool, placed: bool) -> None:
        """Make the layers show the committed state (the field too when it changed)."""
        if repainted:
            self._binding.forget_field()
            if self.heatmap_layer is not None and self._picture.data is not None:
                with self._binding.pushing():
                    self.heatmap_layer.data = self._picture.data
        self._binding.push()
        if placed:
            self._place_layers()

    # ------------------------------------------------------------------ layers

    def _emit(self, name: str, value: Any) -> None:
        """Announce a change; a listener that raises is reported, never passed to the caller.

        The change is made by then: an exception escaping here would make a setter, a click or
        ``close`` look failed after it had happened, and stop the click callbacks.
        """
        try:
            getattr(self.events, name)(value=value)
        except Exception as exc:
            logger.exception("a listener of Heatmap.events.%s raised", name)
            show_error(f"napari-heatmap: a listener of events.{name} raised {exc!r}")

    @contextmanager
    def _computing(self) -> Iterator[None]:
        """Mark a computation that runs user code (a blur_function): no call may re-enter."""
        old, self._busy = self._busy, True
        try:
            yield
        finally:
            self._busy = old

    def _check_open(self) -> None:
        if self._busy:
            raise RuntimeError(
                f"{self.widget_id} is computing its display field (in its blur_function): it "
                "cannot be changed or closed from inside that function"
            )
        if self.viewer is None:
            raise RuntimeError(
                f"{self.widget_id} is closed (close() was called or its layers were "
                "deleted); create a new Heatmap"
            )

    def _clear_click(self) -> None:
        self._interaction.remove_marker()
        self._click_index = None
        if self._click is not None:
            self._click = None
            self._emit("click", None)

    def _sync_heatmap(self) -> None:
        viewer = self.viewer
        if viewer is None:
            return
        if self._field is None:
            if self.heatmap_layer is not None:
                layer, self.heatmap_layer = self.heatmap_layer, None
                self._binding.disconnect(layer)
                self.drop_layer(layer)
            self._interaction.disconnect()
            self._clear_click()
            return
        display = self._picture.data
        assert display is not None
        multiscale = isinstance(self._field, LazyField)  # a lazy mask shows as a pyramid
        layer = self.heatmap_layer
        if layer is not None and (
            layer.multiscale != multiscale
            or (multiscale and layer.ndim != len(self._field.gray.shape))
        ):  # napari cannot make a layer a pyramid or not, nor change a pyramid's axes
            layer, self.heatmap_layer = self.heatmap_layer, None
            self._binding.disconnect(layer)
            self.drop_layer(layer)
        if self.heatmap_layer is None:
            s = self._settings
            kwargs = heatmap_layer_kwargs(
                colormap=s.colormap,
                transparent_low=s.transparent_low,
                limits=self._layer_limits(),
                constant=pl.is_constant(self._limits),
                opacity=s.opacity / 100.0,
                metadata=self.layer_metadata("heatmap")[LAYER_KEY],
                transform=self._transform(self._field.gray.shape),  # placed before napari fits
            )
            layer = viewer.add_image(display, multiscale=multiscale, **kwargs)
            self.heatmap_layer = layer
            self._binding.connect(layer)
        elif self.heatmap_layer.data is not display:
            with self._binding.pushing():
                self.heatmap_layer.data = display
        self._binding.push()
        self._interaction.connect()
        self._place_layers()

    def _sync_background(self) -> None:
        viewer = self.viewer
        if viewer is None:
            return
        if self._background is None:
            if self.background_layer is not None:
                layer, self.background_layer = self.background_layer, None
                self.drop_layer(layer)
            return
        clim = natural_contrast_limits(self._background)
        if self.background_layer is None:
            self.background_layer = viewer.add_image(
                self._background,
                name="Heatmap background",
                rgb=True,
                contrast_limits=clim,
                metadata=self.layer_metadata("background"),
                **self._transform(self._background.shape[:-1]),
            )
            if self.heatmap_layer is not None:  # keep the background under the heatmap
                layers = viewer.layers
                layers.move(layers.index(self.background_layer), layers.index(self.heatmap_layer))
        elif self.background_layer.data is not self._background:
            self.background_layer.data = self._background
            self.background_layer.contrast_limits = clim

    def _transform(self, shape: tuple[int, ...]) -> dict[str, tuple[float, ...]]:
        """Return napari's scale and translate of a layer of ``shape`` (…, H, W) in the frame."""
        frame = self.frame
        if frame is None:
            return {}
        scale, translate = stack_transform(frame, shape, self._origin)
        return {"scale": scale, "translate": translate}

    def _place_layers(self) -> None:
        frame = self.frame
        if frame is None:
            return
        for layer, shape in (
            (
                self.background_layer,
                None if self._background is None else self._background.shape[:-1],
            ),
            (self.heatmap_layer, None if self._field is None else self._field.gray.shape),
        ):
            if layer is not None and shape is not None:  # (…, H, W): stacks keep scale 1
                scale, translate = stack_transform(frame, shape, self._origin)
                if tuple(layer.scale) != scale:  # each set costs napari a refresh
                    layer.scale = scale
                if tuple(layer.translate) != translate:
                    layer.translate = translate
        self._interaction.remove_marker()

    def drop_layer(self, layer: Layer | None) -> None:
        """Remove one of this heatmap's layers from the viewer (unless napari is doing so)."""
        viewer = self.viewer
        if layer is None or viewer is None or layer not in viewer.layers:
            return
        if self._user_removal and layer in viewer.layers.selection:
            return  # part of the user's "remove selected": napari removes it next
        old, self._removing = self._removing, True
        try:
            viewer.layers.remove(layer)
        finally:
            self._removing = old

    def _on_layer_removed(self, event: Any) -> None:
        """Let go of a layer the user removed."""
        if self._removing:
            return
        old, self._user_removal = self._user_removal, True
        try:
            self._let_go(event.value)
        finally:
            self._user_removal = old

    def _let_go(self, layer: Layer) -> None:
        if layer is self.marker_layer:
            self._interaction.marker_layer = None
        elif layer is self.background_layer:
            self.background_layer = None
            self._background = None
            self._place_layers()  # the frame is the mask's now
            self._emit("background", None)
            self._emit("frame", self.frame)
        elif layer is self.heatmap_layer:
            self._binding.disconnect(layer)
            self.heatmap_layer = None
            self._interaction.disconnect()
            self._field, self._limits, self._slice_names = None, None, None
            self._picture = _picture(None, None, self._settings, None)
            self._binding.forget_field()
            self._clear_click()
            self._emit("mask", None)
            self._emit("limits", None)
        if self.background_layer is None and self.heatmap_layer is None:
            self.close()  # nothing of ours is left: leave no callbacks behind


def _limits_for(field: AnyField | None, s: Settings) -> tuple[float, float] | None:
    """Return the limits a field is shown with under settings ``s`` (behaviour §2.2, §11)."""
    if field is None:
        return pl.infer_limits(None, s.vmin, s.vmax)
    return field.limits(s.vmin, s.vmax, s.percentiles, s.norm_spec)


class _Picture(NamedTuple):
    """What the heatmap layer holds, with what it was made from."""

    field: AnyField | None
    key: tuple[Any, ...]
    data: Any


def _picture(
    old: _Picture | None, field: AnyField | None, s: Settings, limits: tuple[float, float] | None
) -> _Picture:
    """Return the layer's field for these settings, reusing ``old`` when nothing it needs changed.

    Under the linear norm with no threshold it is the display field itself; a norm or a
    threshold costs one pass when it changes ("centered" also when the limits do).
    """
    if field is None:
        return _Picture(None, (), None)
    norm = s.norm_spec
    plain = limits is None or norm.linear or pl.is_constant(limits)
    key = (
        None if plain else norm,
        s.threshold,
        limits if not plain and norm.follows_limits else None,
    )
    if old is not None and old.field is field and old.key == key:
        return old
    return _Picture(field, key, field.layer_field(norm, limits, s.threshold))


def _check_frame(
    natural: tuple[int, ...] | None,
    width: float | None,
    height: float | None,
    shapes: Iterable[tuple[int, ...] | None] = (),
) -> None:
    frame = frame_size(natural, width, height)
    if frame is None:
        return
    if not all(math.isfinite(v) and v > 0 for v in frame):
        raise ValueError(
            f"width and height must give a finite frame; width={width!r}, "
            f"height={height!r} give {frame}"
        )
    check_pixel_size(
        frame, [shape for shape in (natural, *shapes) if shape is not None], width, height
    )


def _validate_stack(stack: object) -> bool:
    if not isinstance(stack, bool | np.bool_):
        raise TypeError(f"stack must be True or False; got {stack!r}")
    return bool(stack)


def _warn_about(mask: Any, stack: bool) -> None:
    """Tell the user when a 3-D mask read as H×W×C is probably a stack (behaviour §12)."""
    message = pl.ambiguous_mask_message(mask, stack)
    if message is not None:
        show_warning(f"napari-heatmap: {message}")


def _plane(background: np.ndarray) -> tuple[int, int]:
    """(H, W) of a loaded background: (H, W, C) or a stack (…, H, W, C)."""
    return background.shape[-3], background.shape[-2]


def _load_background(image: Any, field: AnyField | None) -> np.ndarray:
    """Load a background for this mask: 2-D, or a stack when the mask is a stack."""
    return load_stack_background(image, () if field is None else field.stack_shape)


def _check_background_stack(background: np.ndarray | None, field: AnyField | None) -> None:
    """Refuse a mask whose stack does not fit the stacked background on screen."""
    if background is None or background.ndim == 3 or field is None:
        return
    lead = tuple(background.shape[:-3])
    if field.stack_shape != lead:
        raise ValueError(
            f"heatmap_mask must be a stack of shape {lead} (…, H, W) over this stacked "
            f"background; got stack shape {field.stack_shape} (set a 2-D background first)"
        )


def _validate_origin(origin: object) -> tuple[float, float]:
    if origin is None:
        return DEFAULT_ORIGIN
    try:
        y, x = (float(v) for v in origin)  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        raise TypeError(
            f"origin must be a pair of numbers (y, x) or None; got {origin!r}"
        ) from None
    if not (math.isfinite(y) and math.isfinite(x)):
        raise ValueError(f"origin must be finite; got {origin!r}")
    return y, x


def _viewer_of(layer: Any) -> Any:
    for hm_viewer in _candidate_viewers():
        if layer in hm_viewer.layers:
            return hm_viewer
    raise ValueError(f"mask_layer {getattr(layer, 'name', layer)!r} is in no open napari viewer")


def _candidate_viewers() -> list[Any]:
    import napari

    viewers: list[Any] = []
    current = napari.current_viewer()
    if current is not None:
        viewers.append(current)
    viewers += [hm.viewer for hm in _registry.heatmaps() if hm.viewer is not None]
    return viewers


def _name(func: Callable[..., Any]) -> str:
    return getattr(func, "__qualname__", None) or repr(func)
