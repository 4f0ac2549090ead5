"""Comparing heatmaps: their difference as a new heatmap, and several of them in a row.

napari-model floor: imports napari (through :class:`~napari_heatmap.Heatmap`), never Qt.
The sampling maths (:func:`sample_nearest`) is pure NumPy; it uses each heatmap's world
frame — origin and frame size, as :mod:`~napari_heatmap._placement` defines them — so a
value is compared with the value drawn at the same place on screen.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _pipeline as pl

if TYPE_CHECKING:
    from ._heatmap import Heatmap

__all__ = ["Arrangement", "difference", "sample_nearest", "side_by_side"]

#: What :func:`difference` shows unless the caller says otherwise: a diverging colormap with
#: white at 0 (napari's ``PiYG``; never one of OpenCV's sequential tables) and the centred
#: norm, whose limits are symmetric about ``vcenter`` when both are inferred.
DIFFERENCE_DEFAULTS: dict[str, Any] = {
    "colormap": "PiYG",
    "norm": "centered",
    "vcenter": 0.0,
    "vmin": None,
    "vmax": None,
}

#: Frame = (height, width) in world units; origin = world (y, x) of its top-left corner.
Grid = tuple[tuple[int, int], tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class _Operand:
    """One side of a difference: its gray values and, for a heatmap, where it lies."""

    gray: np.ndarray
    heatmap: Heatmap | None

    @property
    def grid(self) -> Grid | None:
        """(shape, frame, origin) of a heatmap; None for a bare array (it has no place)."""
        hm = self.heatmap
        if hm is None:
            return None
        frame = hm.frame
        assert frame is not None  # a heatmap with a mask has a frame
        h, w = self.gray.shape[-2:]  # a stack's slices share one frame
        return (h, w), (float(frame[0]), float(frame[1])), hm.origin


def sample_nearest(
    values: np.ndarray,
    grid: Grid,
    target: Grid,
) -> np.ndarray:
    """Return ``values`` (on ``grid``) at the pixel centres of ``target``, nearest pixel.

    Each grid is ``(shape, frame, origin)`` in world units (the shape of one 2-D slice:
    ``values`` may be a stack (…, H, W), sampled slice by slice). A target pixel whose centre
    lies outside ``grid``'s frame gets NaN. The pixel under a centre is the one a click there
    reports (:func:`~napari_heatmap._placement.pixel_at`): floor of the position in pixels.
    """
    (h, w), frame, origin = grid
    (th, tw), tframe, torigin = target
    rows = _nearest(th, tframe[0], torigin[0], h, frame[0], origin[0])
    cols = _nearest(tw, tframe[1], torigin[1], w, frame[1], origin[1])
    lead = values.shape[:-2]
    out = np.full((*lead, th, tw), np.nan, dtype=np.result_type(values.dtype, np.float32))
    # centres grow along each axis, so the ones inside the frame form one run: slice it
    (r0, r1), (c0, c1) = _run(rows), _run(cols)
    if r1 > r0 and c1 > c0:
        out[..., r0:r1, c0:c1] = values[..., rows[r0:r1][:, None], cols[c0:c1][None, :]]
    return out


def _run(index: np.ndarray) -> tuple[int, int]:
    """Return the [start, stop) of the entries that are not -1 (they are contiguous)."""
    inside = np.flatnonzero(index >= 0)
    return (0, 0) if inside.size == 0 else (int(inside[0]), int(inside[-1]) + 1)


def _nearest(
    n_target: int, size_target: float, o_target: float, n: int, size: float, o: float
) -> np.ndarray:
    """Return, per target pixel along one axis, the source pixel under its centre (-1: none)."""
    centres = o_target + (np.arange(n_target) + 0.5) * (size_target / n_target)
    u = (centres - o) / size
    index = np.minimum(np.floor(u * n), n - 1).astype(np.intp)
    index[(u < 0.0) | (u >= 1.0)] = -1
    return index


def _operand(name: str, value: Any, stack: bool) -> _Operand:
    from ._heatmap import Heatmap

    if isinstance(value, Heatmap):
        if value.heatmap_mask is None:
            raise ValueError(f"{name} is a heatmap with no mask; nothing to subtract")
        return _Operand(pl.reduce_mask(value.heatmap_mask, value.stack), value)
    try:
        gray = pl.reduce_mask(value, stack)
    except (TypeError, ValueError) as exc:
        message = str(exc).replace("heatmap_mask", name, 1)
        raise type(exc)(f"{message} (a Heatmap or an array of its mask's kind)") from None
    return _Operand(gray, None)


def _aligned(a: _Operand, b: _Operand) -> np.ndarray:
    """Return b's gray at a's pixels: as it is on the same grid, else sampled (nearest)."""
    grid_a, grid_b = a.grid, b.grid
    if grid_a is None and grid_b is None:  # two arrays: one frame, edges on edges
        if a.gray.shape[-2:] == b.gray.shape[-2:]:
            return b.gray
        grid_a = (_plane(a), (1.0, 1.0), (0.0, 0.0))
        grid_b = (_plane(b), (1.0, 1.0), (0.0, 0.0))
    elif grid_a is None:  # an array lies where the heatmap it is compared with lies
        assert grid_b is not None
        grid_a = (_plane(a), grid_b[1], grid_b[2])
    elif grid_b is None:
        grid_b = (_plane(b), grid_a[1], grid_a[2])
    if grid_a == grid_b:
        return b.gray
    return sample_nearest(b.gray, grid_b, grid_a)


def _plane(operand: _Operand) -> tuple[int, int]:
    h, w = operand.gray.shape[-2:]
    return int(h), int(w)


def difference(a: Any, b: Any, **heatmap_keywords: Any) -> Heatmap:
    """Show ``a − b`` as a new heatmap: where two heatmaps (or masks) differ, and by how much.

    Parameters
    ----------
    a, b : Heatmap or numpy.ndarray
        Heatmaps (their masks' raw values, channel means for H×W×C masks) or arrays of the
        kind a mask may be. When both are heatmaps on different grids, b is sampled at the
        centre of each of a's pixels, nearest pixel, through their world frames (origin and
        frame size): a pixel of a compares with what b shows at the same place on screen;
        where b does not reach, the difference is NaN (transparent). An array has no place of
        its own: it covers the frame of the heatmap it is compared with, and two arrays of
        different shapes cover one frame, outer edges on outer edges. With a stack heatmap
        on either side, slices are subtracted one by one (a 2-D side from every slice) and
        the difference is a stack.
    **heatmap_keywords
        Any keyword of :class:`~napari_heatmap.Heatmap`; they win over these defaults:
        ``norm="centered"`` at ``vcenter=0`` with both limits inferred (so symmetric about
        0), ``colormap="PiYG"`` (diverging: white at 0); and, when ``a`` is a heatmap, its
        background, blur, frame (``width``, ``height``, ``origin``) and viewer — the
        difference lies exactly over ``a``; when only ``b`` is a heatmap, its frame and
        viewer (over ``b``); for two arrays, the current viewer.

    Returns
    -------
    Heatmap
        A heatmap of the difference; a click on it reports ``a − b`` at that pixel. Its layer
        is named after the two it compares.

    Raises
    ------
    ValueError, TypeError
        Naming ``a`` or ``b`` when one is neither a heatmap with a mask nor a valid mask;
        a bad keyword raises as :class:`~napari_heatmap.Heatmap` would. Nothing is added to
        any viewer then.
    """
    from ._heatmap import Heatmap

    # stacks: with a stack heatmap on either side, arrays are read as stacks too (§12)
    stack = any(isinstance(v, Heatmap) and v.stack for v in (a, b))
    left, right = _operand("a", a, stack), _operand("b", b, stack)
    gb = _aligned(left, right)
    lead_a, lead_b = left.gray.shape[:-2], gb.shape[:-2]
    try:
        np.broadcast_shapes(lead_a, lead_b)
    except ValueError:
        raise ValueError(
            f"b's stack {lead_b} does not fit a's stack {lead_a}: slices are subtracted one by "
            "one (a 2-D side is subtracted from every slice)"
        ) from None
    dtype = np.result_type(left.gray.dtype, gb.dtype, np.float32)
    diff = np.subtract(left.gray, gb, dtype=dtype)
    if diff.ndim > 2:
        heatmap_keywords = {"stack": True, **heatmap_keywords}

    keywords: dict[str, Any] = dict(DIFFERENCE_DEFAULTS)
    if left.heatmap is not None:
        hm = left.heatmap
        keywords.update(
            background_image=hm.background_image,
            blur_ksize=hm.blur_ksize,
            blur_function=hm.blur_function,
            width=hm.width,  # as set: a's natural size (None) stays natural
            height=hm.height,
            origin=hm.origin,
            viewer=hm.viewer,
        )
        given = heatmap_keywords.keys()
        if "background_image" in given and not {"width", "height"} & given and hm.frame:
            # another background (or none) would change the natural frame: keep a's
            keywords.update(width=hm.frame[1], height=hm.frame[0])
    elif right.heatmap is not None and right.heatmap.frame is not None:
        # an array a lies where b lies (that is how it was compared): so does a − b
        hm, frame = right.heatmap, right.heatmap.frame
        keywords.update(viewer=hm.viewer, width=frame[1], height=frame[0], origin=hm.origin)
    keywords.update(heatmap_keywords)
    keywords["heatmap_mask"] = diff
    out = Heatmap(**keywords)
    if out.heatmap_layer is not None:
        out.heatmap_layer.name = f"{_label(a, 'a')} − {_label(b, 'b')}"
    return out


def _label(value: Any, default: str) -> str:
    layer = getattr(value, "heatmap_layer", None)
    return default if layer is None else str(layer.name)


# ---------------------------------------------------------------------- side by side


@dataclass
class Arrangement:
    """What :func:`side_by_side` did: the heatmaps it placed and where they were before.

    Call :meth:`restore` to put every heatmap that is still open back where it was.
    """

    heatmaps: tuple[Heatmap, ...]
    origins_before: tuple[tuple[float, float], ...]
    origins: tuple[tuple[float, float], ...]

    def restore(self) -> None:
        """Move the heatmaps back to their origins before the arrangement (closed ones skipped)."""
        for hm, origin in zip(self.heatmaps, self.origins_before, strict=True):
            if hm.viewer is not None:
                _move(hm, origin)
        viewer = next((hm.viewer for hm in self.heatmaps if hm.viewer is not None), None)
        if viewer is not None:
            viewer.reset_view()


def side_by_side(*heatmaps: Heatmap, gap: float | None = None) -> Arrangement:
    """Put heatmaps in a row, left to right in the order given, each over its own background.

    The heatmaps stay in their viewer and are moved in world coordinates: each frame
    (heatmap, background, marker) keeps its size and is placed right of the one before,
    ``gap`` world units apart, tops aligned with the first heatmap's, which does not move.
    The view is then reset to show the row.

    Why frames beside each other and not napari's grid mode: one camera shows them, so zoom
    and pan are linked by construction; each heatmap's layers move together, so each stays
    over its own background whatever the layer order, other layers or the click marker
    (napari's grid puts layer ``i`` of the layer list in cell ``i // stride``, and a heatmap
    has 1 to 3 layers — background, heatmap, and a marker added on top of the list at the
    first click — so with stride 2 the first click's marker takes a cell of its own and the
    next heatmap without background shares it; no one stride keeps every heatmap with its
    own background, and grid mode rearranges every other layer of the viewer too); a click
    maps a world position to a pixel through each heatmap's own origin, exactly as before;
    and it works on a Qt-free ``ViewerModel``.

    Parameters
    ----------
    *heatmaps : Heatmap
        Open heatmaps of one viewer, each with a mask or a background (something to place).
    gap : float or None
        World units between neighbouring frames; None: 5 % of the widest frame.

    Returns
    -------
    Arrangement
        Its :meth:`~Arrangement.restore` puts the heatmaps back where they were.

    Raises
    ------
    ValueError, TypeError
        Naming ``heatmaps`` or ``gap`` when they are not as above; nothing moves then.
    """
    from ._heatmap import Heatmap

    if not heatmaps:
        raise ValueError("side_by_side: heatmaps must name at least one Heatmap; got none")
    for i, hm in enumerate(heatmaps):
        if not isinstance(hm, Heatmap):
            raise TypeError(f"side_by_side: heatmaps[{i}] must be a Heatmap; got {hm!r}")
        if hm.viewer is None:
            raise ValueError(f"side_by_side: heatmaps[{i}] ({hm.widget_id}) is closed")
        if hm.frame is None:
            raise ValueError(
                f"side_by_side: heatmaps[{i}] ({hm.widget_id}) has neither mask nor "
                "background: nothing to place"
            )
    if len({id(hm) for hm in heatmaps}) != len(heatmaps):
        raise ValueError("side_by_side: heatmaps must be different heatmaps; one came twice")
    viewer = heatmaps[0].viewer
    if any(hm.viewer is not viewer for hm in heatmaps):
        raise ValueError("side_by_side: heatmaps must all be in one viewer")
    frames = [hm.frame for hm in heatmaps]
    widest = max(frame[1] for frame in frames if frame is not None)
    space = 0.05 * widest if gap is None else _validate_gap(gap)

    before = tuple(hm.origin for hm in heatmaps)
    top, x = before[0]
    origins = []
    for frame in frames:
        assert frame is not None
        origins.append((top, x))
        x += frame[1] + space
    for hm, origin in zip(heatmaps, origins, strict=True):
        _move(hm, origin)
    assert viewer is not None
    viewer.reset_view()
    return Arrangement(tuple(heatmaps), before, tuple(origins))


def _validate_gap(gap: object) -> float:
    if isinstance(gap, bool) or not isinstance(gap, numbers.Real):
        raise TypeError(f"side_by_side: gap must be a number of world units or None; got {gap!r}")
    value = float(gap)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"side_by_side: gap must be finite and >= 0; got {gap!r}")
    return value


def _move(hm: Heatmap, origin: Sequence[float]) -> None:
    """Put a heatmap's frame at a new world origin (its layers follow; the marker goes)."""
    hm.origin = (float(origin[0]), float(origin[1]))
