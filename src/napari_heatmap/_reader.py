"""npe2 reader: Supervisely annotations as napari layers (behaviour §6, docs/behaviour.md).

napari-model floor: imports napari (progress bar, notifications), never Qt. All parsing and
drawing is done by the pure :mod:`napari_heatmap.supervisely` package; this module only turns
its results into layer data tuples.

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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._background import load_background, natural_contrast_limits
from ._field import prepare
from ._layers import heatmap_layer_kwargs
from ._placement import layer_transform
from .supervisely import (
    Annotation,
    AnnotationItem,
    ProjectMeta,
    SuperviselyLayout,
    SuperviselyWarning,
    density_map,
    find_annotations,
    is_supervisely_json,
    load_annotation,
    load_meta,
)
from .supervisely._folders import META_NAMES
from .supervisely._layerdata import LayerData, object_layers

__all__ = ["napari_get_reader", "read_supervisely"]

PathLike = str | os.PathLike[str]
ReaderFunction = Callable[[PathLike | Sequence[PathLike]], list[LayerData]]

#: Show a progress bar when reading more annotation files than this.
PROGRESS_MIN_FILES = 20
#: How many failures / warnings the end-of-read notification lists by name.
REPORT_FIRST = 5
DENSITY_COLORMAP = "jet"
DENSITY_OPACITY = 0.7


# --------------------------------------------------------------------------- discovery


def _layout(path: PathLike) -> SuperviselyLayout | None:
    layout = find_annotations(path)
    p = Path(path)
    if layout is None and p.is_file() and p.name in META_NAMES and is_supervisely_json(p):
        layout = find_annotations(p.parent)  # a project's meta.json opens the project
    return layout if layout is not None and layout.items else None


def _find_layouts(path: PathLike | Sequence[PathLike]) -> list[SuperviselyLayout] | None:
    paths = [path] if isinstance(path, str | os.PathLike) else list(path)
    if not paths or not all(isinstance(p, str | os.PathLike) for p in paths):
        return None
    layouts = [_layout(p) for p in paths]
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


# --------------------------------------------------------------------------- loading


@dataclass
class _Report:
    """Files skipped and format warnings met while reading, for one notification."""

    n_files: int = 0
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def message(self) -> str:
        lines = []
        if self.failures:
            lines.append(
                f"napari-heatmap: skipped {len(self.failures)} of {self.n_files} "
                "Supervisely annotation file(s) that could not be read:"
            )
            lines += [f"  {f}" for f in self.failures[:REPORT_FIRST]]
            if len(self.failures) > REPORT_FIRST:
                lines.append(f"  ... and {len(self.failures) - REPORT_FIRST} more")
        if self.warnings:
            unique = list(dict.fromkeys(self.warnings))
            lines.append(f"napari-heatmap: {len(self.warnings)} warning(s) while reading:")
            lines += [f"  {w}" for w in unique[:REPORT_FIRST]]
            if len(unique) > REPORT_FIRST:
                lines.append(f"  ... and {len(unique) - REPORT_FIRST} more")
        return "\n".join(lines)


def _reason(exc: Exception) -> str:
    where = getattr(exc, "object_index", None)
    text = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
    return f"object {where}: {text}" if where is not None else text


def _label(item: AnnotationItem) -> str:
    return f"{item.dataset}/{item.ann_path.name}" if item.dataset else item.ann_path.name


def _progress(items: Sequence[Any], desc: str) -> Iterable[Any]:
    if len(items) <= PROGRESS_MIN_FILES:
        return items
    from napari.utils import progress

    return progress(items, desc=desc)


def _load_all(
    layouts: Sequence[SuperviselyLayout], report: _Report
) -> list[tuple[AnnotationItem, Annotation]]:
    metas: dict[Path, ProjectMeta] = {}
    for layout in layouts:
        if layout.meta_path is not None and layout.meta_path not in metas:
            try:
                metas[layout.meta_path] = load_meta(layout.meta_path)
            except (OSError, ValueError) as e:
                report.warnings.append(
                    f"{layout.meta_path.name} not used, classes get default colours: {_reason(e)}"
                )
                metas[layout.meta_path] = ProjectMeta({}, layout.meta_path)
    # An annotation reached twice (a project and one of its datasets) counts once.
    unique = {
        os.path.realpath(item.ann_path): (item, lay.meta_path)
        for lay in layouts
        for item in lay.items
    }
    jobs = list(unique.values())
    report.n_files = len(jobs)
    loaded = []
    for item, meta_path in _progress(jobs, "Reading Supervisely annotations"):
        meta = metas.get(meta_path) if meta_path is not None else None
        try:
            loaded.append((item, load_annotation(item.ann_path, meta)))
        except (OSError, ValueError) as e:
            report.failures.append(f"{_label(item)}: {_reason(e)}")
    return loaded


# --------------------------------------------------------------------------- layers


def _image_layer(item: AnnotationItem, frame: tuple[int, int], report: _Report) -> LayerData | None:
    if item.image_path is None:
        return None
    try:
        image = load_background(item.image_path)
    except (OSError, ValueError) as e:
        report.warnings.append(f"{item.image_path.name}: image not shown: {e}")
        return None
    scale, translate = layer_transform(frame, image.shape[:2])
    kwargs = {
        "name": item.name,
        "rgb": True,
        "contrast_limits": natural_contrast_limits(image),
        "scale": scale,
        "translate": translate,
    }
    return image, kwargs, "image"


def _density_layer(anns: list[Annotation], frame: tuple[int, int], title: str) -> LayerData | None:
    """Build the density of all labels as a heatmap layer, live once it is in a viewer."""
    try:
        grid = density_map(anns)
    except ValueError:  # no labels at all: nothing to show
        return None
    settings = {
        "colormap": DENSITY_COLORMAP,
        "opacity": DENSITY_OPACITY * 100.0,
        "blur_ksize": None,  # counts are shown exactly
        "height": float(frame[0]),
        "width": float(frame[1]),
    }
    field = prepare(grid, None, None)
    scale, translate = layer_transform(frame, grid.shape)
    kwargs = heatmap_layer_kwargs(
        colormap=DENSITY_COLORMAP,
        transparent_low=False,
        limits=field.display_limits(field.limits(None, None)),
        opacity=DENSITY_OPACITY,
        metadata={"role": "heatmap", "density": True, "mask": grid, "settings": settings},
        name=f"density ({title})",
        transform={"scale": scale, "translate": translate},
    )
    return field.display, kwargs, "image"


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
    report = _Report()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SuperviselyWarning)
        loaded = _load_all(layouts, report)
        if not loaded:
            raise ValueError(
                f"none of the {report.n_files} Supervisely annotation file(s) could be read:\n"
                + "\n".join(report.failures[:REPORT_FIRST])
            )
        first_item, first = loaded[0]
        frame = first.img_size
        layers: list[LayerData] = []
        density = None
        image = _image_layer(first_item, frame, report)
        if image is not None:
            layers.append(image)
        if len(layouts) > 1 or layouts[0].kind != "file":
            title = layouts[0].root.name if len(layouts) == 1 else f"{len(loaded)} annotations"
            density = _density_layer([a for _, a in loaded], frame, title)
            if density is not None:
                layers.append(density)
        layers += object_layers(first_item, first)
        if not layers:
            report.warnings.append(f"{_label(first_item)}: no objects and no image to show")
    for w in caught:
        if issubclass(w.category, SuperviselyWarning):
            report.warnings.append(str(w.message))
        else:  # not ours to swallow
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    if report.failures or report.warnings:
        from napari.utils.notifications import show_warning

        show_warning(report.message())
    if density is not None:
        import napari

        from . import _registry

        _registry.watch(napari.current_viewer())  # the density becomes a live heatmap
    return layers or [(None,)]  # type: ignore[list-item]
