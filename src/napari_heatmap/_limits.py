"""The limit rules (behaviour §2.2, §11) for every kind of field: the one recipe.

Pure floor: imports neither napari nor Qt. An in-memory :class:`~napari_heatmap._field.Field`
and a lazy :class:`~napari_heatmap._lazy.LazyField` find percentiles their own way (a sort
once per mask; chunked passes); how percentiles, the log norm's positive values and the
centred norm's symmetry make the limits is written once, here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import _pipeline as pl
from ._norms import LINEAR, Norm

__all__ = ["NormLimits", "centred"]


class NormLimits:
    """Mixin: :meth:`limits` from a field's ranges and its :meth:`_percentiles_of`."""

    if TYPE_CHECKING:  # given by the field (a dataclass field or a property)

        @property
        def data_range(self) -> tuple[float, float] | None:
            """Min and max of the finite values (None: there is none)."""

    @property
    def positive_range(self) -> tuple[float, float] | None:  # pragma: no cover - overridden
        """Min and max of the positive finite values (None: there is none)."""
        raise NotImplementedError

    def _percentiles_of(self, qs: Sequence[float], positive: bool) -> dict[float, float]:
        """Return these percentiles of the finite (``positive``: positive finite) values."""
        raise NotImplementedError  # pragma: no cover - overridden

    def limits(
        self,
        vmin: float | None,
        vmax: float | None,
        percentiles: tuple[float, float] = (0.0, 100.0),
        norm: Norm = LINEAR,
    ) -> tuple[float, float] | None:
        """Return the limits actually used with these settings (None: nothing finite).

        A None limit is the ``percentiles`` of the finite values (their min / max for
        (0, 100)). Under ``norm`` "log" only the positive values count; under "centered" two
        inferred limits are made symmetric about ``vcenter`` (behaviour §11).

        Raises
        ------
        ValueError
            Naming ``norm`` when "log" finds finite values but no positive one, or
            ``vcenter`` when it is not strictly between the limits.
        """
        if norm.kind == "log":
            robust = self._positive_robust_range(percentiles)
        else:
            robust = self.data_range
            if robust is not None and percentiles != (0.0, 100.0):
                wanted = [q for q, end in zip(percentiles, (0.0, 100.0), strict=True) if q != end]
                found = self._percentiles_of(wanted, False)
                robust = (
                    robust[0] if percentiles[0] == 0 else found[percentiles[0]],
                    robust[1] if percentiles[1] == 100 else found[percentiles[1]],
                )
        limits = pl.infer_limits(robust, vmin, vmax)
        if norm.kind == "centered" and limits is not None:
            limits = centred(limits, norm.vcenter, vmin is None and vmax is None)
        return limits

    def _positive_robust_range(
        self, percentiles: tuple[float, float]
    ) -> tuple[float, float] | None:
        if self.data_range is None:
            return None
        if self.positive_range is None:
            raise ValueError(
                "norm='log' needs positive values, and heatmap_mask has none (its finite "
                f"range is {self.data_range}); choose another norm"
            )
        if percentiles == (0.0, 100.0):
            return self.positive_range
        found = self._percentiles_of(list(percentiles), True)
        return found[percentiles[0]], found[percentiles[1]]


def centred(
    limits: tuple[float, float], vcenter: float, both_inferred: bool
) -> tuple[float, float]:
    """Apply the "centered" norm's rules to limits (behaviour §11)."""
    lo, hi = limits
    if both_inferred:
        reach = max(vcenter - lo, hi - vcenter)
        lo, hi = vcenter - reach, vcenter + reach
    if lo == hi or lo < vcenter < hi:
        return lo, hi
    raise ValueError(
        f"norm='centered' needs vmin < vcenter < vmax; got vmin={lo!r}, vcenter={vcenter!r}, "
        f"vmax={hi!r} (set vcenter between the limits, or the limits around it)"
    )
