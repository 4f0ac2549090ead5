"""Densities over whole datasets: 20,000 annotation files, the schedulers, the Supervisely SDK.

Run ``python benchmarks/datasets.py`` (a few minutes: it writes 20,000 random annotation files
first), ``--quick`` (200 files, seconds) or ``--markdown``; ``benchmarks/run.py`` includes these
rows. The Supervisely SDK is timed in its own interpreter (``--sdk-python`` or the
``SLY_SDK_PYTHON`` environment variable: a venv with ``supervisely==6.74.51`` and scikit-image,
see ``tools/sdk_parity``); without it that row is skipped.

Every figure comes from files on disk written by ``tools/sdk_parity/generate.py``
(``write_random_project``: the parity check's random projects, every geometry, a quarter of the
objects crossing the border, varied image sizes), so parsing is always included:

* ``density_map`` of a 20,000-file project in a fresh interpreter, with the default scheduler;
  its wall time and peak extra resident memory (the interpreter's peak RSS, ``VmHWM``, over its
  RSS before the call, plus, if a process pool ran, the largest worker's peak RSS times the
  number of workers);
* one 2,000-file project read with each local scheduler (the measurement behind the default:
  see ``LOCAL_DEFAULT`` in ``supervisely/_dataset.py``);
* a 120-image project: ``density_map`` of the folder against the SDK's own way (``ProjectMeta``,
  ``Annotation.load_json_file`` of every file, ``Heatmap.set_heatmap_from_annotations``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # tools/ (the project generator, the SDK side)
    sys.path.insert(0, str(ROOT))

N_BIG, N_SCHED, N_SDK = 20_000, 2_000, 120
QUICK = (200, 60, 12)
BIG_SECONDS = 120.0  # the targets
BIG_BYTES = 1 << 30
SDK_SPEEDUP = 10.0
MiB = 1 << 20

# Runs in a fresh interpreter: RSS before, one density_map, peak RSS of it and its workers.
_MEASURE = """
import json, resource, sys, time, warnings
from pathlib import Path
from napari_heatmap.supervisely import density_map
def rss():
    return int(Path("/proc/self/statm").read_text().split()[1]) * {page}
def peak():  # VmHWM: this process's peak RSS (ru_maxrss would carry the parent's over exec)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0
if __name__ == "__main__":
    warnings.simplefilter("ignore")
    before = rss()
    t0 = time.perf_counter()
    grid = density_map(sys.argv[1], progress=False)
    seconds = time.perf_counter() - t0
    print(json.dumps({{
        "seconds": seconds,
        "before": before,
        "peak_self": peak(),
        "peak_child": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
        "shape": list(grid.shape),
        "total": float(grid.sum(dtype="float64")),
    }}))
