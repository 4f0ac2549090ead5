"""Densities over whole datasets: parallel reading equals the serial sum, metas read once.

The reference is `density_serial` over annotations parsed one by one with `load_annotation`
(the serial path that existed before the parallel one); the projects are random, with every
geometry, several datasets and more batches than workers.
"""

import builtins
import json
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

from napari_heatmap.supervisely import (
    ReadReport,
    SuperviselyWarning,
    density_map,
    density_serial,
    density_stack,
    find_annotations,
    load_annotation,
    load_layouts,
    load_meta,
)
from tools.sdk_parity.generate import KINDS, write_random_project

#: Geometries that add whole numbers (alpha masks add alpha / 255; "any" may hold one).
WHOLE = tuple(k for k in KINDS if k not in ("alpha_mask", "any"))


def serial(root, **kwargs):
    """The density of every file of `root`, parsed and drawn one after the other."""
    layout = find_annotations(root)
    meta = load_meta(layout.meta_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SuperviselyWarning)
        anns = [load_annotation(item.ann_path, meta) for item in layout.items]
        return density_serial(anns, **kwargs), anns


@pytest.fixture(scope="module")
def whole_project(tmp_path_factory):
    root = tmp_path_factory.mktemp("par") / "whole"
    write_random_project(root, 30, np.random.default_rng(1), kinds=WHOLE)
    return root


@pytest.fixture(scope="module")
def alpha_project(tmp_path_factory):
    root = tmp_path_factory.mktemp("par") / "alpha"
    write_random_project(root, 24, np.random.default_rng(2), kinds=("alpha_mask", "rectangle"))
    return root


def quiet_density(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SuperviselyWarning)
        return density_map(*args, **kwargs)


@pytest.mark.parametrize("scheduler", ["threads", "sync"])
def test_parallel_density_of_whole_number_labels_equals_the_serial_sum_bit_for_bit(
    whole_project, scheduler
):
    expected, anns = serial(whole_project)
    assert len({a.img_size for a in anns}) > 1  # the grid is a mean of several sizes
    got = quiet_density(whole_project, scheduler=scheduler, batch_size=4, progress=False)
    assert got.dtype == np.float32 and got.shape == expected.shape
    assert expected.max() > 1  # overlaps are counted
    assert np.array_equal(got, expected)


def test_parallel_density_equals_serial_with_a_grid_and_a_class_asked_for(whole_project):
    expected, _ = serial(whole_project, width=97, height=61, object_name="polygon")
    got = quiet_density(
        whole_project, size=(61, 97), object_name="polygon", batch_size=3, progress=False
    )
    assert np.array_equal(got, expected)


def test_process_pool_gives_the_same_array(whole_project):
    expected, _ = serial(whole_project)
    got = quiet_density(whole_project, scheduler="processes", batch_size=8, progress=False)
    assert np.array_equal(got, expected)


def test_alpha_masks_agree_within_float32_rounding_and_in_process_equal_serial(alpha_project):
    expected, _ = serial(alpha_project)
    assert not np.array_equal(expected, np.round(expected))  # fractional weights present
    # in this process the labels are added in file order into one grid: the serial sum
    here = quiet_density(alpha_project, scheduler="sync", batch_size=5, progress=False)
    assert np.array_equal(here, expected)
    # dask's workers add partial sums in a fixed tree: within float32 rounding, and the
    # same array on every run
    runs = [
        quiet_density(alpha_project, scheduler="threads", batch_size=5, progress=False)
        for _ in range(2)
    ]
    np.testing.assert_allclose(runs[0], expected, rtol=1e-6, atol=1e-5)
    assert np.array_equal(runs[0], runs[1])


def test_a_list_of_files_reads_the_meta_once(whole_project, monkeypatch):
    files = sorted(whole_project.glob("*/ann/*.json"))
    meta_opened = []

    def spy(real_open):
        def opened(file, *args, **kwargs):
            if Path(str(file)).name == "meta.json":
                meta_opened.append(file)
            return real_open(file, *args, **kwargs)

        return opened

    monkeypatch.setattr(builtins, "open", spy(builtins.open))
    monkeypatch.setattr(os, "open", spy(os.open))  # read_json opens with os.open
    quiet_density([str(p) for p in files], batch_size=4, progress=False)
    # found once (its first bytes tell a meta) and loaded once, for 30 files
    assert len(meta_opened) <= 2, meta_opened
    meta_opened.clear()
    quiet_density(whole_project, batch_size=4, progress=False)
    assert len(meta_opened) == 1


def test_skipped_files_are_reported_as_the_serial_reader_reports_them(tmp_path):
    root = tmp_path / "p"
    write_random_project(root, 14, np.random.default_rng(3), kinds=WHOLE, n_datasets=1)
    files = sorted((root / "ds0" / "ann").glob("*.json"))
    files[2].write_text('{"size": {"height": 10')  # not JSON
    files[9].write_text(json.dumps({"size": {"height": 5, "width": 5}, "objects": [7]}))
    files[12].write_text(json.dumps({"objects": []}))  # no size
    report = ReadReport()
    kept = load_layouts([find_annotations(root)], report)
    expected = f"{root}: " + "; ".join(report.skipped_lines())
    with pytest.warns(SuperviselyWarning) as seen:
        got = density_map(root, batch_size=2, progress=False)
    skipped = [str(w.message) for w in seen if "skipped" in str(w.message)]
    assert skipped == [expected]
    assert "skipped 3 of 14" in expected and "object 0" in expected
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SuperviselyWarning)
        assert np.array_equal(got, density_serial([a for _, a in kept]))


