"""The benchmark script runs end to end at tiny sizes, so it cannot rot.

Timings on shared machines are noise: these tests check that every row is there and that
its numbers are sane, never how fast anything is.
"""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest

RUN_PY = Path(__file__).resolve().parents[1] / "benchmarks" / "run.py"

# The one row that may be skipped: the Supervisely SDK is not installed with the tests.
OPTIONAL = ("Supervisely SDK",)


def load_run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("napari_heatmap_benchmarks", RUN_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run() -> ModuleType:
    return load_run()


@pytest.fixture(scope="module")
def rows(run: ModuleType) -> list:
    return run.run_all(run.Config.quick())


def expected_names(run: ModuleType) -> list[str]:
    cfg = run.Config.quick()
    setters = [name for name, _ in (*run.COLOUR_SETTERS, run.BLUR_SETTER)]
    return [
        "set_heatmap (ViewerModel)",
        "web baseline (uint8, blur, colormap, PNG, base64)",
        "cv2.GaussianBlur alone (float32, 5x5)",
        "set_heatmap with NaN (ViewerModel)",
        "cv2.GaussianBlur of the NaN mask (float32, 5x5)",
        "target: set_heatmap NaN mask / GaussianBlur",
        "Supervisely SDK Heatmap.set_heatmap",
        *(f"setter {name}" for name in setters),
        "click_at → callback",
        "mouse press/release → callback",
        "density_map",
        "naive density",
        "reader (project folder)",
        "set_heatmap peak extra memory",
        "set_heatmap peak extra memory, NaN mask",
        f"memory growth over {cfg.leak_calls} set_heatmap",
        "target: web baseline / set_heatmap",
        "target: set_heatmap / GaussianBlur",
        "target: naive density / density_map",
        "target: set_heatmap peak extra memory",
        f"target: growth over {cfg.leak_calls} calls",
    ]


def test_every_row_is_in_the_table(run: ModuleType, rows: list) -> None:
    names = [row.name for row in rows]
    for name in expected_names(run):
        assert name in names, f"missing row {name!r}"
    assert any(n.startswith("target: set_heatmap / slowest setter") for n in names)


def test_measured_rows_have_finite_positive_numbers(rows: list) -> None:
    for row in rows:
        if row.status == "SKIP":
            assert row.name.startswith(OPTIONAL), row
            assert row.note, f"skipped row {row.name!r} gives no reason"
            continue
        assert row.median is not None, row
        values = [row.median] + ([] if row.min is None else [row.min])
        assert all(math.isfinite(v) for v in values), row
        if row.unit == "KiB":  # memory growth: may be zero or slightly negative
            continue
        assert all(v > 0 for v in values), row
        if row.min is not None and row.unit == "s":
            assert row.min <= row.median, row


def test_the_core_rows_are_measured_not_skipped(rows: list) -> None:
    by_name = {row.name: row for row in rows}
    for name in ("set_heatmap (ViewerModel)", "setter vmin", "click_at → callback"):
        assert by_name[name].status == "", by_name[name]


def test_every_target_says_pass_or_miss(rows: list) -> None:
    targets = [row for row in rows if row.name.startswith("target:")]
    assert len(targets) >= 6
    for row in targets:
        assert row.status.strip("()") in {"PASS", "MISS"}, row  # every target is measured
        assert row.target, row


def test_plain_and_markdown_tables_hold_every_row(run: ModuleType, rows: list) -> None:
    plain = run.format_table(rows).splitlines()
    markdown = run.format_table(rows, markdown=True).splitlines()
    assert len(plain) == len(markdown) == len(rows) + 2  # header + rule
    assert markdown[1].startswith("|---|")
    assert all(line.startswith("| ") and line.endswith(" |") for line in markdown[2:])
    for row, line in zip(rows, plain[2:], strict=True):
        assert line.startswith(row.name)


def test_command_line_options_reach_the_config(run: ModuleType) -> None:
    cfg = run.config_from(run.parse_args(["--quick", "--sizes", "32", "48"]))
    assert cfg.sizes == (32, 48)
    assert cfg.ref_size == 48  # the largest size when 4096 is not among them
    assert cfg.leak_side == run.Config.quick().leak_side
    full = run.config_from(run.parse_args([]))
    assert full.sizes == run.FULL_SIZES and full.ref_size == 4096


def test_the_nan_figure_is_measured_once_and_is_the_ratio_of_its_rows(rows: list) -> None:
    by_name = {row.name: row for row in rows}
    nan = by_name["set_heatmap with NaN (ViewerModel)"]
    blur = by_name["cv2.GaussianBlur of the NaN mask (float32, 5x5)"]
    ratio = by_name["target: set_heatmap NaN mask / GaussianBlur"]
    assert ratio.median == pytest.approx(nan.median / blur.median)
    assert ratio.min == pytest.approx(nan.min / blur.min)
    assert "load average" in ratio.note  # the ratio moves with the machine's load
    names = [row.name for row in rows]
    assert names.count("set_heatmap with NaN (ViewerModel)") == 1
    assert not any("GaussianBlur, NaN mask" in name for name in names)  # no second figure
