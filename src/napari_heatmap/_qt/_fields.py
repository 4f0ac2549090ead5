"""Small compound inputs: a number that may be "auto" (None) and the blur kernel size."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

from magicgui.widgets import CheckBox, Container, FloatSpinBox, LineEdit, SpinBox
from psygnal import Signal
from qtpy.QtGui import QValidator
from qtpy.QtWidgets import QAbstractSpinBox, QWidget

__all__ = ["BlurField", "OptionalNumber", "PercentileField", "format_number", "parse_number"]

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


class OptionalNumber(Container):
    """A number with an "auto" checkbox, for a controller property that may be None.

    The number is a text field that takes any finite float ("2e12", "1.5e-6"): no range
    and no rounding. ``edited`` emits what the user asks for: None when "auto" is ticked;
    the exact value on show (the effective one, from the controller) when it is unticked;
    the number typed when a changed text is confirmed (Enter or leaving the field).
    Showing a state from the controller (:meth:`show_state`) emits nothing.
    """

    edited = Signal(object)

    def __init__(self, label: str, tooltip: str) -> None:
        self.number = LineEdit(value="")
        self.auto = CheckBox(text="auto", value=True)
        super().__init__(
            widgets=[self.number, self.auto],
            layout="horizontal",
            labels=False,
            label=label,
            tooltip=tooltip,
        )
        self.margins = (0, 0, 0, 0)
        self._base_tooltip = tooltip
        self._shown: float | None = None
        native = self.number.native
        native.setValidator(_FloatValidator(native, self._shown_text))
        native.editingFinished.connect(self._on_number_entered)
        self.number.enabled = False
        self.auto.changed.connect(self._on_auto_toggled)

    @property
    def exact_value(self) -> float | None:
        """The exact value on show (the controller's), whatever the text rounds it to."""
        return self._shown

    def show_state(self, value: float | None, effective: float | None) -> None:
        """Show ``value`` (None = auto, showing ``effective``) without emitting anything."""
        self._shown = value if value is not None else effective
        with (
            self.changed.blocked(),
            self.edited.blocked(),
            self.number.changed.blocked(),
            self.auto.changed.blocked(),
        ):
            self.auto.value = value is None
            self.number.value = self._shown_text()
            self.number.enabled = value is not None
        exact = "" if self._shown is None else f" (exactly {self._shown!r})"
        self.number.native.setToolTip(self._base_tooltip + exact)

    def _shown_text(self) -> str:
        return "" if self._shown is None else format_number(self._shown)

    def _on_number_entered(self) -> None:
        if self.auto.value:
            return
        text = self.number.native.text()
        if text == self._shown_text():  # untouched: sending it would round the value
            return
        value = parse_number(text)
        if value is not None:
            self.edited.emit(value)

    def _on_auto_toggled(self, auto: bool) -> None:
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