"""


def write_project(root: Path, n: int, seed: int) -> Path:
    from tools.sdk_parity.generate import write_random_project

    write_random_project(root, n, np.random.default_rng(seed))
    return root


def measure_big(root: Path) -> dict[str, Any]:
    """Time `density_map(root)` in a fresh interpreter and read its peak memory."""
    script = _MEASURE.format(page=os.sysconf("SC_PAGE_SIZE"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(script)
    try:
        proc = subprocess.run(
            [sys.executable, f.name, str(root)],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
    finally:
        os.unlink(f.name)
    out: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    workers = (os.cpu_count() or 1) if out["peak_child"] > 0 else 0  # a process pool ran
    out["workers"] = workers
    out["extra"] = out["peak_self"] - out["before"] + workers * out["peak_child"]
    return out


def time_schedulers(root: Path, repeats: int) -> dict[str, list[float]]:
    """Wall time of `density_map(root)` with each local scheduler, round-robin."""
    import warnings

    from napari_heatmap.supervisely import density_map

    runs: dict[str, list[float]] = {"sync": [], "threads": [], "processes": []}
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(repeats):
            for name in runs:
                t0 = time.perf_counter()
                results[name] = density_map(root, scheduler=name, progress=False)
                runs[name].append(time.perf_counter() - t0)
    first = results["sync"]  # the serial sum; workers add partial sums in a fixed tree
    for r in results.values():  # equal, or within float32 rounding where alpha masks add up
        np.testing.assert_allclose(r, first, rtol=1e-6, atol=1e-5, err_msg="schedulers disagree")
    return runs


def sdk_python(explicit: str | None) -> str | None:
    path = explicit or os.environ.get("SLY_SDK_PYTHON")
    return path if path and Path(path).is_file() else None


def time_sdk(python: str, root: Path, tmp: Path, repeats: int) -> dict[str, Any]:
    from napari_heatmap.supervisely import find_annotations
    from tools.sdk_parity.compare import run_sdk

    anns = [str(item.ann_path) for item in find_annotations(root).items]
    job = {
        "result": str(tmp / "sdk_result.json"),
        "dataset_timing": {
            "meta": str(root / "meta.json"),
            "anns": anns,
            "repeats": repeats,
            "out": str(tmp / "sdk_density.npy"),
        },
    }
    out: dict[str, Any] = run_sdk(python, job, tmp)["dataset_timing"]
    out["mask"] = np.load(tmp / "sdk_density.npy")
    return out


def time_ours(root: Path, repeats: int) -> list[float]:
    import warnings

    from napari_heatmap.supervisely import density_map

    runs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        density_map(root, progress=False)  # warm-up
        for _ in range(repeats):
            t0 = time.perf_counter()
            density_map(root, progress=False)
            runs.append(time.perf_counter() - t0)
    return runs


def rows(cfg: Any, run: ModuleType, sdk: str | None = None) -> list[Any]:
    """The rows of the table (``run`` is benchmarks/run.py, for its ``Row`` and helpers)."""
    quick = cfg.n_annotations < 100  # run.Config.quick()
    n_big, n_sched, n_sdk = QUICK if quick else (N_BIG, N_SCHED, N_SDK)
    repeats = 2 if quick else 5
    Row, status = run.Row, run.status
    out: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="napari_heatmap_datasets_") as tmp_dir:
        tmp = Path(tmp_dir)
        t0 = time.perf_counter()
        big = write_project(tmp / "big", n_big, seed=20)
        written = time.perf_counter() - t0
        res = measure_big(big)
        size = f"{n_big} files, grid {res['shape'][0]}x{res['shape'][1]}"
        note = f"fresh interpreter; files written in {written:.0f} s"
        out.append(Row("density_map of a project", size, res["seconds"], None, "s", note=note))
        extra_mib = res["extra"] / MiB
        out.append(
            Row(
                "density_map peak extra memory",
                size,
                extra_mib,
                None,
                "MiB",
                note=(
                    f"RSS: main +{(res['peak_self'] - res['before']) / MiB:.0f} MiB, "
                    f"{res['workers']} worker(s) × {res['peak_child'] / MiB:.0f} MiB peak"
                ),
            )
        )
        sched_root = write_project(tmp / "sched", n_sched, seed=21)
        sched = time_schedulers(sched_root, 1)  # once each: seconds per run already
        for name, times in sched.items():
            out.append(
                Row(
                    f"density_map, scheduler={name!r}",
                    f"{n_sched} files",
                    statistics.median(times),
                    min(times),
                    "s",
                    note="as 'sync' (float32 rounding for alpha masks)",
                )
            )
        sdk_root = write_project(tmp / "sdk", n_sdk, seed=22)
        ours = time_ours(sdk_root, repeats)
        out.append(
            Row(
                "density_map of a random project",
                f"{n_sdk} files",
                statistics.median(ours),
                min(ours),
                "s",
                note="files → density, default scheduler",
            )
        )
        python = sdk_python(sdk)
        sdk_row = "Supervisely SDK: meta, load_json_file, set_heatmap_from_annotations"
        if python is None:
            out.append(run.skip_row(sdk_row, "no SDK interpreter (--sdk-python / SLY_SDK_PYTHON)"))
        else:
            t = time_sdk(python, sdk_root, tmp, repeats)
            out.append(Row(sdk_row, f"{n_sdk} files", t["median"], t["min"], "s", note=python))
    out.append(
        Row(
            "target: density of 20,000 files",
            f"{n_big} files",
            res["seconds"],
            None,
            "s",
            f"≤ {BIG_SECONDS:.0f} s",
            status(res["seconds"] <= BIG_SECONDS),
        )
    )
    out.append(
        Row(
            "target: density of 20,000 files, peak extra memory",
            f"{n_big} files",
            extra_mib,
            None,
            "MiB",
            "≤ 1024 MiB",
            status(res["extra"] <= BIG_BYTES),
        )
    )
    if python is not None:
        ratio = t["median"] / statistics.median(ours)
        out.append(
            Row(
                "target: SDK / density_map, random project",
                f"{n_sdk} files",
                ratio,
                t["min"] / min(ours),
                "x",
                f"≥ {SDK_SPEEDUP:g}x",
                status(ratio >= SDK_SPEEDUP),
            )
        )
    return out


def main(argv: Sequence[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 files (seconds)")
    parser.add_argument("--sdk-python", help="python with the supervisely SDK")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args(argv)
    import run  # benchmarks/run.py: this folder is sys.path[0] when run as a script

    cfg = run.Config.quick() if args.quick else run.Config()
    table = run.format_table(rows(cfg, run, args.sdk_python), markdown=args.markdown)
    text = f"{run.machine()}\n\n{table}"
    print(text)
    return text


if __name__ == "__main__":
    main(sys.argv[1:])
