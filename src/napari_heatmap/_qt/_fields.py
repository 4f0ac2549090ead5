"""Small compound inputs: numbers (optionally "auto"/"none"), the blur kernel, the threshold."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from magicgui.widgets import (
    CheckBox,
    Container,
    FloatSpinBox,
    LineEdit,
    Slider,
    SpinBox,
    Widget,
)
from psygnal import Signal
from qtpy.QtGui import QValidator
from qtpy.QtWidgets import QAbstractSpinBox, QSlider, QWidget

__all__ = [
    "BlurField",
    "NumberField",
    "OptionalNumber",
    "PercentileField",
    "ThresholdField",
    "format_number",
    "mark_error",
    "parse_number",
]

#: Text that could still become a number while being typed ("", "-", "1.", "2e", "2e-").
_PARTIAL = re.compile(r"\s*[+-]?[\d_]*\.?\d*(?:[eE][+-]?\d*)?\s*")


def parse_number(text: str) -> float | None:
    """Return the finite float that ``text`` spells (any magnitude), or None."""
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def format_number(value: float) -> str:
    """Format a number for a text field: 7 significant digits, any magnitude."""
    return f"{value:.7g}"


class _FloatValidator(QValidator):
    """Accept any finite float; let through what may still become one while typing."""

    def __init__(self, parent: QWidget, restore: Callable[[], str]) -> None:
        super().__init__(parent)
        self._restore = restore

    def validate(self, text: str | None, pos: int) -> tuple[QValidator.State, str, int]:
        """Judge the text being typed (Qt API)."""
        text = text or ""
        if parse_number(text) is not None:
            state = QValidator.State.Acceptable
        elif _PARTIAL.fullmatch(text):
            state = QValidator.State.Intermediate
        else:
            state = QValidator.State.Invalid
        return state, text, pos

    def fixup(self, text: str | None) -> str:
        """Put back the value on show when the field is left unfinished (Qt API)."""
        return self._restore()


class _ExactNumber(Container):
    """A text field taking any finite float ("2e12", "1.5e-6"): no range and no rounding.

    The value on show is kept exactly (:attr:`exact_value`); the text only displays it, so a
    text confirmed unchanged emits nothing. :meth:`show_error` marks a value the controller
    refused (red frame, the message in the tooltip) until the field is edited. ``extra``
    widgets sit after the text field.
    """

    edited = Signal(object)

    def __init__(self, label: str, tooltip: str, extra: tuple[Widget, ...] = ()) -> None:
        self.number = LineEdit(value="")
        super().__init__(
            widgets=[self.number, *extra],
            layout="horizontal",
            labels=False,
            label=label,
            tooltip=tooltip,
        )
        self.margins = (0, 0, 0, 0)
        self._base_tooltip = tooltip
        self._shown: float | None = None
        self.error: str | None = None
        native = self.number.native
        native.setValidator(_FloatValidator(native, self._shown_text))
        native.editingFinished.connect(self._on_number_entered)
        native.textEdited.connect(self._clear_error)

    @property
    def exact_value(self) -> float | None:
        """The exact value on show (the controller's), whatever the text rounds it to."""
        return self._shown

    def show_error(self, message: str) -> None:
        """Mark the field as refused (red frame, the message in its tooltip) until edited."""
        self.error = message
        mark_error(self.number.native, message, self._base_tooltip)

    def _clear_error(self, _: str = "") -> None:
        if self.error is not None:
            self.error = None
            mark_error(self.number.native, None, self._base_tooltip)
            self._show_tooltip()

    def _show_tooltip(self) -> None:
        self.number.native.setToolTip(self._base_tooltip)

    def _shown_text(self) -> str:
        return "" if self._shown is None else format_number(self._shown)

    def _takes_typing(self) -> bool:
        return True

    def _on_number_entered(self) -> None:
        if not self._takes_typing():
            return
        text = self.number.native.text()
        if text == self._shown_text():  # untouched: sending it would round the value
            return
        value = parse_number(text)
        if value is not None:
            self.edited.emit(value)


class OptionalNumber(_ExactNumber):
    """A number with an "auto" checkbox, for a controller property that may be None.

    ``edited`` emits what the user asks for: None when "auto" is ticked; the exact value on
    show (the effective one, from the controller) when it is unticked; the number typed when
    a changed text is confirmed (Enter or leaving the field). Showing a state from the
    controller (:meth:`show_state`) emits nothing.
    """

    def __init__(self, label: str, tooltip: str, auto_text: str = "auto") -> None:
        self.auto = CheckBox(text=auto_text, value=True)
        super().__init__(label, tooltip, extra=(self.auto,))
        self.number.enabled = False
        self.auto.changed.connect(self._on_auto_toggled)

    def show_state(self, value: float | None, effective: float | None) -> None:
        """Show ``value`` (None = auto, showing ``effective``) without emitting anything.

        A refusal marked by :meth:`show_error` stays until the user edits the field or a
        different value is shown.
        """
        shown = value if value is not None else effective
        if shown != self._shown:
            self._clear_error()
        self._shown = shown
        with (
            self.changed.blocked(),
            self.edited.blocked(),
            self.number.changed.blocked(),
            self.auto.changed.blocked(),
        ):
            self.auto.value = value is None
            self.number.value = self._shown_text()
            self.number.enabled = value is not None
        if self.error is None:
            self._show_tooltip()

    def _show_tooltip(self) -> None:
        exact = "" if self._shown is None else f" (exactly {self._shown!r})"
        self.number.native.setToolTip(self._base_tooltip + exact)

    def _takes_typing(self) -> bool:
        return not self.auto.value

    def _on_auto_toggled(self, auto: bool) -> None:
        self._clear_error()
        self.number.enabled = not auto
        if auto:
            self.edited.emit(None)
        elif self._shown is not None:
            self.edited.emit(self._shown)
        # else nothing is known yet (no finite data): the user types a number first


class BlurField(Container):
    """Odd Gaussian kernel (kx, ky) with an "off" checkbox; ``ksize`` is (kx, ky) or None."""

    def __init__(self) -> None:
        self.kx = SpinBox(
            min=1, max=_MAX_KERNEL, step=2, value=5, tooltip="kx: kernel width in mask pixels (odd)"
        )
        self.ky = SpinBox(
            min=1,
            max=_MAX_KERNEL,
            step=2,
            value=5,
            tooltip="ky: kernel height in mask pixels (odd)",
        )
        self.off = CheckBox(text="off", value=False)
        super().__init__(
            widgets=[self.kx, self.ky, self.off],
            layout="horizontal",
            labels=False,
            label="blur kx, ky",
            tooltip=_BLUR_TIP,
        )
        self.margins = (0, 0, 0, 0)
        for box in (self.kx, self.ky):
            box.native.setKeyboardTracking(False)  # act on Enter / focus out
            # two spin boxes with +/- buttons would widen the dock; arrows and wheel still step
            box.native.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.NoButtons)
        self.off.changed.connect(self._on_off_toggled)

    @property
    def ksize(self) -> tuple[int, int] | None:
        """The kernel entered, made odd (an even size is rounded up), or None for "off"."""
        if self.off.value:
            return None
        return _odd(self.kx.value), _odd(self.ky.value)

    def show_state(self, ksize: tuple[int, int] | None, custom: bool) -> None:
        """Show a kernel (None = off) without emitting ``changed``; custom disables it."""
        with (
            self.changed.blocked(),
            self.kx.changed.blocked(),
            self.ky.changed.blocked(),
            self.off.changed.blocked(),
        ):
            self.off.value = ksize is None
            if ksize is not None:
                for box, k in zip((self.kx, self.ky), ksize, strict=True):
                    if k > box.max:  # a kernel set from code is shown as it is
                        box.max = int(k)
                    box.value = int(k)
            self.kx.enabled = self.ky.enabled = ksize is not None
        self.enabled = not custom
        self.tooltip = (
            "a custom blur_function is set (from code); it wins over the kernel"
            if custom
            else _BLUR_TIP
        )

    def _on_off_toggled(self, off: bool) -> None:
        self.kx.enabled = self.ky.enabled = not off


