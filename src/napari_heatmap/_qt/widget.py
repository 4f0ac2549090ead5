"""The dock widget: a thin view over the ``Heatmap`` of its viewer.

User edits go straight to the controller's properties; the controller's events update the
controls (with signals blocked, so nothing loops). The widget keeps no parameter of its own:
it shows the heatmap whose layer is selected (else the newest one of the viewer), or offers
to create one from two image layers, and rebinds when that heatmap closes. The same two
layer pickers show the layers in use and give a bound heatmap a new mask or background.

No exception leaves the widget's handlers: a refused edit is reported with ``show_error``
and the control shows the controller's state again; a failure while showing a new state
is reported too, so a change made from the console never fails because a view is open.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from magicgui.widgets import CheckBox, ComboBox, Container, Label, PushButton, Slider
from napari.layers import Image
from napari.utils.notifications import show_error
from qtpy.QtCore import QTimer

from .._colormaps import COLORMAP_NAMES, NAPARI_PREFIX
from .._console import push_to_console
from .._heatmap import Heatmap, format_value
from .._norms import NORMS
from ._compare import ComparePanel
from ._fields import (
    BlurField,
    NumberField,
    OptionalNumber,
    PercentileField,
    ThresholdField,
    mark_error,
)
from ._histogram import HistogramPanel, bin_centres
from ._legend import Legend, LegendScale
from ._lifecycle import OrphanWatcher

if TYPE_CHECKING:
    import napari

__all__ = ["HeatmapWidget"]

logger = logging.getLogger(__name__)

#: Controller events after which every control is re-read from the controller.
_STATE_EVENTS = (
    "mask",
    "background",
    "colormap",
    "vmin",
    "vmax",
    "limits",
    "percentiles",
    "transparent_low",
    "opacity",
    "blur",
    "frame",
)
#: Controller events of the analysis controls (norm and threshold): they re-read every control too.
_ANALYSIS_EVENTS = ("norm", "threshold")
#: Bins of the dock's histogram.
HISTOGRAM_BINS = 128
_NORM_TIP = (
    "how values map to colours between vmin and vmax: linear, log (positive values), "
    "symlog (linear within ±linthresh, log beyond), centered (vcenter gets the middle colour)"
)
_NO_CLICK = "click the heatmap to read a value"
#: Masks with more pixels than this are blurred off the GUI thread, with napari's progress bar.
BACKGROUND_PIXELS = 2**23


class HeatmapWidget(Container):
    """Dock widget driving the newest :class:`~napari_heatmap.Heatmap` of a viewer.

    Parameters
    ----------
    napari_viewer : napari.Viewer
        The viewer (napari injects it when the widget is opened from the Plugins menu).

    Attributes
    ----------
    heatmap : Heatmap or None
        The heatmap the controls drive now; None shows the "create" panel instead.
    """

    def __init__(self, napari_viewer: napari.viewer.Viewer) -> None:
        # napari hands plugin widgets a PublicOnlyProxy; the controller needs the viewer
        # itself (Heatmap.instances compares viewers by identity).
        self.viewer: Any = getattr(napari_viewer, "__wrapped__", napari_viewer)
        self.heatmap: Heatmap | None = None
        self._closed = False
        self._workers: set[Any] = set()  # background blurs running (kept alive until done)
        self._measuring = False  # statistics of a large mask being measured in a worker

        self.status = Label(value="")
        # -- layer pickers: the inputs of a new heatmap, or new inputs for the bound one
        self.background_choice = ComboBox(
            choices=self._image_choices,
            nullable=True,
            tooltip="image layer for the background (or none)",
        )
        self.set_background_button = PushButton(
            text="Set", tooltip="show this layer (none: no background) behind the heatmap"
        )
        self.mask_choice = ComboBox(
            choices=self._image_choices, tooltip="image layer whose values make the heatmap"
        )
        self.set_mask_button = PushButton(text="Set", tooltip="make the heatmap from this layer")
        self.sources = Container(
            widgets=[
                _row("background", self.background_choice, self.set_background_button),
                _row("mask", self.mask_choice, self.set_mask_button),
            ]
        )
        self._add_stack_box()
        # -- create panel: shown while the viewer has no heatmap
        self.create_button = PushButton(text="Create heatmap")
        self.create_panel = Container(widgets=[self.create_button])
        # -- controls: shown while bound to a heatmap
        self.colormap = ComboBox(label="colormap", choices=self._colormap_choices)
        self.vmin = OptionalNumber("vmin", "lower colour limit; auto = data minimum")
        self.vmax = OptionalNumber("vmax", "upper colour limit; auto = data maximum")
        self.transparent_low = CheckBox(
            text="transparent low", tooltip="hide pixels that get the lowest colour"
        )
        self.blur = BlurField()
        self.opacity = Slider(label="opacity", min=0, max=100, step=1, readout=True)
        self.frame_width = OptionalNumber("width", "frame width in world units; auto = natural")
        self.frame_height = OptionalNumber("height", "frame height in world units; auto = natural")
        self.colorbar = CheckBox(
            text="colorbar in canvas", tooltip="napari's colorbar overlay on the heatmap layer"
        )
        self.percentiles = PercentileField()
        self._build_analysis()
        self.legend = Legend()
        self.statistics = Label(label="statistics", value="")
        self.click_readout = Label(label="last click", value=_NO_CLICK)
        self.slice_readout = Label(label="slice", value="")
        self.controls = Container(
            widgets=[
                self.colormap,
                self.vmin,
                self.vmax,
                self.percentiles,
                self.norm,
                self.linthresh,
                self.vcenter,
                self.threshold,
                self.transparent_low,
                self.blur,
                self.opacity,
                self.frame_width,
                self.frame_height,
                self.legend,
                self.histogram,
                self.statistics,
                self.colorbar,
                self.slice_readout,
                self.click_readout,
            ]
        )
        super().__init__(
            widgets=[self.status, self.sources, self.create_panel, self.controls], labels=False
        )
        for panel in (self.sources, self.create_panel, self.controls):
            panel.margins = (0, 0, 0, 0)
        self.statistics.native.setWordWrap(True)  # a long read-out must not widen the dock
        self.compare = ComparePanel(self.viewer)  # difference, side by side
        self.append(self.compare)

        self._connect_widgets()
        self._connect_viewer()
        self._watcher = OrphanWatcher(self.native, self.close)
        self.native.destroyed.connect(self._on_native_destroyed)
        self._sync_binding()

    # ------------------------------------------------------------------ binding

    def bind(self, hm: Heatmap | None) -> None:
        """Drive ``hm`` (None: show the create panel). Rebinding lets go of the old one."""
        if hm is not self.heatmap:
            self._connect_heatmap(hm)
        self._refresh()

    def _connect_heatmap(self, hm: Heatmap | None) -> None:
        self._unbind()
        self.heatmap = hm
        if hm is not None:
            for name in _STATE_EVENTS:
                getattr(hm.events, name).connect(self._on_heatmap_changed)
            hm.events.click.connect(self._on_heatmap_click)
            hm.events.closed.connect(self._on_heatmap_closed)
            self._connect_analysis(hm)
            push_to_console(self.viewer, hm)

    def _unbind(self) -> None:
        hm, self.heatmap = self.heatmap, None
        if hm is None:
            return
        for name in _STATE_EVENTS:
            getattr(hm.events, name).disconnect(self._on_heatmap_changed)
        hm.events.click.disconnect(self._on_heatmap_click)
        hm.events.closed.disconnect(self._on_heatmap_closed)
        self._disconnect_analysis(hm)

    def _sync_binding(self) -> None:
        """Bind to the heatmap whose layer is selected, else keep the bound one, else the newest."""
        if self._closed:
            return
        instances = Heatmap.instances(self.viewer)
        active = self.viewer.layers.selection.active
        chosen = next((hm for hm in instances if active is not None and active in hm.layers), None)
        if chosen is None:
            chosen = (
                self.heatmap
                if self.heatmap in instances
                else (instances[-1] if instances else None)
            )
        self.bind(chosen)
        self.background_choice.reset_choices()
        self.mask_choice.reset_choices()
        self._show_sources()

    # ------------------------------------------------------------------ controller -> view

    def _on_heatmap_changed(self, event: Any = None) -> None:
        self._refresh()

    def _on_heatmap_click(self, event: Any = None) -> None:
        try:
            self._show_click()
        except Exception as exc:  # the view must not break the click of the controller
            _report_bug("show the click", exc)

    def _on_heatmap_closed(self, event: Any = None) -> None:
        self._unbind()
        self._sync_binding()

    def _refresh(self) -> None:
        """Re-read every control from the controller, emitting nothing and raising nothing.

        It runs inside the controller's setters (its events): an error here would make a
        console assignment fail after the heatmap had changed, so it is reported instead.
        """
        try:
            self._show_state()
        except Exception as exc:
            _report_bug("show the heatmap's state", exc)

    def _show_state(self) -> None:
        hm = self.heatmap
        self.create_panel.visible = hm is None
        self.controls.visible = hm is not None
        self.set_background_button.visible = self.set_mask_button.visible = hm is not None
        if hm is None:
            self.status.value = "No heatmap in this viewer: pick a mask layer and create one."
            return
        layer = hm.heatmap_layer
        self.status.value = (
            f"Heatmap: {layer.name}"
            if layer is not None
            else ("Heatmap with no mask: pick a mask layer and press Set")
        )
        limits = hm.limits
        frame = hm.frame
        with self.colormap.changed.blocked():
            self.colormap.reset_choices()
            self.colormap.value = _colormap_value(hm.colormap)
        self.vmin.show_state(hm.vmin, None if limits is None else limits[0])
        self.vmax.show_state(hm.vmax, None if limits is None else limits[1])
        with self.transparent_low.changed.blocked():
            self.transparent_low.value = hm.transparent_low
        self.blur.show_state(hm.blur_ksize, hm.blur_function is not None)
        with self.opacity.changed.blocked():
            self.opacity.value = round(hm.opacity)
        self.percentiles.show_state(hm.percentiles)
        self._show_statistics(hm)
        self.frame_width.show_state(hm.width, None if frame is None else frame[1])
        self.frame_height.show_state(hm.height, None if frame is None else frame[0])
        layer = hm.heatmap_layer
        with self.colorbar.changed.blocked():
            self.colorbar.value = bool(layer is not None and layer.colorbar.visible)
        self.colorbar.enabled = layer is not None
        self.legend.show_state(
            hm.colormap_choice, limits, hm.data_range, hm.transparent_low, self._legend_scale(hm)
        )
        self._show_analysis(hm)
        self._show_click()
        self._show_sources()
        self._show_stack(hm)

    def _show_sources(self) -> None:
        """Show the layers in use in the pickers: the mask's and the background's."""
        hm = self.heatmap
        if hm is None:
            return
        for picker, layer in (
            (self.mask_choice, hm.mask_layer or hm.heatmap_layer),
            (self.background_choice, hm.background_layer),
        ):
            if layer is None and picker is self.mask_choice:
                continue
            if layer is None or any(c is layer for c in picker.choices):
                with picker.changed.blocked():
                    picker.value = layer

    def _show_click(self) -> None:
        hm = self.heatmap
        if hm is None or hm.click_y is None or hm.click_value is None:
            self.click_readout.value = _NO_CLICK
            return
        index = hm.click_index or ()
        slices = ""
        if len(index) > 2:
            names = hm.slice_names
            named = f" ({names[index[0]]})" if names is not None and len(index) == 3 else ""
            slices = f"slice {', '.join(map(str, index[:-2]))}{named}: "
        self.click_readout.value = (
            f"{slices}y={hm.click_y}, x={hm.click_x}, value={format_value(hm.click_value)}"
        )

    # ------------------------------------------------------------------ view -> controller

    def _connect_widgets(self) -> None:
        self.create_button.changed.connect(self._on_create)
        self.set_mask_button.changed.connect(self._on_set_mask)
        self.set_background_button.changed.connect(self._on_set_background)
        self.colormap.changed.connect(self._on_colormap_edited)
        self.vmin.edited.connect(self._on_vmin_edited)
        self.vmax.edited.connect(self._on_vmax_edited)
        self.percentiles.edited.connect(self._on_percentiles_edited)
        self.transparent_low.changed.connect(self._on_transparent_low_edited)
        self.blur.changed.connect(self._on_blur_edited)
        self.opacity.changed.connect(self._on_opacity_edited)
        self.frame_width.edited.connect(self._on_width_edited)
        self.frame_height.edited.connect(self._on_height_edited)
        self.colorbar.changed.connect(self._on_colorbar_edited)
        self._connect_analysis_widgets()

    def _call(self, func: Any, *args: Any) -> bool:
        """Run a controller call for the user; report a failure and show the state again.

        ``ValueError``/``TypeError`` are the controller refusing an input (it changed
        nothing); anything else is a bug, logged with its traceback. Either way the controls
        are re-read from the controller afterwards, so they never show a refused value.
        """
        self._refused: str | None = None  # why the controller refused the last call
        try:
            func(*args)
        except (ValueError, TypeError) as exc:
            self._refused = str(exc)
            show_error(f"napari-heatmap: {exc}")
            return False
        except Exception as exc:
            _report_bug("apply the change", exc)
            return False
        finally:
            self._refresh()
        return True

    def _set(self, name: str, value: Any) -> None:
        """Set a controller property (see :meth:`_call`)."""
        if self.heatmap is not None:
            self._call(setattr, self.heatmap, name, value)

    def _on_colormap_edited(self, value: int) -> None:
        self._set("colormap", value)

    def _on_vmin_edited(self, value: float | None) -> None:
        self._set("vmin", value)

    def _on_vmax_edited(self, value: float | None) -> None:
        self._set("vmax", value)

    def _on_percentiles_edited(self, value: tuple[float, float]) -> None:
        self._set("percentiles", value)

    def _show_statistics(self, hm: Heatmap) -> None:
        """Show the mask's statistics; for a large mask, measure them off the GUI thread first."""
        layer = hm.heatmap_layer
        if layer is None:
            self.statistics.value = "no mask"
            return
        if not hm.stats_measured and self._heavy(layer):
            if not self._measuring:
                self._measuring = True
                self.statistics.value = "measuring…"
                self._in_background(
                    hm, lambda: (hm.stats, hm.histogram(HISTOGRAM_BINS)), self._measured
                )
            return
        stats = hm.stats
        if stats is None or stats["finite"] == 0:
            self.statistics.value = "no finite values"
            return
        number = {k: float(v) for k, v in stats.items() if v is not None}
        text = ", ".join(f"{k} {format_value(number[k])}" for k in ("mean", "std", "p1", "p99"))
        missing = int(number["count"] - number["finite"])
        self.statistics.value = text + (f"; {missing} not finite" if missing else "")
        self.statistics.tooltip = "\n".join(f"{k}: {v}" for k, v in stats.items())

    def _measured(self) -> None:
        self._measuring = False

    def _on_transparent_low_edited(self, value: bool) -> None:
        self._set("transparent_low", bool(value))

    def _on_blur_edited(self, _: Any = None) -> None:
        hm, ksize = self.heatmap, self.blur.ksize  # an even size typed shows as the odd one
        if hm is not None and self._heavy(hm.heatmap_layer):
            self._in_background(
                hm, lambda: hm.precompute_blur(ksize), lambda: setattr(hm, "blur_ksize", ksize)
            )
        else:
            self._set("blur_ksize", ksize)

    # analysis: norm, threshold, histogram ----------------------------------------------

    def _build_analysis(self) -> None:
        """Make the norm choice, its parameters, the threshold and the histogram."""
        self.norm = ComboBox(label="norm", choices=list(NORMS), tooltip=_NORM_TIP)
        self.linthresh = NumberField(
            "linthresh", "symlog: linear within ±linthresh, logarithmic beyond (> 0)"
        )
        self.vcenter = NumberField("vcenter", "centered: the value that gets the middle colour")
        self.threshold = ThresholdField()
        self.histogram_panel = HistogramPanel()
        self.histogram: Container[Any] = Container(labels=False, label="histogram")
        self.histogram.margins = (0, 0, 0, 0)
        self.histogram.native.layout().addWidget(self.histogram_panel)

    def _connect_analysis_widgets(self) -> None:
        self.norm.changed.connect(self._on_norm_edited)
        self.linthresh.edited.connect(self._on_linthresh_edited)
        self.vcenter.edited.connect(self._on_vcenter_edited)
        self.threshold.edited.connect(self._on_threshold_edited)
        view = self.histogram_panel.view
        view.dragged.connect(self._on_histogram_dragged)
        view.released.connect(self._on_histogram_released)

    def _connect_analysis(self, hm: Heatmap) -> None:
        for name in _ANALYSIS_EVENTS:
            getattr(hm.events, name).connect(self._on_heatmap_changed)

    def _disconnect_analysis(self, hm: Heatmap) -> None:
        for name in _ANALYSIS_EVENTS:
            getattr(hm.events, name).disconnect(self._on_heatmap_changed)
        # a measurement still running for ``hm`` will not report back (see _in_background):
        # the next heatmap measures its own statistics and histogram
        self._measuring = False

    def _show_analysis(self, hm: Heatmap) -> None:
        """Show the norm, its parameter, the threshold and the histogram of ``hm``."""
        with self.norm.changed.blocked():
            self.norm.value = hm.norm
        mark_error(self.norm.native, None, _NORM_TIP)
        self.linthresh.show_state(hm.linthresh)
        self.vcenter.show_state(hm.vcenter)
        self.linthresh.visible = hm.norm == "symlog"
        self.vcenter.visible = hm.norm == "centered"
        limits = hm.limits
        data = self._counted_histogram(hm)
        log_x = hm.norm == "log"
        axis = None if data is None else (float(data[1][0]), float(data[1][-1]), log_x)
        self.threshold.show_state(hm.threshold, None if limits is None else limits[0], axis)
        view = self.histogram_panel.view
        if data is None:
            view.set_histogram(None, None, None)
        else:
            counts, edges = data
            colours = hm.colours_of(bin_centres(edges, log_x))
            view.set_histogram(counts, edges, colours, log_x=log_x)
        view.set_lines(
            None if limits is None else limits[0],
            None if limits is None else limits[1],
            hm.threshold,
        )

    def _counted_histogram(self, hm: Heatmap) -> tuple[np.ndarray, np.ndarray] | None:
        """Return ``hm.histogram()`` (counted once per mask and axis by the heatmap).

        A large mask is counted in the background with its statistics first.
        """
        layer = hm.heatmap_layer
        if layer is None or (self._heavy(layer) and (self._measuring or not hm.stats_measured)):
            return None
        return hm.histogram(HISTOGRAM_BINS)

    def _legend_scale(self, hm: Heatmap) -> LegendScale:
        return LegendScale(hm.norm, hm.linthresh, hm.vcenter, hm.threshold)

    def _set_or_mark(self, field: Any, name: str, value: Any) -> None:
        """Set a controller property; a refused value marks ``field`` with the reason."""
        if self.heatmap is None:
            return
        if not self._call(setattr, self.heatmap, name, value) and self._refused is not None:
            field.show_error(self._refused)

    def _on_norm_edited(self, value: str) -> None:
        if self.heatmap is None:
            return
        if not self._call(setattr, self.heatmap, "norm", value) and self._refused is not None:
            mark_error(self.norm.native, self._refused, _NORM_TIP)

    def _on_linthresh_edited(self, value: float) -> None:
        self._set_or_mark(self.linthresh, "linthresh", value)

    def _on_vcenter_edited(self, value: float) -> None:
        self._set_or_mark(self.vcenter, "vcenter", value)

    def _on_threshold_edited(self, value: float | None) -> None:
        self._set_or_mark(self.threshold, "threshold", value)

    def _on_histogram_dragged(self, name: str, value: float) -> None:
        """Follow a dragged limit live where that is cheap; the rest waits for the release.

        A limit costs no per-pixel work except under "centered"; a threshold costs a pass.
        """
        hm = self.heatmap
        if hm is not None and name in ("vmin", "vmax") and hm.norm != "centered":
            self._set(name, value)

    def _on_histogram_released(self, name: str, value: float) -> None:
        if self.heatmap is not None and getattr(self.heatmap, name) != value:
            self._set(name, value)

    # long work ------------------------------------------------------------------------

    def _heavy(self, layer: Any) -> bool:
        """Whether blurring this layer's data is long enough to leave the GUI thread for.

        Only the Gaussian blur leaves it: a user's ``blur_function`` may not be thread-safe.
        """
        hm = self.heatmap
        return (
            hm is not None
            and hm.blur_function is None
            and layer is not None
            and int(np.prod(np.shape(layer.data)[:2])) > BACKGROUND_PIXELS
        )

    def _in_background(
        self, hm: Heatmap, work: Callable[[], object], then: Callable[[], object]
    ) -> None:
        """Run ``work`` in a worker thread under napari's progress bar, then ``then`` here.

        ``then`` is the ordinary controller call: it finds the work done (or, if anything
        changed meanwhile or the work failed, does it itself and reports what fails).
        """
        from napari.qt.threading import create_worker
        from napari.utils import progress

        def job() -> None:
            # a failure here is not reported from the thread: ``then`` repeats the work on the
            # GUI thread, where the controller raises it and the dock reports it
            with contextlib.suppress(Exception):
                work()

        def finish(*_: Any) -> None:
            bar.close()
            self._workers.discard(worker)
            if not self._closed and self.heatmap is hm and hm.viewer is not None:
                self._call(then)

        bar = progress(total=0, desc="napari-heatmap: blurring")  # made on the GUI thread
        worker = create_worker(job)
        worker.returned.connect(finish)
        self._workers.add(worker)
        worker.start()

    def _on_opacity_edited(self, value: int) -> None:
        self._set("opacity", value)

    def _on_width_edited(self, value: float | None) -> None:
        self._set("width", value)

    def _on_height_edited(self, value: float | None) -> None:
        self._set("height", value)

    def _on_colorbar_edited(self, value: bool) -> None:
        layer = None if self.heatmap is None else self.heatmap.heatmap_layer
        if layer is not None:
            layer.colorbar.visible = bool(value)

    def _on_set_mask(self, _: Any = None) -> None:
        """Give the bound heatmap the chosen layer's data as its mask; hide that layer."""
        hm, layer = self.heatmap, self.mask_choice.value
        if hm is None:
            return
        if layer is None:
            show_error("napari-heatmap: choose an image layer as the mask first")
            return
        if self._heavy(layer) and layer is not hm.heatmap_layer:
            mask = np.asarray(layer.data)
            self._in_background(
                hm, lambda: hm.precompute_mask(mask), lambda: hm.set_heatmap_from_layer(layer)
            )
        else:
            self._call(hm.set_heatmap_from_layer, layer)

    def _on_set_background(self, _: Any = None) -> None:
        """Give the bound heatmap the chosen layer's data as its background (none: remove)."""
        hm, layer = self.heatmap, self.background_choice.value
        if hm is not None and (layer is None or layer is not hm.background_layer):
            self._call(hm.set_background, None if layer is None else np.asarray(layer.data))

    def _on_create(self, _: Any = None) -> None:
        """Create a heatmap over the chosen mask layer's extent; hide the raw mask layer."""
        mask_layer = self.mask_choice.value
        background_layer = self.background_choice.value
        if mask_layer is None:
            show_error("napari-heatmap: choose an image layer as the mask first")
            return
        try:
            hm = Heatmap.from_layers(
                mask_layer, background_layer, viewer=self.viewer, stack=self.stack_box.value
            )
        except (ValueError, TypeError) as exc:
            show_error(f"napari-heatmap: {exc}")
            return
        except Exception as exc:
            _report_bug("create the heatmap", exc)
            return
        self.bind(hm)

    # ------------------------------------------------------------------ stacks (§12)

    def _add_stack_box(self) -> None:
        """Put the "stack" check box beside the mask picker; it drives ``Heatmap.stack``."""
        self.stack_box = CheckBox(
            text="stack",
            value=False,
            tooltip="read the mask as a stack of 2-D slices (…, H, W) with dimension sliders",
        )
        mask_row = self.sources[1]
        mask_row.insert(len(mask_row) - 1, self.stack_box)  # before the Set button
        self.stack_box.changed.connect(self._on_stack_edited)

    def _on_stack_edited(self, value: bool) -> None:
        self._set("stack", bool(value))  # the bound heatmap re-reads its mask

    def _show_stack(self, hm: Heatmap) -> None:
        with self.stack_box.changed.blocked():
            self.stack_box.value = hm.stack
        self._show_slice_name()

    def _show_slice_name(self, event: Any = None) -> None:
        """Name the slice on screen of a stack made from annotation files (else hide)."""
        hm = self.heatmap
        name = None if hm is None or hm.viewer is None else hm.slice_name
        self.slice_readout.value = name or ""
        self.slice_readout.visible = name is not None

    # ------------------------------------------------------------------ viewer

    def _image_choices(self, _: Any = None) -> list[tuple[str, Image]]:
        """Every image layer of the viewer, the heatmap's own included."""
        return [(layer.name, layer) for layer in self.viewer.layers if isinstance(layer, Image)]

    def _colormap_choices(self, _: Any = None) -> list[tuple[str, Any]]:
        """OpenCV's 22 colormaps first, then every colormap napari knows (not our binned ones)."""
        from napari.utils.colormaps import AVAILABLE_COLORMAPS

        choices: list[tuple[str, Any]] = list(COLORMAP_NAMES.items())
        choices += [
            (f"{name} (napari)", NAPARI_PREFIX + name)
            for name in AVAILABLE_COLORMAPS
            if not name.startswith(("opencv-", "napari-"))
        ]
        hm = self.heatmap
        if hm is not None and isinstance(hm.colormap, str):
            current = _colormap_value(hm.colormap)
            if all(value != current for _, value in choices):
                choices.append((f"{hm.colormap} (napari)", current))
        return choices

    def _connect_viewer(self) -> None:
        events = self.viewer.layers.events
        events.inserted.connect(self._on_layers_changed)
        events.removed.connect(self._on_layers_changed)
        events.renamed.connect(self._on_layers_changed)
        self.viewer.layers.selection.events.active.connect(self._on_layers_changed)
        self.viewer.dims.events.current_step.connect(self._show_slice_name)

    def _disconnect_viewer(self) -> None:
        self.viewer.dims.events.current_step.disconnect(self._show_slice_name)
        events = self.viewer.layers.events
        events.inserted.disconnect(self._on_layers_changed)
        events.removed.disconnect(self._on_layers_changed)
        events.renamed.disconnect(self._on_layers_changed)
        self.viewer.layers.selection.events.active.disconnect(self._on_layers_changed)
        # napari's add_dock_widget connects reset_choices and never lets go of it.
        for emitter in (events.inserted, events.removed, events.reordered, events.renamed):
            emitter.disconnect(self.reset_choices)

    def _on_layers_changed(self, event: Any = None) -> None:
        # A Heatmap registers itself only after adding its layers (and a sample's layer is
        # made live from inside this very event): look for heatmaps once it is done.
        QTimer.singleShot(0, self._sync_binding)

    # ------------------------------------------------------------------ teardown

    def close(self) -> None:
        """Disconnect from the heatmap and the viewer and close the widget. Safe to call twice."""
        if self._closed:
            return
        self._cleanup()
        self._watcher.stop()
        super().close()
        self.native.deleteLater()

    def _cleanup(self) -> None:
        """Drop every connection to the controller and the viewer (no Qt calls)."""
        if self._closed:
            return
        self._closed = True
        self._unbind()
        self._disconnect_viewer()

    def _on_native_destroyed(self, *_: Any) -> None:
        self._cleanup()

    def __repr__(self) -> str:
        return f"HeatmapWidget(heatmap={self.heatmap!r})"


def _colormap_value(colormap: int | str) -> int | str:
    """Return the colormap box's value for a colormap (napari's names are prefixed)."""
    return colormap if isinstance(colormap, int) else NAPARI_PREFIX + colormap


def _row(label: str, *widgets: Any) -> Container:
    row = Container(widgets=list(widgets), layout="horizontal", labels=False, label=label)
    row.margins = (0, 0, 0, 0)
    return row


def _report_bug(action: str, exc: Exception) -> None:
    """Report an unexpected error of the widget without letting it reach the caller."""
    logger.exception("napari-heatmap widget: could not %s", action)
    show_error(f"napari-heatmap: the widget could not {action}: {exc!r}")