def test_progress_counts_every_file_once(whole_project):
    bars = []

    class Bar:
        def __init__(self, total, desc):
            self.total, self.desc, self.done, self.closed = total, desc, 0, False
            bars.append(self)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.closed = True

        def update(self, n=1):
            self.done += n

    quiet_density(whole_project, progress=Bar, batch_size=4, scheduler="threads")
    assert len(bars) == 1
    assert bars[0].total == bars[0].done == 30 and bars[0].closed


def test_napari_progress_shows_for_set_heatmap_from_annotations(
    viewer, whole_project, progress_bars
):
    from napari_heatmap import Heatmap

    made = progress_bars
    hm = Heatmap(viewer=viewer)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SuperviselyWarning)
        hm.set_heatmap_from_annotations(whole_project)
    assert len(made) == 1 and made[0].total == 30 and made[0].n == 30
    assert np.array_equal(hm.heatmap_mask, serial(whole_project)[0])


def test_an_active_distributed_client_does_the_work(whole_project, monkeypatch):
    distributed = pytest.importorskip("distributed")
    with distributed.Client(
        processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None
    ) as client:
        submitted = []
        real_submit = client.submit

        def counting(func, *args, **kwargs):
            submitted.append(getattr(func, "__name__", func))
            return real_submit(func, *args, **kwargs)

        monkeypatch.setattr(client, "submit", counting)
        got = quiet_density(whole_project, batch_size=4, progress=False)
        stack, names = density_stack(whole_project, batch_size=4, progress=False)
    assert submitted.count("_draw_batch") >= 2 * 8  # 30 files in batches of 4, twice
    assert np.array_equal(got, serial(whole_project)[0])
    assert np.array_equal(stack.sum(axis=0), got) and len(names) == 30


def test_density_stack_gives_each_annotation_its_own_slice_in_file_order(whole_project):
    expected, anns = serial(whole_project)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SuperviselyWarning)
        stack, names = density_stack(whole_project, batch_size=4, progress=False)
        layout = find_annotations(whole_project)
        assert names == [f"{it.dataset}/{it.ann_path.name}" for it in layout.items]
        assert stack.shape == (30, *expected.shape) and stack.dtype == np.float32
        for k in (0, 7, 29):
            own = density_serial([anns[k]], height=expected.shape[0], width=expected.shape[1])
            assert np.array_equal(stack[k], own) if anns[k].labels else not stack[k].any()
    assert np.array_equal(stack.sum(axis=0), expected)


def test_bad_scheduler_and_batch_size_are_refused_by_name(whole_project):
    with pytest.raises(ValueError, match="scheduler"):
        density_map(whole_project, scheduler="gpu")
    with pytest.raises(ValueError, match="batch_size"):
        density_map(whole_project, batch_size=0)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 15, 16, 17, 21, 64, 79])
def test_the_streaming_fold_groups_parts_exactly_like_the_tree(n):
    from napari_heatmap.supervisely._dataset import _StreamingTree, _tree

    def nest(*parts):  # not associative: any other grouping gives another nesting
        return tuple(parts)

    stream = _StreamingTree(nest)
    for i in range(n):
        stream.push(i)
        assert sum(len(level) for level in stream.levels) < 4 * 3  # a few parts held
    assert stream.result() == _tree(list(range(n)), nest)


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
def test_a_size_guessed_wrong_from_a_files_first_bytes_is_corrected(tmp_path, scheduler):
    root = tmp_path / "p"
    write_random_project(root, 12, np.random.default_rng(5), kinds=WHOLE, n_datasets=1)
    files = sorted((root / "ds0" / "ann").glob("*.json"))
    # a "size" nested in a tag before the top-level one: the first bytes say 10x10
    data = json.loads(files[3].read_text())
    decoy = {"name": "shot", "value": {"size": {"height": 10, "width": 10}}}
    tagged = {"tags": [decoy], "size": data["size"], "objects": data["objects"]}
    files[3].write_text(json.dumps(tagged))
    # the size after 100 kB of objects: not in the first bytes, the file is read whole
    data = json.loads(files[7].read_text())
    filler = [
        {"classTitle": "point", "description": "x" * 1000, "tags": [], **p}
        for p in [{"points": {"exterior": [[1, 1]], "interior": []}}] * 100
    ]
    files[7].write_text(json.dumps({"objects": data["objects"] + filler, "size": data["size"]}))
    want, anns = serial(root)
    got = quiet_density(root, scheduler=scheduler, progress=False)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    assert anns[3].img_size != (10, 10)  # the guess was wrong indeed
