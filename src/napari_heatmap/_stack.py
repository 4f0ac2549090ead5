"""Backgrounds for stacks of heatmaps (behaviour §12).

Pure floor: no napari, no Qt. A stack of masks (…, H, W) is shown over one 2-D background
shared by every slice, or over a stack of backgrounds with the same leading shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._background import load_background

__all__ = ["is_background_stack", "load_stack_background"]


def is_background_stack(image: object, stack_shape: Sequence[int]) -> bool:
    """Whether an array background is a stack of backgrounds for a mask stack of this shape.

    It is when its shape starts with ``stack_shape`` and is followed by H×W (gray) or
    H×W×C (C = 1, 3 or 4). An array that could also be one 2-D picture — H×W×3 or H×W×4
    with as many rows as the stack has slices — is read as that picture, as without a stack.
    """
    lead = tuple(int(n) for n in stack_shape)
    if not lead or not isinstance(image, np.ndarray) or image.shape[: len(lead)] != lead:
        return False
    rest = image.shape[len(lead) :]
    if len(rest) == 2:
        return not (image.ndim == 3 and rest[-1] in (3, 4))
    return len(rest) == 3 and rest[-1] in (1, 3, 4)


def load_stack_background(image: Any, stack_shape: Sequence[int]) -> np.ndarray:
    """Return a background for a mask stack: (H, W, C) shared, or (…, H, W, C) per slice.

    Each slice of a stacked array is loaded by :func:`~napari_heatmap._background.
    load_background` (same dtypes, gray becomes RGB), so a stack follows the 2-D rules.

    Raises
    ------
    ValueError, TypeError
        Naming ``background_image``: an array with more axes than a picture whose leading
        shape is not the mask's stack shape, or any error of ``load_background``.
    """
    if not is_background_stack(image, stack_shape):
        if isinstance(image, np.ndarray) and image.ndim > 3:
            raise ValueError(
                f"background_image of shape {image.shape} is neither one picture nor a stack "
                f"of pictures for a mask stack of shape {tuple(stack_shape)} (…, H, W): its "
                "leading shape must be the mask's"
            )
        return load_background(image)
    out: np.ndarray | None = None
    for index in np.ndindex(*stack_shape):
        plane = load_background(image[index])
        if out is None:
            out = np.empty((*stack_shape, *plane.shape), plane.dtype)
        out[index] = plane
    assert out is not None
    return out
