"""Timings of the SDK's density and render next to ours, on benchmarks/run.py's synthetic set."""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from tools.sdk_parity._timed import timed
from tools.sdk_parity.compare import import_ours

#: The benchmarks, whose synthetic annotations and mask the timings share.
RUN_PY = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


def load_run_module() -> Any:
    spec = importlib.util.spec_from_file_location("_bench_run", RUN_PY)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["_bench_run"] = mod
    spec.loader.exec_module(mod)
    return mod


def timing_job(tmp: Path, side: int, repeats: int) -> tuple[dict[str, Any], Any]:
    run = load_run_module()
    mask_path = tmp / "mask.npy"
    np.save(mask_path, run.make_mask(side, 0))
    anns = run.synthetic_annotations(run.Config())
    proj = tmp / "timing_project"
    (proj / "ds" / "ann").mkdir(parents=True)
    meta = {
        "classes": [
            {"title": "box", "shape": "rectangle", "color": "#FF0000", "geometry_config": {}},
            {"title": "blob", "shape": "polygon", "color": "#00FF00", "geometry_config": {}},
        ],
        "tags": [],
    }
    (proj / "meta.json").write_text(json.dumps(meta))
    paths = []
    for i, a in enumerate(anns):
        p = proj / "ds" / "ann" / f"i{i:04d}.png.json"
        p.write_text(json.dumps(a))
        paths.append(str(p))
    job = {
        "mask": str(mask_path),
        "repeats": repeats,
        "density_meta": str(proj / "meta.json"),
        "density_anns": paths,
        "density_sides": [1024, side],
        "density_repeats": [3, 1],
        "density_out": str(tmp / "sdk_density_{side}.npy"),
    }
    return job, (run, proj, paths)


def ours_timings(ctx: Any, side: int, repeats: int) -> dict[str, Any]:
    run, proj, paths = ctx
    ours = import_ours()
    res: dict[str, Any] = {}
    t0 = time.perf_counter()
    meta = ours.load_meta(proj / "meta.json")
    parsed = [ours.load_annotation(p, meta) for p in paths]
    res["load annotations"] = {"median": time.perf_counter() - t0, "min": time.perf_counter() - t0}
    for s in (1024, side):
        res[f"density {s}"] = timed(lambda s=s: ours.density_map(parsed, width=s, height=s), 3)
    try:
        from napari_heatmap import mask_to_rgba

        mask = run.make_mask(side, 0)
        res["mask_to_rgba"] = timed(lambda: mask_to_rgba(mask), repeats)
    except Exception as e:
        res["mask_to_rgba"] = {"error": repr(e)}
    res["_maps"] = {s: ours.density_map(parsed, width=s, height=s) for s in (1024, side)}
    return res
