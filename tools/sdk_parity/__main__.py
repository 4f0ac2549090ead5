"""Command line: ``python -m tools.sdk_parity --sdk-python /path/to/sdk-venv/bin/python``."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tools.sdk_parity import __doc__ as DOC
from tools.sdk_parity.compare import (
    CaseResult,
    import_ours,
    run_project,
    run_sdk,
)
from tools.sdk_parity.generate import write_jobs
from tools.sdk_parity.report import print_summary, probe_table, timing_table
from tools.sdk_parity.timing import ours_timings, timing_job


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(DOC or "").split("\n\n")[0])
    p.add_argument("--sdk-python", required=True, help="python with the supervisely SDK")
    p.add_argument("--projects", type=int, default=12)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--crossing", type=float, default=0.25, help="share of objects crossing the border"
    )
    p.add_argument("--timing-side", type=int, default=4096, help="0 skips the timings")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--keep", action="store_true", help="keep the temporary projects")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    ours = import_ours()
    rng = np.random.default_rng(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="sdk_parity_"))
    try:
        projects, counts = write_jobs(tmp, args.projects, rng, args.crossing, ours)
        job: dict[str, Any] = {"projects": projects, "result": str(tmp / "sdk_result.json")}
        ctx = None
        if args.timing_side:
            job["timing"], ctx = timing_job(tmp, args.timing_side, args.repeats)
        t0 = time.perf_counter()
        sdk = run_sdk(args.sdk_python, job, tmp)
        if not sdk.get("skimage"):
            print(
                "WARNING: scikit-image is missing in the SDK's environment; the SDK needs it to "
                "resize bitmaps (imaging/image.py resize_inter_nearest), so every bitmap label "
                "will fail there."
            )
        print(
            f"Supervisely SDK {sdk['version']} (scikit-image {sdk.get('skimage')}, "
            f"{args.sdk_python}), "
            f"{time.perf_counter() - t0:.1f} s; "
            f"{args.projects} random projects, seed {args.seed}; temp dir {tmp}\n"
        )

        results: list[CaseResult] = []
        probe_results: list[tuple[str, CaseResult, dict[str, Any]]] = []
        class_stats: dict[str, dict[str, Any]] = {}
        for p in projects:
            out = sdk["projects"][p["name"]]
            if out["load_error"]:
                print(f"{p['name']}: SDK failed to load: {out['load_error']}")
                continue
            with np.load(p["out"]) as z:
                arrays = {k: z[k] for k in z.files}
            stats = class_stats if "probe" not in p else {}
            res = run_project(
                p["name"],
                Path(p["meta"]),
                [Path(a) for a in p["anns"]],
                p["cases"],
                out,
                arrays,
                set(p["weighted"]),
                stats,
            )
            if "probe" in p:
                probe_results += [(p["probe"], r, out) for r in res]
            else:
                results += res
        n_labels = sum(
            sum(sdk["projects"][p["name"]]["labels"].values()) for p in projects if "probe" not in p
        )
        n_anns = sum(len(p["anns"]) for p in projects if "probe" not in p)
        n_objects = sum(v for k, v in counts.items() if not k.startswith("bitmap:"))
        print(
            f"{n_anns} annotations, {n_objects} "
            f"objects written ({args.crossing:.0%} crossing the border), {n_labels} labels "
            "after the "
            "SDK's load-time cropping.  Objects written: "
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
            + "\n"
        )
        print_summary(results, class_stats)

        print("\nProbes of the SDK's known crashes (decision 3):")
        print(probe_table(probe_results))

        if ctx is not None:
            t_ours = ours_timings(ctx, args.timing_side, args.repeats)
            print(
                timing_table(sdk["timing"], t_ours, job["timing"], args.timing_side, args.repeats)
            )
        bad = any(r.verdict == "BUG" for r in results)
        return 1 if bad else 0
    finally:
        if args.keep:
            print(f"\nkept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
