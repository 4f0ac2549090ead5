"""The ``napari-heatmap`` command: napari with the demo (or your files) and the dock widget.

``napari-heatmap [--background PATH] [--mask PATH] [--stack] [--screenshot PATH] [--no-widget]``.
With ``--screenshot`` the window is rendered to an image file and the program exits; with no
display it re-runs itself under ``xvfb-run``. Bad input prints one line and exits with status 2
before any window opens.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._headless import (
    NO_DISPLAY_INTERACTIVE,
    NO_DISPLAY_NO_XVFB,
    XVFB_SCREEN,
    has_display,
    run_under_xvfb,
    xvfb_run,
)
from ._output import IMAGE_SUFFIXES, check_image_path

if TYPE_CHECKING:
    from ._heatmap import Heatmap

__all__ = ["WIDGET_NAME", "build_parser", "load_mask", "main", "open_viewer"]

EXIT_BAD_INPUT = 2
#: The dock widget's display name in the plugin manifest.
WIDGET_NAME = "Heatmap"
#: Image files OpenCV (>= 4.8, as shipped by opencv-python-headless) reads: what --background
#: and an image --mask accept. OpenCV looks at the content, not the name; these are the names
#: we promise.
IMAGE_INPUT_SUFFIXES = (
    ".png",
    ".jpg",
    ".jpeg",
    ".jpe",
    ".bmp",
    ".dib",
    ".tif",
    ".tiff",
    ".webp",
    ".pbm",
    ".pgm",
    ".ppm",
    ".pnm",
    ".sr",
    ".ras",
    ".hdr",
    ".pic",
)

_EPILOG = f"""\
inputs:
  --background  an image file: {", ".join(IMAGE_INPUT_SUFFIXES[:9])},
                {", ".join(IMAGE_INPUT_SUFFIXES[9:])}
  --mask        a .npy array (H x W, numbers), or one of the image files above read as gray
                (8 or 16 bit)
  with neither, the demo opens (gradient background, two Gaussian blobs);
  --stack       read the --mask .npy array as a stack (..., H, W): one slice per step of
                napari's dimension sliders (without it a 3-D array is H x W x C, averaged)
  --mask alone shows the heatmap on its own;
  --background alone shows just the image, held by a heatmap without values: give it values
  later from the dock widget's mask row or the console (heatmap.set_heatmap(array)).

output:
  --screenshot  {", ".join(IMAGE_SUFFIXES)}; the folder must exist and be writable.

display:
  the napari window needs a display (DISPLAY or WAYLAND_DISPLAY). Without one, --screenshot
  re-runs under Xvfb (xvfb-run -a -s "{XVFB_SCREEN}") when xvfb-run is installed;
  an interactive window cannot be shown and the command exits with status 2.