def _odd(k: float) -> int:
    k = int(k)
    return k + 1 if k % 2 == 0 else k


_MAX_KERNEL = 999
_BLUR_TIP = "Gaussian blur kernel (kx, ky), odd sizes; 'off' disables the blur"


class PercentileField(Container):
    """Two percentages (lo, hi): what *auto* limits are, as percentiles of the finite values.

    Emits ``edited`` with the pair when the user edits either box; :meth:`show_state`
    shows a pair without emitting.
    """

    edited = Signal(object)

    def __init__(self) -> None:
        self.lo = FloatSpinBox(min=0.0, max=100.0, step=0.5, tooltip="auto vmin: this percentile")
        self.hi = FloatSpinBox(min=0.0, max=100.0, step=0.5, tooltip="auto vmax: this percentile")
        super().__init__(
            widgets=[self.lo, self.hi], layout="horizontal", labels=False, label="auto at %"
        )
        self.margins = (0, 0, 0, 0)
        self.tooltip = (
            "auto limits are these percentiles of the finite values: (0, 100) is min and max, "
            "(2, 98) ignores outliers"
        )
        self.lo.changed.connect(self._on_edited)
        self.hi.changed.connect(self._on_edited)

    @property
    def pair(self) -> tuple[float, float]:
        """The (lo, hi) entered."""
        return float(self.lo.value), float(self.hi.value)

    def show_state(self, pair: tuple[float, float]) -> None:
        """Show a pair without emitting ``changed``."""
        with self.edited.blocked(), self.lo.changed.blocked(), self.hi.changed.blocked():
            self.lo.value, self.hi.value = pair

    def _on_edited(self, _: object = None) -> None:
        self.edited.emit(self.pair)


