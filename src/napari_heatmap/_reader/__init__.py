"""npe2 reader: Supervisely annotations as napari layers (behaviour §6, docs/behaviour.md).

napari-model floor: imports napari (progress bar, notifications), never Qt. Finding, parsing,
reading with skip-and-report and drawing are done by the pure :mod:`napari_heatmap.supervisely`
package; this package only turns its results into layer data tuples (`_layers`: the image and
the objects; `_density`: the density heatmap, drawn by
:func:`~napari_heatmap.supervisely.layouts_density` with napari's progress bar) and reports what
was skipped.

What a path opens as:

* an annotation file: the image beneath (when found in the dataset's ``img/``) and the objects
  of that image, one layer per class and kind, named ``"<class> (<item>)"``;
* a dataset or project folder (or its ``meta.json``), or a list of such paths: the image and
  objects of the **first** annotation only (to keep the layer list short), plus one density
  heatmap over **all** annotations, scaled over the first image.

Object layers: rectangles, polygons (exterior ring only), oriented boxes, multipolygon parts,
legacy cuboid faces and polylines -> one Shapes layer per class; points and keypoint nodes ->
one Points layer per class (keypoint edges -> an extra ``"<class> edges"`` Shapes layer);
bitmaps and alpha masks (alpha > 0) -> one Labels layer per class, one label value per object,
all painted in the class colour. Vertices sit on pixel centres, in napari's (row, col) order.
Files that cannot be read are skipped and reported, with the format warnings, in one
notification; if no file can be read a ``ValueError`` says why.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence

import numpy as np

from ..supervisely import (
    Annotation,
    AnnotationItem,
    ReadReport,
    SuperviselyLayout,
    SuperviselyWarning,
    find_layout,
    item_label,
    layouts_density,
    load_annotation,
    load_layouts,
    plan_layouts,
)
from ._density import density_layer, density_progress
from ._layers import LayerData, image_layer, object_layers

__all__ = ["napari_get_reader", "read_supervisely"]

PathLike = str | os.PathLike[str]
ReaderFunction = Callable[[PathLike | Sequence[PathLike]], list[LayerData]]


# --------------------------------------------------------------------------- discovery


def _find_layouts(path: PathLike | Sequence[PathLike]) -> list[SuperviselyLayout] | None:
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    if not paths or not all(isinstance(p, str | os.PathLike) for p in paths):
        return None
    layouts = [find_layout(p) for p in paths]
    if any(lay is None for lay in layouts):
        return None
    return [lay for lay in layouts if lay is not None]


def napari_get_reader(path: PathLike | Sequence[PathLike]) -> ReaderFunction | None:
    """Return a reader for Supervisely annotations at `path`, or ``None`` to decline.

    Parameters
    ----------
    path : str, os.PathLike or list of them
        An annotation JSON file, a project's ``meta.json``, a dataset folder (``ann/``,
        ``img/``) or a project folder. For a list, every item must be one of these.

    Returns
    -------
    callable or None
        ``reader(path) -> list of layer data tuples`` (see `read_supervisely`), or ``None`` for
        anything else (other JSON, other files, folders without annotations) so that other
        readers can try.
    """
    try:
        layouts = _find_layouts(path)
    except OSError:  # e.g. a folder we may not list
        return None
    if layouts is None:
        return None

    def reader(p: PathLike | Sequence[PathLike]) -> list[LayerData]:
        return _read(layouts if p == path else _find_layouts(p), p)

    return reader


# --------------------------------------------------------------------------- reporting


def _message(report: ReadReport) -> str:
    """Word the end-of-read notification: files skipped, then warnings, each with a few."""
    lines = []
    for block in (report.skipped_lines(), report.warning_lines()):
        if block:
            lines.append(f"napari-heatmap: {block[0]}:")
            lines += [f"  {line}" for line in block[1:]]
    return "\n".join(lines)


# --------------------------------------------------------------------------- reading


def read_supervisely(path: PathLike | Sequence[PathLike]) -> list[LayerData]:
    """Read Supervisely annotations as napari layer data tuples.

    A single annotation file gives its image and objects. A folder (or several paths) gives the
    image and objects of the first readable annotation only, plus the density heatmap (count of
    objects per pixel, :func:`~napari_heatmap.supervisely.density_map`) over all of them, a
    live :class:`~napari_heatmap.Heatmap` once in a viewer (jet, 70 % opacity, no blur; its
    metadata hold the counts and settings) and stretched over the first image. Unreadable
    files are skipped and reported in one notification, together with the format warnings
    met while reading.

    Parameters
    ----------
    path : str, os.PathLike or list of them
        What `napari_get_reader` accepts.

    Returns
    -------
    list of tuple
        ``(data, kwargs, layer_type)``: image, density, labels, shapes, points; napari's empty
        sentinel ``[(None,)]`` when there is nothing to show.

    Raises
    ------
    ValueError
        If `path` holds no Supervisely annotations, or none of its files can be read.
    """
    return _read(_find_layouts(path), path)


def _read(
    layouts: list[SuperviselyLayout] | None, path: PathLike | Sequence[PathLike]
) -> list[LayerData]:
    if not layouts:
        raise ValueError(f"{path!r} holds no Supervisely annotations")
    report = ReadReport()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SuperviselyWarning)
        first_item, first, grid, n_read = _load(layouts, report)
        frame = first.img_size
        layers: list[LayerData] = []
        density = None
        image = image_layer(first_item, frame, report.warnings)
        if image is not None:
            layers.append(image)
        if grid is not None:
            title = layouts[0].root.name if len(layouts) == 1 else f"{n_read} annotations"
            density = density_layer(grid, frame, title)
            layers.append(density)
        layers += object_layers(first_item, first)
        if not layers:
            report.warnings.append(f"{item_label(first_item)}: no objects and no image to show")
    for w in caught:
        if issubclass(w.category, SuperviselyWarning):
            report.warnings.append(str(w.message))
        else:  # not ours to swallow
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    if report.failures or report.warnings:
        from napari.utils.notifications import show_warning

        show_warning(_message(report))
    if density is not None:
        import napari

        from .. import _registry

        _registry.watch(napari.current_viewer())  # the density becomes a live heatmap
    return layers or [(None,)]  # type: ignore[list-item]


def _none_readable(report: ReadReport) -> ValueError:
    return ValueError(
        f"none of the {report.n_files} Supervisely annotation file(s) could be read:\n"
        + "\n".join(report.skipped_lines()[1:])
    )


def _load(
    layouts: list[SuperviselyLayout], report: ReadReport
) -> tuple[AnnotationItem, Annotation, np.ndarray | None, int]:
    """Read the first readable annotation and, for folders, the density of all of them.

    A single file is read alone. For folders the density is drawn in parallel
    (:func:`~napari_heatmap.supervisely.layouts_density`: each meta read once, a napari
    progress bar for many files), then the first readable file is read for its objects.
    """
    if len(layouts) == 1 and layouts[0].kind == "file":
        loaded = load_layouts(layouts, report)
        if not loaded:
            raise _none_readable(report)
        return (*loaded[0], None, 1)
    pairs = plan_layouts(layouts, report)
    grid, failed = layouts_density(pairs, report, progress=density_progress)
    first = next((i for i in range(len(pairs)) if i not in failed), None)
    if first is None:
        raise _none_readable(report)
    item, meta = pairs[first]
    with warnings.catch_warnings():  # warned of while drawing the density
        warnings.simplefilter("ignore", SuperviselyWarning)
        ann = load_annotation(item.ann_path, meta)
    return item, ann, grid, len(pairs) - len(failed)
