"""Density over many annotation files: in batches (dask), each meta read once, memory bounded.

The sources are listed first, in the main thread: folders expanded (docs/supervisely.md), each
project's ``meta.json`` read once and paired with every file it serves; annotations already in
memory are parsed there too. The files are then read and drawn in batches: by dask tasks on the
user's ``dask.distributed`` client when one is active (or on a local dask scheduler when asked
for), else in this process (`LOCAL_DEFAULT`, measured). Each batch gives one
partial sum (a float32 grid) and the partial sums are folded in a fixed tree (batch order,
`SPLIT_EVERY` at a time), so the result does not depend on which worker finished first: equal,
bit for bit, to a serial run wherever every label adds a whole number (float32 sums of whole
numbers below 2**24 are exact in any order), within float32 rounding for alpha masks.

When the grid follows the mean image size, a first pass reads only the image sizes, from each
file's first bytes (`guess_image_size`). The drawing pass reads every file whole: a file that
fails there (a broken object) is dropped from the mean, a size that was not the file's own is
corrected, and if that changes the grid the drawing pass is run again, so the grid is always the
one of the files actually drawn.

Files found in folders that cannot be read are skipped and reported as the reader does
(`_loading`); a file given by name that cannot be read raises, as in a serial read.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
import uuid
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from ._annotation import Annotation, annotation_from_any, guess_image_size, read_annotation_file
from ._errors import SuperviselyFormatError, SuperviselyWarning
from ._folders import AnnotationItem, SuperviselyLayout
from ._loading import ReadReport, failure_line, item_label, plan_layouts
from ._meta import ProjectMeta, find_meta_for, load_meta
from ._raster import Partial, check_size, draw_annotation, finish, grid_size
from ._sources import annotation_sources

__all__ = ["SPLIT_EVERY", "Progress", "density_map", "density_stack", "layouts_density"]

#: Partial sums folded together per reduction task.
SPLIT_EVERY = 4
#: Largest batch of files per task (small batches: finer progress, more partial grids).
MAX_BATCH = 256
#: Batches when the files are few (keeps a few workers busy to the end).
TARGET_BATCHES = 16
#: A default progress bar (tqdm) is shown in scripts above this many files.
PROGRESS_MIN_FILES = 20

Scheduler = Literal["threads", "processes", "sync"] | None

#: Without a distributed client the files are read in this process by default: on the 2-core
#: development machine (shared with other work) dask's threads were slower than one thread (the
#: parser is Python code holding the GIL) and its process pool a few per cent faster on 2,000
#: files, for the cost of its start (more than a small project's whole run) and of scripts
#: needing `if __name__ == "__main__":`. benchmarks/datasets.py measures the three.
LOCAL_DEFAULT: Scheduler = "sync"


class _Bar(Protocol):
    def update(self, n: int = 1) -> object: ...


class Progress(Protocol):
    """A progress bar factory: napari's ``progress`` and ``tqdm`` are two.

    Called as ``progress(total=n, desc=text)``; returns a context manager whose value has
    ``update(n)``.
    """

    def __call__(
        self, *, total: int, desc: str
    ) -> contextlib.AbstractContextManager[_Bar]: ...  # pragma: no cover


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class _Source:
    """One annotation to draw: a file to read in a worker, or one already in memory."""

    index: int
    path: Path | None = None
    meta: ProjectMeta | None = None
    item: AnnotationItem | None = None  # found in a folder: skipped and reported if broken
    value: Annotation | None = None


@dataclass
class _Folder:
    root: str
    report: ReadReport


@dataclass
class _Plan:
    sources: list[_Source] = field(default_factory=list)
    folders: list[tuple[_Folder, range]] = field(default_factory=list)
    #: Source index -> skip line (found in a folder) or None (given by name).
    failures: dict[int, str | None] = field(default_factory=dict)
    notes: dict[int, list[str]] = field(default_factory=dict)


class _Metas:
    """Project metas read once per file (and found once per folder) for one call."""

    def __init__(self) -> None:
        self._found: dict[Path, Path | None] = {}
        self._judged: dict[Path, bool] = {}
        self._loaded: dict[Path, ProjectMeta | Exception] = {}

    def for_file(self, path: Path) -> ProjectMeta | None:
        """Return the meta found by walking up from `path`, as `load_annotation` finds it."""
        folder = Path(os.path.realpath(path)).parent
        if folder not in self._found:
            self._found[folder] = find_meta_for(path, known=self._judged)
        meta_path = self._found[folder]
        if meta_path is None:
            return None
        if meta_path not in self._loaded:
            try:
                self._loaded[meta_path] = load_meta(meta_path)
            except (OSError, ValueError) as e:
                self._loaded[meta_path] = e
        meta = self._loaded[meta_path]
        if isinstance(meta, Exception):
            raise meta
        return meta


def _plan(annotations: object, name: str) -> _Plan:
    plan = _Plan()
    metas = _Metas()
    for position, obj in enumerate(annotation_sources(annotations, name, layouts=True)):
        index = len(plan.sources)
        if isinstance(obj, SuperviselyLayout):
            layout = obj
            report = ReadReport()
            pairs = plan_layouts([layout], report)
            root = os.fspath(layout.root)
            for text in report.warnings:  # a meta that could not be used
                warnings.warn(f"{root}: {text}", SuperviselyWarning, stacklevel=4)
            for k, (item, meta) in enumerate(pairs):
                src = _Source(index + k, item.ann_path, meta, item)
                if meta is None and layout.meta_path is None:
                    try:  # as load_annotation: walk up from the file
                        src = _Source(index + k, item.ann_path, metas.for_file(item.ann_path), item)
                    except (OSError, ValueError) as e:
                        plan.failures[index + k] = failure_line(item, e)
                plan.sources.append(src)
            plan.folders.append((_Folder(root, report), range(index, len(plan.sources))))
        elif isinstance(obj, str | os.PathLike):
            path = Path(obj)
            try:
                meta = metas.for_file(path)
            except (OSError, ValueError):
                plan.failures[index] = None  # raised again, in order, by _raise_named
                meta = None
            plan.sources.append(_Source(index, path, meta))
        else:
            try:
                value = annotation_from_any(obj)
            except SuperviselyFormatError as e:
                if e.path is not None:  # a file: its name says which item it is
                    raise
                label = f"{name}[{position}] ({type(obj).__name__})"
                raise SuperviselyFormatError(e.reason, label, e.object_index) from e.__cause__
            plan.sources.append(_Source(index, value=value))
    return plan


# --------------------------------------------------------------------------- batch work


@dataclass
class _BatchResult:
    """What one batch of files gives back: a partial sum (or sizes), failures and notes."""

    n_files: int
    part: Partial = field(default_factory=Partial)
    sizes: dict[int, tuple[int, int]] = field(default_factory=dict)
    failures: dict[int, str | None] = field(default_factory=dict)
    notes: dict[int, list[str]] = field(default_factory=dict)
    slices: dict[int, np.ndarray] = field(default_factory=dict)


def _fail(out: _BatchResult, src: _Source, exc: Exception) -> None:
    out.failures[src.index] = failure_line(src.item, exc) if src.item is not None else None


def _read_sizes(batch: Sequence[_Source], out: _BatchResult | None = None) -> _BatchResult:
    """Pass 1: the image size of every file of `batch`, read from the file's first bytes.

    `guess_image_size`: the drawing pass reads every file whole and `_draw` checks the sizes.

    Into `out` when given (the in-process path), else into a new result.
    """
    out = _BatchResult(0) if out is None else out
    out.n_files += len(batch)
    for src in batch:
        if src.value is not None:
            out.sizes[src.index] = src.value.img_size
            continue
        assert src.path is not None
        try:
            out.sizes[src.index] = guess_image_size(src.path)
        except (OSError, ValueError) as e:
            _fail(out, src, e)
    return out


def _draw_batch(
    batch: Sequence[_Source],
    shape: tuple[int, int],
    object_name: str | None,
    each: bool = False,
    out: _BatchResult | None = None,
) -> _BatchResult:
    """Pass 2: read every file of `batch` and add its labels to one partial sum.

    With `each`, every annotation's own density is kept too (in ``slices``). Into `out`
    when given (the in-process path: one grid, drawn in file order), else a new result.
    """
    out = _BatchResult(0) if out is None else out
    out.n_files += len(batch)
    for src in batch:
        notes: list[str] = []
        if src.value is not None:
            ann = src.value
        else:
            assert src.path is not None
            try:
                ann = read_annotation_file(src.path, src.meta, notes)
            except (OSError, ValueError) as e:
                _fail(out, src, e)
                continue
        if notes:
            out.notes[src.index] = notes
        out.sizes[src.index] = ann.img_size
        if not each:
            draw_annotation(out.part, ann, shape, object_name)
            continue
        own = Partial()
        draw_annotation(own, ann, shape, object_name)
        if own.grid is None:
            out.slices[src.index] = np.zeros(shape, np.float32)
        else:
            out.slices[src.index] = own.grid  # Partial.add copies what it adopts
        out.part.add(own)
    return out


def _fold(*results: _BatchResult) -> _BatchResult:
    """Fold batch results, in the order given, into a new one.

    The inputs are left as they are: a distributed worker may hold them and fold them again.
    """
    out = _BatchResult(0)
    for other in results:
        out.n_files += other.n_files
        out.part.add(other.part)
        out.sizes.update(other.sizes)
        out.failures.update(other.failures)
        out.notes.update(other.notes)
        out.slices.update(other.slices)
    return out


# --------------------------------------------------------------------------- scheduling


def active_client() -> Any | None:
    """Return the active ``dask.distributed`` client, or ``None`` (also without distributed)."""
    if "distributed" not in sys.modules:  # no client without it; importing it takes a second
        return None
    from distributed import get_client

    try:
        return get_client()
    except ValueError:  # no client
        return None


def _batches(sources: Sequence[_Source], batch_size: int | None) -> list[list[_Source]]:
    """Cut `sources` into batches that depend on their number only, never on the workers.

    The partial sums then fold in the same order on any scheduler or cluster (the in-process
    path draws them all into one grid, in file order: the serial sum).
    """
    n = len(sources)
    if batch_size is None:
        batch_size = min(MAX_BATCH, max(1, math.ceil(n / TARGET_BATCHES)))
    return [list(sources[i : i + batch_size]) for i in range(0, n, batch_size)]


def _tree(parts: list[Any], combine: Callable[..., Any]) -> Any:
    """Fold `parts` `SPLIT_EVERY` at a time, level by level, always in the same order."""
    while len(parts) > 1:
        parts = [
            combine(*parts[i : i + SPLIT_EVERY])
            if len(parts[i : i + SPLIT_EVERY]) > 1
            else parts[i]
            for i in range(0, len(parts), SPLIT_EVERY)
        ]
    return parts[0]


class _StreamingTree:
    """`_tree` fed one part at a time: the same groups in the same order, few parts held.

    A level's parts are folded as soon as `SPLIT_EVERY` of them are there, so at most
    ``SPLIT_EVERY - 1`` parts wait per level (a few grids, however many batches).
    """

    def __init__(self, combine: Callable[..., Any]) -> None:
        self.combine = combine
        self.levels: list[list[Any]] = []

    def push(self, part: Any, level: int = 0) -> None:
        if level == len(self.levels):
            self.levels.append([])
        self.levels[level].append(part)
        if len(self.levels[level]) == SPLIT_EVERY:
            group, self.levels[level] = self.levels[level], []
            self.push(self.combine(*group), level + 1)

    def result(self) -> Any:
        level = 0
        while level < len(self.levels):
            rest, self.levels[level] = self.levels[level], []
            higher = any(self.levels[level + 1 :])
            if not higher and len(rest) == 1:
                return rest[0]
            if rest:  # a last, short group: folded (or passed up alone), as `_tree` does
                self.push(self.combine(*rest) if len(rest) > 1 else rest[0], level + 1)
            level += 1
        raise ValueError("nothing to fold")


def _run(
    func: Callable[..., _BatchResult],
    batches: list[list[_Source]],
    args: tuple[Any, ...],
    bar: _Bar,
    client: Any | None,
    scheduler: Scheduler,
) -> _BatchResult:
    """Run ``func(batch, *args)`` on every batch with dask and fold the results in a tree."""
    if not batches:
        return _BatchResult(0)
    if scheduler == "sync" or (client is None and len(batches) == 1):  # no worker needed
        # One result for all: the labels are added in file order into one grid, as a serial
        # read adds them (a grid per batch would cost a fresh, page-faulting grid each).
        acc = _BatchResult(0)
        for b in batches:
            func(b, *args, out=acc)
            bar.update(len(b))
        return acc
    if client is not None:
        from distributed import as_completed

        futures = [client.submit(func, b, *args, pure=False) for b in batches]
        top = _tree(list(futures), lambda *fs: client.submit(_fold, *fs, pure=False))
        sizes = {f.key: len(b) for f, b in zip(futures, batches, strict=True)}
        done = as_completed(futures)
        del futures  # partial sums are let go of once folded
        for future in done:
            bar.update(sizes[future.key])
        return top.result()

    import dask
    from dask.callbacks import Callback

    token = uuid.uuid4().hex
    names = [f"sly-batch-{token}-{i}" for i in range(len(batches))]
    # A batch goes in as one opaque value: dask would otherwise walk every dataclass of it
    # (sources, items, the meta's classes) to look for collections, and rebuild them all.
    tasks = [
        dask.delayed(func, pure=False)(
            dask.delayed(b, traverse=False, pure=False), *args, dask_key_name=k
        )
        for b, k in zip(batches, names, strict=True)
    ]
    sizes = {k: len(b) for k, b in zip(names, batches, strict=True)}
    top = _tree(tasks, dask.delayed(_fold, pure=False))

    def posttask(key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        if key in sizes:
            bar.update(sizes[key])

    try:
        with Callback(posttask=posttask):
            (out,) = dask.compute(top, scheduler=scheduler or "threads")
    except BrokenProcessPool:  # a script without `if __name__ == "__main__":` cannot spawn
        warnings.warn(
            "napari-heatmap: dask's process pool could not start (a script run without "
            "`if __name__ == '__main__':`?); reading the annotations in this process",
            SuperviselyWarning,
            stacklevel=2,
        )
        return _run(func, batches, args, _NoBar(), None, "sync")
    return out


class _NoBar:
    def update(self, n: int = 1) -> None:
        return None


def _tqdm(*, total: int, desc: str) -> contextlib.AbstractContextManager[_Bar]:
    try:
        from tqdm import tqdm
    except ImportError:
        return contextlib.nullcontext(_NoBar())
    return tqdm(total=total, desc=desc, unit="file", leave=False)


def _bar(
    progress: Progress | bool | None, total: int, desc: str
) -> contextlib.AbstractContextManager[_Bar]:
    if progress is False or total <= PROGRESS_MIN_FILES:
        return contextlib.nullcontext(_NoBar())
    if progress is None or progress is True:
        return _tqdm(total=total, desc=desc)
    return progress(total=total, desc=desc)


# --------------------------------------------------------------------------- the passes


@dataclass
class _Options:
    scheduler: Scheduler
    batch_size: int | None
    client: Any | None = None

    def __post_init__(self) -> None:
        if self.scheduler not in (None, "threads", "processes", "sync"):
            raise ValueError(
                f"scheduler must be None, 'threads', 'processes' or 'sync', got {self.scheduler!r}"
            )
        if self.batch_size is not None and (
            isinstance(self.batch_size, bool)
            or not isinstance(self.batch_size, int)
            or self.batch_size <= 0
        ):
            raise ValueError(
                f"batch_size must be a positive integer or None, got {self.batch_size!r}"
            )

    def for_files(self, n_files: int) -> _Options:
        """Choose where `n_files` files are read: a distributed client, processes or here."""
        self.client = active_client() if self.scheduler is None else None
        if self.client is None and self.scheduler is None:
            self.scheduler = LOCAL_DEFAULT
        return self


def _raise_named(plan: _Plan) -> None:
    """Raise, as a serial read does, for the first file given by name that cannot be read."""
    for index in sorted(i for i, line in plan.failures.items() if line is None):
        src = plan.sources[index]
        annotation_from_any(src.path)  # raises the file's own error
        raise SuperviselyFormatError("the file could not be read", src.path)  # pragma: no cover


def _check_readable(plan: _Plan) -> None:
    _raise_named(plan)
    if not plan.sources:
        raise ValueError("annotations list should have at least one element")
    if len(plan.failures) == len(plan.sources):
        parts = [f"{f.root}: " + "; ".join(_folder_lines(plan, f, r)) for f, r in plan.folders]
        raise ValueError(
            "annotations: none of the Supervisely annotation files could be read: "
            + " | ".join(parts)
        )


def _folder_lines(plan: _Plan, folder: _Folder, indices: range) -> list[str]:
    report = folder.report
    report.failures = [line for i in indices if (line := plan.failures.get(i)) is not None]
    return report.skipped_lines()


def _warn_after(plan: _Plan) -> None:
    for index in sorted(plan.notes):
        for note in plan.notes[index]:
            warnings.warn(note, SuperviselyWarning, stacklevel=4)
    for folder, indices in plan.folders:
        skipped = _folder_lines(plan, folder, indices)
        if skipped:
            warnings.warn(f"{folder.root}: " + "; ".join(skipped), SuperviselyWarning, stacklevel=4)


def _draw(
    plan: _Plan,
    width: int | None,
    height: int | None,
    object_name: str | None,
    opts: _Options,
    bar: _Bar,
    each: bool = False,
) -> tuple[_BatchResult, tuple[int, int]]:
    """Both passes; returns the folded result over the readable sources and the grid shape."""
    sized: dict[int, tuple[int, int]] = {}
    if width is None or height is None:
        todo = [s for s in plan.sources if s.index not in plan.failures]
        first = _run(
            _read_sizes,
            _batches(todo, opts.batch_size),
            (),
            _NoBar(),  # the bar counts the files drawn: reading sizes is the quick part
            opts.client,
            # JSON only: here, rather than pay a second process pool's start
            "sync" if opts.scheduler == "processes" else opts.scheduler,
        )
        plan.failures.update(first.failures)
        sized = first.sizes
        _check_readable(plan)
        try:
            shape = grid_size([sized[i] for i in sorted(sized)], width=width, height=height)
        except ValueError:  # unless the files that fail later are why: find them first
            todo = [s for s in plan.sources if s.index not in plan.failures]
            batches = _batches(todo, opts.batch_size)
            probe = _run(
                _draw_batch, batches, ((1, 1), object_name), bar, opts.client, opts.scheduler
            )
            plan.failures.update(probe.failures)
            _check_readable(plan)
            sized = {i: v for i, v in sized.items() if i not in plan.failures}
            shape = grid_size([sized[i] for i in sorted(sized)], width=width, height=height)
    else:
        shape = grid_size([(height, width)], width=width, height=height)
    while True:
        todo = [s for s in plan.sources if s.index not in plan.failures]
        batches = _batches(todo, opts.batch_size)
        args = (shape, object_name, each)
        out = _run(_draw_batch, batches, args, bar, opts.client, opts.scheduler)
        bar = _NoBar()  # a second drawing (see the module's docstring) is not counted again
        plan.failures.update(out.failures)
        _check_readable(plan)
        if not sized or out.sizes == sized:
            break
        # Files that failed while drawing, or whose size was not the one guessed from their
        # first bytes, change the mean size: the grid of the files drawn decides.
        sized = out.sizes
        new = grid_size([sized[i] for i in sorted(sized)], width=width, height=height)
        if new == shape:
            break
        shape = new  # draw again, on the grid of the files drawn
    plan.notes = out.notes
    return out, shape


def density_map(
    annotations: Any,
    size: tuple[int, int] | None = None,
    width: int | None = None,
    height: int | None = None,
    object_name: str | None = None,
    *,
    scheduler: Scheduler = None,
    progress: Progress | bool | None = None,
    batch_size: int | None = None,
) -> np.ndarray:
    """Count, per pixel of a common grid, the labels covering it.

    Files are read and drawn in batches, in parallel with dask on an active
    ``dask.distributed`` client (see "Densities over a whole dataset" in the README); the
    result equals a serial run's, whatever the scheduler.

    Parameters
    ----------
    annotations : iterable or single item
        Items accepted by `annotation_from_any` (parsed annotations, JSON dicts, paths to
        annotation files with the meta found by walking up, objects with ``to_json()``) and
        paths of dataset or project folders (or the `SuperviselyLayout` `find_annotations`
        found there), which stand for all their annotation files; one item alone counts as a
        list of one. A file inside a folder that cannot be read is
        skipped with a `SuperviselyWarning` (like the napari reader); a broken file given by
        name raises. Each project's meta is read once.
    size : tuple of int, optional
        ``(height, width)`` of the grid; the same as passing both `height` and `width`.
    width, height : int, optional
        Grid sides, see `grid_size`.
    object_name : str, optional
        Only labels of this class title count.
    scheduler : {None, "threads", "processes", "sync"}
        Where files are read: ``None`` uses the active ``dask.distributed`` client when there
        is one, else this process (measured fastest on two shared cores); the others are
        dask's local schedulers ("sync": this process). A process pool needs scripts to
        guard their code with ``if __name__ == "__main__":``.
    progress : callable, bool or None
        Progress bar factory called as ``progress(total=n_files, desc=text)`` (napari's
        ``progress``, ``tqdm``), used for more than 20 files; ``None``/``True``: tqdm's
        bar (when tqdm is installed); ``False``: none. It counts the files drawn.
    batch_size : int, optional
        Files per dask task (default: 16 batches, of at most 256 files). The batches decide
        the order in which partial sums are added, so for alpha masks a different batch size
        may change the last bit of a float32 sum; the scheduler never does.

    Returns
    -------
    numpy.ndarray
        float32 ``(H, W)`` map: every label adds 1 on the pixels it covers (alpha masks
        alpha / 255), scaled from its image to the grid.

    Raises
    ------
    ValueError
        For no annotations, a folder without annotations, a broken file given by name, no
        readable file in the folders given, no matching label (the message lists the classes
        there are), invalid sizes or an unknown scheduler.
    """
    opts = _Options(scheduler, batch_size)
    _, _, grid = _density(annotations, check_size(size, width, height), object_name, opts, progress)
    return grid


def _density(
    annotations: Any,
    sides: tuple[int | None, int | None],
    object_name: str | None,
    opts: _Options,
    progress: Progress | bool | None,
    each: bool = False,
) -> tuple[_Plan, _BatchResult, np.ndarray]:
    """List, read and draw, then warn and check: what `density_map` and `density_stack` share.

    Returns the plan, the folded result and the density; warnings point at their caller's
    caller. Raises as `density_map` does (no matching label included).
    """
    width, height = sides
    plan = _plan(annotations, "annotations")
    n_files = sum(s.path is not None for s in plan.sources)
    opts.for_files(n_files)
    with _bar(progress, n_files, "Reading Supervisely annotations") as bar:
        out, shape = _draw(plan, width, height, object_name, opts, bar, each)
    _warn_after(plan)
    grid = finish(out.part, shape, len(out.sizes), object_name, stacklevel=5)
    return plan, out, grid


def layouts_density(
    pairs: Sequence[tuple[AnnotationItem, ProjectMeta | None]],
    report: ReadReport,
    *,
    progress: Progress | bool | None = None,
    scheduler: Scheduler = None,
) -> tuple[np.ndarray | None, set[int]]:
    """Draw the density of the files `plan_layouts` listed; report those that cannot be read.

    What the napari reader uses: `density_map` over folders, except that skipped files and
    warnings go to `report` (as with `load_layouts`) and no label at all gives ``None``.

    Parameters
    ----------
    pairs : sequence of (AnnotationItem, ProjectMeta or None)
        The files and their metas, from `plan_layouts` (which read each meta once).
    report : ReadReport
        Receives the files skipped (with reasons) and the warnings, in file order.
    progress, scheduler
        As in `density_map`.

    Returns
    -------
    grid : numpy.ndarray or None
        The density on the mean image size (``None`` without any label or readable file).
    failed : set of int
        Positions in `pairs` of the files that could not be read.
    """
    opts = _Options(scheduler, None).for_files(len(pairs))
    plan = _Plan()
    metas = _Metas()
    for i, (item, meta) in enumerate(pairs):
        if meta is None:
            try:  # as load_annotation: walk up from the file
                meta = metas.for_file(item.ann_path)
            except (OSError, ValueError) as e:
                plan.failures[i] = failure_line(item, e)
        plan.sources.append(_Source(i, item.ann_path, meta, item))
    out: _BatchResult | None = None
    # nothing readable (the reader says so) or no usable grid: no density
    bar = _bar(progress, len(pairs), "Reading Supervisely annotations")
    with bar as counter, contextlib.suppress(ValueError):
        out, shape = _draw(plan, None, None, None, opts, counter)
    report.failures = [line for i in sorted(plan.failures) if (line := plan.failures[i])]
    for index in sorted(plan.notes):
        report.warnings += plan.notes[index]
    failed = set(plan.failures)
    if out is None or out.part.n_matching == 0:
        return None, failed
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SuperviselyWarning)
        grid = finish(out.part, shape, len(out.sizes), None)
    report.warnings += [str(w.message) for w in caught]
    return grid, failed


def density_stack(
    annotations: Any,
    size: tuple[int, int] | None = None,
    width: int | None = None,
    height: int | None = None,
    object_name: str | None = None,
    *,
    scheduler: Scheduler = None,
    progress: Progress | bool | None = None,
    batch_size: int | None = None,
) -> tuple[np.ndarray, list[str]]:
    """Draw every annotation's own density: one slice per annotation, on the common grid.

    Read like `density_map` (in parallel, each meta once, the same skips and warnings); the
    stack is returned whole, so it takes ``N * H * W * 4`` bytes (about twice that while the
    slices are gathered).

    Parameters
    ----------
    annotations, size, width, height, object_name, scheduler, progress, batch_size
        As in `density_map`; the grid is the one `density_map` uses for the same input.

    Returns
    -------
    stack : numpy.ndarray
        float32 ``(N, H, W)``: slice ``i`` is the density of the ``i``-th readable annotation,
        in the order given (a folder's files in its layout's sorted order). Its sum over the
        first axis is `density_map` of the same input.
    names : list of str
        The annotation of each slice: ``"<dataset>/<file>"`` for a file found in a folder,
        the file name for a file given by name, else the annotation's name or
        ``"annotations[i]"``.

    Raises
    ------
    ValueError
        As `density_map`; an annotation without a matching label gives a slice of zeros.
    """
    opts = _Options(scheduler, batch_size)
    sides = check_size(size, width, height)
    plan, out, grid = _density(annotations, sides, object_name, opts, progress, each=True)
    kept = sorted(out.slices)
    stack = np.empty((len(kept), *grid.shape), np.float32)
    for pos, index in enumerate(kept):
        stack[pos] = out.slices.pop(index)
    return stack, [_name(plan.sources[i]) for i in kept]


def _name(src: _Source) -> str:
    if src.item is not None:
        return item_label(src.item)
    if src.path is not None:
        return src.path.name
    if src.value is not None and src.value.name:
        return src.value.name
    return f"annotations[{src.index}]"
