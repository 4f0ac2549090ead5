"""Reading the annotations of folders: broken files are skipped and reported, never fatal.

The one recipe behind the napari reader and `density_map` over folders (docs/supervisely.md,
decision 4): a folder's meta is read once (a broken meta gives default colours, with a
warning); each annotation file is read with it; a file that cannot be read is named, with
the reason, in a `ReadReport`, and the others are kept.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._annotation import Annotation, load_annotation
from ._folders import (
    AnnotationItem,
    SuperviselyLayout,
    find_annotations,
    is_supervisely_json,
)
from ._meta import META_NAMES, ProjectMeta, load_meta

__all__ = [
    "REPORT_FIRST",
    "ReadReport",
    "failure_line",
    "find_layout",
    "item_label",
    "load_layouts",
    "plan_layouts",
]

#: How many skipped files / warnings a report lists by name.
REPORT_FIRST = 5


def find_layout(path: str | os.PathLike[str]) -> SuperviselyLayout | None:
    """Return what `path` opens as: its annotations, or ``None`` when it holds none.

    Like `find_annotations`, except that a project's ``meta.json`` (or ``classes.json``)
    stands for its project, and a layout without annotation files counts as none.
    """
    layout = find_annotations(path)
    p = Path(path)
    if layout is None and p.is_file() and p.name in META_NAMES and is_supervisely_json(p):
        layout = find_annotations(p.parent)
    return layout if layout is not None and layout.items else None


def item_label(item: AnnotationItem) -> str:
    """Name an annotation file in a report: ``<dataset>/<file>``."""
    return f"{item.dataset}/{item.ann_path.name}" if item.dataset else item.ann_path.name


def _reason(exc: Exception) -> str:
    where = getattr(exc, "object_index", None)
    text = getattr(exc, "reason", None) or str(exc) or type(exc).__name__
    return f"object {where}: {text}" if where is not None else text


def _more(lines: Sequence[str]) -> list[str]:
    """Keep the first `REPORT_FIRST` lines and say how many more there are."""
    out = list(lines[:REPORT_FIRST])
    if len(lines) > REPORT_FIRST:
        out.append(f"... and {len(lines) - REPORT_FIRST} more")
    return out


@dataclass
class ReadReport:
    """Files skipped and format warnings met while reading.

    Attributes
    ----------
    n_files : int
        How many annotation files were tried.
    failures : list of str
        ``"<dataset>/<file>: <reason>"`` for each file that could not be read.
    warnings : list of str
        Format warnings (e.g. a meta that could not be used), in the order met.
    """

    n_files: int = 0
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def skipped_lines(self) -> list[str]:
        """Say which files were skipped: a headline, the first few, how many more."""
        if not self.failures:
            return []
        head = (
            f"skipped {len(self.failures)} of {self.n_files} "
            "Supervisely annotation file(s) that could not be read"
        )
        return [head, *_more(self.failures)]

    def warning_lines(self) -> list[str]:
        """Say which warnings were met: a headline, the first few distinct ones, how many more."""
        if not self.warnings:
            return []
        unique = list(dict.fromkeys(self.warnings))
        return [f"{len(self.warnings)} warning(s) while reading", *_more(unique)]


def _meta(path: Path, report: ReadReport) -> ProjectMeta:
    try:
        return load_meta(path)
    except (OSError, ValueError) as e:
        report.warnings.append(f"{path.name} not used, classes get default colours: {_reason(e)}")
        return ProjectMeta({}, path)


def failure_line(item: AnnotationItem, exc: Exception) -> str:
    """Word one skipped file for a `ReadReport`: ``"<dataset>/<file>: <reason>"``."""
    return f"{item_label(item)}: {_reason(exc)}"


def plan_layouts(
    layouts: Sequence[SuperviselyLayout], report: ReadReport
) -> list[tuple[AnnotationItem, ProjectMeta | None]]:
    """List the files of `layouts` to read, each with its project meta, read once per project.

    An annotation file reached twice (a project and one of its datasets) is listed once. The
    report receives the number of files and the warnings of metas that cannot be used.
    """
    metas: dict[Path, ProjectMeta] = {}
    for layout in layouts:
        if layout.meta_path is not None and layout.meta_path not in metas:
            metas[layout.meta_path] = _meta(layout.meta_path, report)
    if len(layouts) == 1:  # find_annotations lists every file once already
        pairs = [(item, layouts[0].meta_path) for item in layouts[0].items]
    else:
        pairs = list(
            {
                os.path.realpath(item.ann_path): (item, lay.meta_path)
                for lay in layouts
                for item in lay.items
            }.values()
        )
    report.n_files = len(pairs)
    return [(item, None if mp is None else metas.get(mp)) for item, mp in pairs]


def load_layouts(
    layouts: Sequence[SuperviselyLayout],
    report: ReadReport,
    progress: Callable[[Sequence[Any]], Iterable[Any]] = iter,
) -> list[tuple[AnnotationItem, Annotation]]:
    """Read every annotation of `layouts`, skipping (and reporting) files that cannot be read.

    Parameters
    ----------
    layouts : sequence of SuperviselyLayout
        What to read; an annotation file reached twice (a project and one of its datasets)
        is read once.
    report : ReadReport
        Receives the number of files, the files skipped and the meta warnings.
    progress : callable
        Wraps the list of files to read, e.g. in a progress bar.

    Returns
    -------
    list of (AnnotationItem, Annotation)
        The files read, in the layouts' order.
    """
    loaded = []
    for item, meta in progress(plan_layouts(layouts, report)):
        try:
            loaded.append((item, load_annotation(item.ann_path, meta)))
        except (OSError, ValueError) as e:
            report.failures.append(failure_line(item, e))
    return loaded