def mark_error(native: QWidget, message: str | None, tooltip: str) -> None:
    """Show (or, with None, clear) a refused input on a Qt widget: red frame and tooltip."""
    style = "" if message is None else "border: 1px solid #e0362c;"
    if native.styleSheet() != style:  # re-polishing costs ~1 ms: only when it changes
        native.setStyleSheet(style)
    native.setToolTip(tooltip if message is None else f"refused: {message}\n{tooltip}")


class NumberField(_ExactNumber):
    """A finite number typed in a text field (no "auto"), e.g. ``linthresh`` or ``vcenter``.

    ``edited`` emits the number when a changed text is confirmed (Enter or leaving the
    field); :meth:`show_state` shows a value without emitting; :meth:`show_error` marks a
    value the controller refused until the user edits the field again.
    """

    def show_state(self, value: float | None) -> None:
        """Show ``value`` without emitting anything (a different value clears a refusal)."""
        if value != self._shown:
            self._clear_error()
        self._shown = value
        with self.changed.blocked(), self.edited.blocked(), self.number.changed.blocked():
            self.number.value = self._shown_text()
        if self.error is None:
            self._show_tooltip()


#: Steps of the threshold slider along the histogram's axis.
SLIDER_STEPS = 1000


class ThresholdField(Container):
    """The threshold: a slider along the data's axis, a text field and a "none" checkbox.

    The slider runs over ``axis`` (the histogram's ends; log-spaced when the axis is), acts
    when it is let go, and sends the value at its position; the text field and "none" are an
    :class:`OptionalNumber`. ``edited`` emits a float or None (no threshold).
    """

    edited = Signal(object)

    def __init__(self) -> None:
        self.slider = Slider(min=0, max=SLIDER_STEPS, step=1, readout=False)
        self.field = OptionalNumber("threshold", _THRESHOLD_TIP, auto_text="none")
        super().__init__(
            widgets=[self.slider, self.field],
            layout="horizontal",
            labels=False,
            label="threshold",
            tooltip=_THRESHOLD_TIP,
        )
        self.margins = (0, 0, 0, 0)
        qslider = self.slider.native.findChild(QSlider)
        if qslider is not None:  # magicgui wraps the QSlider in a QWidget
            qslider.setTracking(False)  # act when let go (or on a key / page step)
        self.slider.native.setMinimumWidth(60)
        self._axis: tuple[float, float, bool] | None = None
        self.slider.changed.connect(self._on_slid)
        self.field.edited.connect(self.edited.emit)

    def show_state(
        self, value: float | None, effective: float | None, axis: tuple[float, float, bool] | None
    ) -> None:
        """Show a threshold (None: none, offering ``effective``) on ``axis`` (lo, hi, log)."""
        self._axis = axis
        self.field.show_state(value, effective)
        self.slider.enabled = axis is not None
        with self.slider.changed.blocked():
            self.slider.value = 0 if value is None or axis is None else self.position_of(value)

    def show_error(self, message: str) -> None:
        """Mark the text field as refused."""
        self.field.show_error(message)

    def position_of(self, value: float) -> int:
        """Return the slider position of ``value`` (clamped to the ends)."""
        if self._axis is None:
            return 0
        lo, hi, log = self._axis
        if log:
            if value <= 0:
                return 0
            lo, hi, value = math.log10(lo), math.log10(hi), math.log10(value)
        u = 0.0 if hi <= lo else (value - lo) / (hi - lo)
        return round(min(max(u, 0.0), 1.0) * SLIDER_STEPS)

    def value_of(self, position: int) -> float | None:
        """Return the value at a slider position (None without an axis)."""
        if self._axis is None:
            return None
        lo, hi, log = self._axis
        u = position / SLIDER_STEPS
        if log:
            a, b = math.log10(lo), math.log10(hi)
            value = 10.0 ** (a + u * (b - a))
            return float(f"{value:.4g}")
        value = lo + u * (hi - lo)
        return float(f"{value:.4g}") if u not in (0.0, 1.0) else value

    def _on_slid(self, position: int) -> None:
        value = self.value_of(int(position))
        if value is not None:
            self.edited.emit(value)


_THRESHOLD_TIP = (
    "pixels whose value is below the threshold are transparent, whatever the norm; "
    "'none' shows every finite value"
)