exit status: 0 done, 2 bad input or no display.
"""


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="napari-heatmap",
        description="Open napari with a heatmap (the demo, or your files) and its controls.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--background", metavar="PATH", help="background image file (suffixes below)"
    )
    parser.add_argument(
        "--mask", metavar="PATH", help="heatmap values: a .npy array, or an image file read as gray"
    )
    parser.add_argument(
        "--stack",
        action="store_true",
        help="read the mask as a stack of 2-D slices (..., H, W) shown with dimension sliders",
    )
    parser.add_argument(
        "--screenshot",
        metavar="PATH",
        help="save the whole window to this image file and exit "
        "(works without a display when Xvfb is installed)",
    )
    parser.add_argument("--no-widget", action="store_true", help="do not dock the controls")
    return parser


def _check_input_file(path: str | Path, name: str) -> Path:
    """Return `path` if it is an existing file; the one wording for every input option."""
    path = Path(os.fspath(path)).expanduser()
    if path.is_dir():
        raise ValueError(f"{name}: {str(path)!r} is a directory, not a file")
    if not path.is_file():
        raise FileNotFoundError(f"{name}: no such file: {str(path)!r}")
    return path


def load_mask(path: str | Path) -> np.ndarray:
    """Read a mask: a ``.npy`` array, or any image OpenCV reads, as gray (8 or 16 bit).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If `path` is a directory or the file cannot be read.
    """
    import cv2

    path = _check_input_file(path, "mask")
    if path.suffix.lower() == ".npy":
        try:
            return np.asarray(np.load(path, allow_pickle=False))
        except (OSError, ValueError) as exc:
            raise ValueError(f"mask: cannot read {str(path)!r} as a .npy array: {exc}") from exc
    from ._background import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS
    from ._imagesize import ImageHeaderError, ImageTooLargeError, check_pixels

    if path.stat().st_size > MAX_IMAGE_BYTES:
        raise ValueError(
            f"mask: {str(path)!r} is too large: {path.stat().st_size} bytes, more than "
            f"{MAX_IMAGE_BYTES} for an image (save a large mask as .npy)"
        )
    raw = path.read_bytes()
    try:  # the pixel budget is checked from the header, before anything is decoded
        check_pixels(raw, MAX_IMAGE_PIXELS)
    except ImageTooLargeError as exc:
        raise ValueError(f"mask: {str(path)!r} is too large: {exc}") from None
    except ImageHeaderError as exc:
        raise ValueError(
            f"mask: cannot read {str(path)!r}: not a .npy file or an image "
            f"whose size can be checked ({exc})"
        ) from None
    gray = cv2.imdecode(np.frombuffer(raw, np.uint8), cv2.IMREAD_GRAYSCALE | cv2.IMREAD_ANYDEPTH)
    if gray is None:
        raise ValueError(
            f"mask: cannot read {str(path)!r}: not a .npy file or an image OpenCV reads"
        )
    return np.asarray(gray)


def _load_option(option: str, path: str, loader: Callable[[Path], Any]) -> Any:
    """Load the file of a command-line `option`; errors are named after the option."""
    checked = _check_input_file(path, option)
    try:
        return loader(checked)
    except ValueError as exc:
        reason = str(exc).split(": ", 1)[1] if ": " in str(exc) else str(exc)
        raise ValueError(f"{option}: {reason}") from exc


def open_viewer(
    background: Any = None,
    mask: np.ndarray | None = None,
    *,
    widget: bool = True,
    show: bool = True,
    stack: bool = False,
) -> tuple[Any, Heatmap]:
    """Open a napari viewer with a heatmap (the demo when neither input is given).

    ``stack`` reads the mask as a stack of 2-D slices (see :class:`Heatmap`).

    Returns
    -------
    (napari.Viewer, Heatmap)
        The viewer and its heatmap; the dock widget is docked when ``widget``.
    """
    import napari

    from ._heatmap import Heatmap
    from ._session import open_demo, push_to_console

    viewer = napari.Viewer(title="napari-heatmap", show=show)
    try:
        if background is None and mask is None:
            hm = open_demo(viewer)
        else:
            hm = Heatmap(background_image=background, heatmap_mask=mask, viewer=viewer, stack=stack)
            push_to_console(viewer, hm)
    except BaseException:
        viewer.close()
        raise
    if widget:
        viewer.window.add_plugin_dock_widget("napari-heatmap", WIDGET_NAME)
    return viewer, hm


def _fail(message: str) -> int:
    print(f"napari-heatmap: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``napari-heatmap`` command; return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    try:
        if args.screenshot:
            check_image_path(args.screenshot, "--screenshot")
        from ._background import load_background

        background = (
            None
            if args.background is None
            else _load_option("--background", args.background, load_background)
        )
        mask = None if args.mask is None else _load_option("--mask", args.mask, load_mask)
        if args.stack and mask is None:
            raise ValueError("--stack: give the stack with --mask PATH (a .npy array)")
    except (FileNotFoundError, ValueError) as exc:
        return _fail(str(exc))
    if not has_display():
        if not args.screenshot:
            return _fail(NO_DISPLAY_INTERACTIVE)
        xvfb = xvfb_run()
        if xvfb is None:
            return _fail(NO_DISPLAY_NO_XVFB)
        return run_under_xvfb(xvfb, argv)
    try:
        viewer, _ = open_viewer(background, mask, widget=not args.no_widget, stack=args.stack)
    except (ValueError, TypeError) as exc:
        return _fail(str(exc))
    if args.screenshot:
        from ._qt._screenshot import save_window

        try:
            path = save_window(viewer, args.screenshot)
        except (OSError, ValueError) as exc:
            return _fail(str(exc))
        finally:
            viewer.close()
        print(f"napari-heatmap: saved {path}")
        return 0
    import napari

    napari.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
