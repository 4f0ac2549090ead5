"""Small compound inputs: a number that may be "auto" (None) and the blur kernel size."""

from __future__ import annotations

import math

from magicgui.widgets import CheckBox, Container, FloatSpinBox, SpinBox

__all__ = ["BlurField", "OptionalNumber"]

class OptionalNumber(Container):
    """A number with an "auto" checkbox; ``value`` is None while "auto" is ticked.

    Its ``changed`` signal fires when the user edits either part. While "auto" is ticked
    the spin box is disabled and shows the value in use (``shown``).
    """

    def __init__(self, label: str, minimum: float, maximum: float, tooltip: str) -> None:
        self.number = FloatSpinBox(min=minimum, max=maximum, step=1.0)
        self.auto = CheckBox(text="auto", value=True)
        super().__init__(widgets=[self.number, self.auto], layout="horizontal", labels=False,
                         label=label, tooltip=tooltip)
        self.margins = (0, 0, 0, 0)
        self.number.native.setDecimals(4)
        self.number.native.setKeyboardTracking(False)  # act on Enter / focus out
        self.number.enabled = False
        self.auto.changed.connect(self._on_auto_toggled)

    @property
    def number_or_none(self) -> float | None:
        """The number entered, or None while "auto" is ticked."""
        return None if self.auto.value else float(self.number.value)

    def show_state(self, value: float | None, shown: float | None) -> None:
        """Show ``value`` (None = auto, displaying ``shown``) without emitting ``changed``."""
        with self.changed.blocked(), self.number.changed.blocked(), self.auto.changed.blocked():
            self.auto.value = value is None
            number = value if value is not None else shown
            if number is not None and math.isfinite(number):
                self._fit_step(number)
                self.number.value = number
            self.number.enabled = value is not None

    def _fit_step(self, number: float) -> None:
        magnitude = abs(number)
        step = 10.0 ** math.floor(math.log10(magnitude)) / 10 if magnitude > 0 else 1.0
        self.number.native.setSingleStep(min(max(step, 1e-4), 1e6))

    def _on_auto_toggled(self, auto: bool) -> None:
        self.number.enabled = not auto


class BlurField(Container):
    """Odd Gaussian kernel size (square) with an "off" checkbox; ``ksize`` is (k, k) or None."""

    def __init__(self) -> None:
        self.size = SpinBox(min=1, max=99, step=2, value=5)
        self.off = CheckBox(text="off", value=False)
        super().__init__(widgets=[self.size, self.off], layout="horizontal", labels=False,
                         label="blur kernel", tooltip=_BLUR_TIP)
        self.margins = (0, 0, 0, 0)
        self.size.native.setKeyboardTracking(False)  # act on Enter / focus out
        self.off.changed.connect(self._on_off_toggled)

    @property
    def ksize(self) -> tuple[int, int] | None:
        """The kernel entered, made odd (an even size is rounded up), or None for "off"."""
        if self.off.value:
            return None
        k = int(self.size.value)
        if k % 2 == 0:
            k += 1
        return k, k

    def show_state(self, ksize: tuple[int, int] | None, custom: bool) -> None:
        """Show a kernel (None = off) without emitting ``changed``; custom disables it."""
        with self.changed.blocked(), self.size.changed.blocked(), self.off.changed.blocked():
            self.off.value = ksize is None
            if ksize is not None:
                self.size.value = min(int(ksize[0]), int(self.size.max))
            self.size.enabled = ksize is not None
        self.enabled = not custom
        if custom:
            self.tooltip = "a custom blur_function is set (from code); it wins over the kernel"
        elif ksize is not None and ksize[0] != ksize[1]:
            self.tooltip = f"blur_ksize={ksize} (set from code); editing makes it square"
        else:
            self.tooltip = _BLUR_TIP

    def _on_off_toggled(self, off: bool) -> None:
        self.size.enabled = not off


_BLUR_TIP = "Gaussian blur kernel size (odd); 'off' disables the blur"
