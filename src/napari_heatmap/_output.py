"""Where a screenshot may be written (its file type, a directory we can write in) and its size.

Pure floor (no napari, no Qt), so the launcher can refuse a bad path before opening a window.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["IMAGE_SUFFIXES", "WINDOW_SIZE", "check_image_path"]

#: File types a screenshot can be written as.
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")
#: (width, height) of the window a screenshot renders: room for the canvas beside both docks,
#: inside the virtual screen of `_headless.XVFB_SCREEN` (the dock may make it taller).
WINDOW_SIZE = (1300, 950)


def check_image_path(path: str | os.PathLike[str], name: str = "screenshot") -> Path:
    """Return `path` if an image can be written there, else raise naming `name`.

    The suffix must be one of `IMAGE_SUFFIXES`, the folder must exist and take a new file
    (tried for real: permission bits alone do not tell, e.g. for root or a read-only mount),
    and an existing file of that name must not be a folder.

    Parameters
    ----------
    path : str or os.PathLike
        Where the image is to be written.
    name : str
        What to call the path in messages (``"--screenshot"`` on the command line).

    Returns
    -------
    pathlib.Path
        `path` as a ``Path``.

    Raises
    ------
    ValueError
        If the suffix is not an image type we write, the folder is missing or not writable,
        or `path` is a folder.
    """
    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        kinds = ", ".join(IMAGE_SUFFIXES)
        raise ValueError(f"{name}: {str(path)!r} must end in one of {kinds}")
    if path.is_dir():
        raise ValueError(f"{name}: {str(path)!r} is a directory, not a file name")
    folder = path.parent
    if not folder.is_dir():
        what = "is not a directory" if folder.exists() else "does not exist"
        raise ValueError(f"{name}: cannot write {str(path)!r}: folder {str(folder)!r} {what}")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ValueError(
            f"{name}: cannot write {str(path)!r}: folder {str(folder)!r} is not writable ({reason})"
        ) from exc
    if path.exists() and not os.access(path, os.W_OK):
        raise ValueError(f"{name}: cannot write {str(path)!r}: the file is read-only")
    return path
