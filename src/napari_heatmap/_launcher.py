"""The ``napari-heatmap`` command: napari with the demo (or your files) and the dock widget.

``napari-heatmap [--background PATH] [--mask PATH] [--screenshot PATH] [--no-widget]``.
With ``--screenshot`` the window is rendered to a PNG and the program exits (for docs and
headless checks under ``xvfb-run``). Bad input prints a message and exits with status 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ._heatmap import Heatmap

__all__ = ["build_parser", "load_mask", "main", "open_viewer"]

EXIT_BAD_INPUT = 2


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(
        prog="napari-heatmap",
        description="Open napari with a heatmap (the demo, or your files) and its controls.",
    )
    parser.add_argument("--background", metavar="PATH",
                        help="background image file (PNG, JPEG, TIFF, ...)")
    parser.add_argument("--mask", metavar="PATH",
                        help="heatmap values: a .npy array, or an image file read as gray")
    parser.add_argument("--screenshot", metavar="PATH",
                        help="save the whole window to this PNG and exit")
    parser.add_argument("--no-widget", action="store_true", help="do not dock the controls")
    return parser


def load_mask(path: str | Path) -> np.ndarray:
    """Read a mask: a ``.npy`` array, or any image OpenCV reads, as gray (8 or 16 bit).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it cannot be read.
    """
    import cv2

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"mask file not found: {path}")
    if path.suffix.lower() == ".npy":
        try:
            return np.asarray(np.load(path, allow_pickle=False))
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read mask {path} as a .npy array: {exc}") from exc
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE | cv2.IMREAD_ANYDEPTH)
    if gray is None:
        raise ValueError(f"cannot read mask {path}: not a .npy file or an image OpenCV reads")
    return np.asarray(gray)


def open_viewer(
    background: Any = None, mask: np.ndarray | None = None, *, widget: bool = True,
    show: bool = True,
) -> tuple[Any, Heatmap]:
    """Open a napari viewer with a heatmap (the demo when neither input is given).

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
            hm = Heatmap(background_image=background, heatmap_mask=mask, viewer=viewer)
            push_to_console(viewer, hm)
    except BaseException:
        viewer.close()
        raise
    if widget:
        viewer.window.add_plugin_dock_widget("napari-heatmap", "Heatmap")
    return viewer, hm


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``napari-heatmap`` command; return the exit status."""
    args = build_parser().parse_args(argv)
    if args.screenshot:
        from ._qt._screenshot import IMAGE_SUFFIXES

        if Path(args.screenshot).suffix.lower() not in IMAGE_SUFFIXES:
            print(f"napari-heatmap: --screenshot must end in one of {', '.join(IMAGE_SUFFIXES)}",
                  file=sys.stderr)
            return EXIT_BAD_INPUT
    try:
        from ._background import load_background

        background = None if args.background is None else load_background(args.background)
        mask = None if args.mask is None else load_mask(args.mask)
    except (FileNotFoundError, ValueError) as exc:
        print(f"napari-heatmap: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        viewer, _ = open_viewer(background, mask, widget=not args.no_widget)
    except (ValueError, TypeError) as exc:
        print(f"napari-heatmap: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.screenshot:
        from ._qt._screenshot import save_window

        try:
            path = save_window(viewer, args.screenshot)
        except (OSError, ValueError) as exc:
            print(f"napari-heatmap: {exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        finally:
            viewer.close()
        print(f"napari-heatmap: saved {path}")
        return 0
    import napari

    napari.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
