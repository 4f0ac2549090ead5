"""The SDK parity check's own parts, without the SDK: generation, comparison and report.

The real check runs the Supervisely SDK in a venv of its own (``python -m tools.sdk_parity
--sdk-python ...``); here a stand-in "SDK" that draws exactly as ours does must get an ``ok``
verdict everywhere, and one pixel changed in an exact class's map must be called a bug.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from napari_heatmap import supervisely
from tools.sdk_parity import compare as cmp
from tools.sdk_parity import report
from tools.sdk_parity.generate import KINDS, PROBES, ProjectGenerator, write_jobs


def perfect_sdk(job: dict) -> tuple[dict, dict[str, np.ndarray]]:
    """What the SDK side would return for `job` if the SDK drew exactly as ours does."""
    anns = cmp.load_ours(Path(job["meta"]), [Path(a) for a in job["anns"]])
    weighted = set(job["weighted"])
    no_graph = [
        dataclasses.replace(a, labels=[lb for lb in a.labels if lb.class_name not in weighted])
        for a in anns
    ]
    runs, arrays = [], {}
    for case in job["cases"]:
        c = case["name"]
        full = cmp.ours_density(anns, case, None).mask
        for v in ("raw", "unit", "noclip"):
            arrays[f"{c}|{v}|*"] = full
            runs.append({"key": f"{c}|{v}|*", "crash": None, "failures": []})
        if any(a.labels for a in no_graph):
            arrays[f"{c}|nograph|*"] = cmp.ours_density(no_graph, case, None).mask
        for cls in [*job["classes"], "__no_such_class__"]:
            mask = cmp.ours_density(anns, case, cls).mask
            crash = None if mask is not None else "ValueError: No labels found"
            runs.append({"key": f"{c}|unit|{cls}", "crash": crash, "failures": []})
            if mask is not None:
                arrays[f"{c}|unit|{cls}"] = mask
    return {"runs": runs}, arrays


def run(job: dict, sdk: dict, arrays: dict, stats: dict) -> list[cmp.CaseResult]:
    return cmp.run_project(
        job["name"],
        Path(job["meta"]),
        [Path(a) for a in job["anns"]],
        job["cases"],
        sdk,
        arrays,
        set(job["weighted"]),
        stats,
    )


@pytest.fixture(scope="module")
def jobs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("parity")
    rng = np.random.default_rng(3)
    return write_jobs(tmp, 1, rng, 0.25, supervisely)


def test_generated_projects_hold_every_geometry_and_read_without_errors(tmp_path):
    counts: Counter[str] = Counter()
    gen = ProjectGenerator(np.random.default_rng(0), 0.25, counts)
    gen.write(tmp_path / "p")
    layout = supervisely.find_annotations(tmp_path / "p")
    assert layout is not None and layout.items
    meta = supervisely.load_meta(tmp_path / "p" / "meta.json")
    anns = [supervisely.load_annotation(it.ann_path, meta) for it in layout.items]
    assert sum(len(a.labels) for a in anns) > 0
    titles = {c["title"] for c in gen.meta()["classes"]}
    assert titles == {*KINDS, *(f"{k}_x" for k in KINDS)}  # inside and crossing, every kind
    assert {k.split("/")[0].split(":")[0].removesuffix("_x") for k in counts} <= set(KINDS)
    assert [c["name"] for c in gen.cases()] == ["auto", "width", "height", "both"]


def test_jobs_list_the_random_projects_then_the_probes(jobs):
    projects, counts = jobs
    assert [p["name"] for p in projects] == ["p00", *(f"probe{j}" for j in range(len(PROBES)))]
    assert [p.get("probe") for p in projects[1:]] == list(PROBES)
    assert all(Path(a).is_file() for p in projects for a in p["anns"])
    assert sum(counts.values()) > 0


def test_compare_counts_differing_pixels_and_tells_rounding_apart():
    a = np.zeros((4, 5), np.float32)
    b = a.copy()
    assert cmp.compare(a, b).exact
    b[0, 0], b[1, 1] = 1.0, 1e-7
    d = cmp.compare(a, b)
    assert (d.n, d.rounding, d.max_abs) == (1, 1, 1.0) and not d.exact
    assert not cmp.compare(a, np.zeros((5, 4))).shape_ok
    assert not cmp.compare(None, b).shape_ok
    assert cmp.within_91(1, 1000, 1.0) and not cmp.within_91(2, 1000, 1.0)
    assert not cmp.within_91(1, 1000, 2.0)


def test_an_sdk_that_draws_like_ours_gets_ok_everywhere_and_the_report_says_so(jobs, capsys):
    project = jobs[0][0]
    sdk, arrays = perfect_sdk(project)
    stats: dict = {}
    results = run(project, sdk, arrays, stats)
    assert [r.case for r in results] == ["auto", "width", "height", "both"]
    assert all(r.verdict == "ok" and not r.bugs for r in results), [r.bugs for r in results]
    assert all(r.classes_exact == r.classes_total > 0 for r in results)
    report.print_summary(results, stats)
    out = capsys.readouterr().out
    assert "p00" in out and "BUGS" not in out


def test_one_pixel_off_in_a_class_that_never_crosses_the_border_is_a_bug(jobs):
    project = jobs[0][0]
    sdk, arrays = perfect_sdk(project)
    key = next(
        k
        for k in arrays
        if k.startswith("auto|unit|") and not k.endswith(("*", "_x")) and arrays[k].any()
    )
    arrays[key] = arrays[key].copy()
    arrays[key][np.unravel_index(np.argmax(arrays[key]), arrays[key].shape)] += 2
    results = run(project, sdk, arrays, {})
    auto = results[0]
    assert auto.verdict == "BUG"
    assert any(key.split("|")[2] in b for b in auto.bugs)


def test_probe_table_names_each_probe_with_its_verdict(jobs):
    probe = jobs[0][1]
    sdk, arrays = perfect_sdk(probe)
    results = run(probe, sdk, arrays, {})
    text = report.probe_table([(probe["probe"], r, {}) for r in results])
    assert probe["probe"] in text and "ok" in text and "no crash" in text
