"""Where things go: the shared frame, layer transforms and click-to-pixel maths (behaviour §3-§4).

Pure floor. World coordinates are napari's: pixel ``i`` of a layer at scale ``s`` and
translate ``t`` is centred on ``i·s + t``. The frame spans ``[origin, origin + size)`` on
each axis (``origin`` is -0.5 unless a heatmap is made over a layer placed elsewhere), so
every layer put in it has its outer edges on the frame's edges.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

__all__ = [
    "DEFAULT_ORIGIN",
    "check_pixel_size",
    "frame_size",
    "layer_extent",
    "layer_transform",
    "pixel_at",
    "stack_index_at",
    "stack_transform",
    "validate_size",
]


def validate_size(name: str, value: object) -> float | None:
    """Check ``width`` / ``height``: None or a positive finite number."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number of world units or None; got {value!r}")
    try:
        out = float(value)
    except OverflowError:
        out = math.inf
    if not (math.isfinite(out) and out > 0):
        shown = value if out != math.inf else f"an int of {len(str(value))} digits"
        raise ValueError(f"{name} must be a positive number of world units or None; got {shown}")
    return out


#: A layer's pixel must measure between these many world units: napari's dims need a step
#: that is a normal, positive float, and the frame must not overflow.
PIXEL_SIZE_RANGE = (2.0**-100, 2.0**100)


def check_pixel_size(
    frame: Sequence[float],
    shapes: Sequence[Sequence[int]],
    width: float | None,
    height: float | None,
) -> None:
    """Refuse a frame whose layers' pixels napari cannot place (a denormal width, say).

    Raises
    ------
    ValueError
        Naming ``width`` and ``height``, the pixel size and the range allowed.
    """
    lo, hi = PIXEL_SIZE_RANGE
    for shape in shapes:
        for size, n in zip(frame, shape[:2], strict=False):
            step = float(size) / n
            if not (math.isfinite(step) and lo <= step <= hi):
                raise ValueError(
                    f"width and height must give each pixel a size from {lo:.3g} to {hi:.3g} "
                    f"world units; width={width!r}, height={height!r} give {step:.3g}"
                )


def frame_size(
    natural: Sequence[int] | None, width: float | None, height: float | None
) -> tuple[float, float] | None:
    """Return the frame's (height, width) in world units.

    Parameters
    ----------
    natural : (int, int) or None
        The natural size (rows, columns): the background's, else the mask's.
    width, height : float or None
        Requested size; with only one given the other follows ``natural``'s aspect ratio.
    """
    if natural is None:
        if width is not None and height is not None:
            return float(height), float(width)
        return None
    nh, nw = float(natural[0]), float(natural[1])
    if width is None and height is None:
        return nh, nw
    if width is not None and height is not None:
        return float(height), float(width)
    if width is not None:
        return width * nh / nw, float(width)
    assert height is not None
    return float(height), height * nw / nh


#: World position of the frame's top-left corner by default: pixel (0, 0) centred on 0.
DEFAULT_ORIGIN = (-0.5, -0.5)


def layer_transform(
    frame: Sequence[float], shape: Sequence[int], origin: Sequence[float] = DEFAULT_ORIGIN
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Return napari ``(scale, translate)`` stretching an array of ``shape`` over ``frame``.

    ``origin`` is the world position of the frame's top-left corner (its outer edge).
    """
    sy = float(frame[0]) / shape[0]
    sx = float(frame[1]) / shape[1]
    return (sy, sx), (float(origin[0]) + sy / 2.0, float(origin[1]) + sx / 2.0)


def pixel_at(
    world: Sequence[float],
    frame: Sequence[float],
    shape: Sequence[int],
    origin: Sequence[float] = DEFAULT_ORIGIN,
) -> tuple[int, int] | None:
    """Return the (row, column) of the mask pixel under a world point, or None outside.

    Only the last two coordinates of ``world`` are used (rows, columns).
    """
    wy, wx = float(world[-2]), float(world[-1])
    uy = (wy - float(origin[0])) / float(frame[0])
    ux = (wx - float(origin[1])) / float(frame[1])
    if not (0.0 <= uy < 1.0 and 0.0 <= ux < 1.0):
        return None
    y = min(int(math.floor(uy * shape[0])), shape[0] - 1)
    x = min(int(math.floor(ux * shape[1])), shape[1] - 1)
    return y, x


def layer_extent(
    shape: Sequence[int], scale: Sequence[float], translate: Sequence[float]
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Return the (frame, origin) that a 2-D layer of ``shape`` covers in world units."""
    sy, sx = float(scale[-2]), float(scale[-1])
    ty, tx = float(translate[-2]), float(translate[-1])
    return (shape[-2] * sy, shape[-1] * sx), (ty - sy / 2.0, tx - sx / 2.0)


def stack_transform(
    frame: Sequence[float], shape: Sequence[int], origin: Sequence[float] = DEFAULT_ORIGIN
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Return napari ``(scale, translate)`` for an (…, H, W) stack over ``frame`` (§12).

    The last two axes are stretched as by :func:`layer_transform`; every stack axis keeps
    scale 1 and translate 0, so slice ``i`` is at world position ``i`` on its slider and a
    2-D layer (a shared background) lies under every slice.
    """
    (sy, sx), (ty, tx) = layer_transform(frame, shape[-2:], origin)
    lead = len(shape) - 2
    return (*(1.0,) * lead, sy, sx), (*(0.0,) * lead, ty, tx)


def stack_index_at(world: Sequence[float], stack_shape: Sequence[int]) -> tuple[int, ...] | None:
    """Return the stack indices napari shows at a world point, or None outside the stack.

    The stack axes are the ``len(stack_shape)`` world axes before the last two (napari lines
    up a layer's axes with the world's last ones); as napari does, the index is the world
    coordinate rounded to the nearest integer (see :func:`stack_transform`).
    """
    lead = len(stack_shape)
    if lead == 0:
        return ()
    if len(world) < lead + 2:
        return None
    out = tuple(int(round(float(w))) for w in world[-lead - 2 : -2])
    if not all(0 <= i < n for i, n in zip(out, stack_shape, strict=True)):
        return None
    return out
