"""Ours against the SDK: run both, compare the maps, sort differing pixels, give a verdict."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

#: The SDK side, run by path in the SDK's interpreter.
SDK_SIDE = Path(__file__).with_name("sdk_side.py")
#: Crossing classes the SDK crops with shapely and we with our own clipper: their maps may
#: differ from the SDK's within the 9.1 tolerance; every other class must be exact.
BORDER_CLASSES = ("polygon_x", "line_x", "multipolygon_x", "any_x")

TIE = 1e-5  # |difference| below this counts as float rounding, not as a differing pixel
TOL_SHARE, TOL_ABS = 0.001, 1 + TIE  # decision 1: at most 0.1 % of the pixels, by at most 1


def within_91(n: int, size: int, max_abs: float) -> bool:
    """Decision 9.1's tolerance; |diff| 1 + float32 rounding of alpha sums still counts as 1."""
    return n <= TOL_SHARE * size and max_abs <= TOL_ABS


def run_sdk(sdk_python: str, job: dict[str, Any], tmp: Path) -> dict[str, Any]:
    job_path = tmp / "job.json"
    job_path.write_text(json.dumps(job))
    proc = subprocess.run(
        [sdk_python, str(SDK_SIDE), str(job_path)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-8000:])
        raise SystemExit(f"SDK helper failed with exit code {proc.returncode}")
    return json.loads(Path(job["result"]).read_text())


def import_ours() -> Any:
    from napari_heatmap import supervisely as ours

    return ours


@dataclass
class OursRun:
    mask: np.ndarray | None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


def ours_density(anns: list[Any], case: dict[str, Any], object_name: str | None) -> OursRun:
    ours = import_ours()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            mask = ours.density_map(
                anns, width=case["width"], height=case["height"], object_name=object_name
            )
        except Exception as e:
            return OursRun(None, f"{type(e).__name__}: {e}", [str(w.message) for w in caught])
    return OursRun(mask, None, [str(w.message) for w in caught])


def load_ours(meta: Path, paths: Sequence[Path]) -> list[Any]:
    ours = import_ours()
    m = ours.load_meta(meta)
    return [ours.load_annotation(p, m) for p in paths]


@dataclass
class Diff:
    """Ours against one SDK map."""

    shape_ok: bool
    n: int = 0
    frac: float = 0.0
    max_abs: float = 0.0
    rounding: int = 0  # pixels differing by less than TIE
    mask: np.ndarray | None = None

    @property
    def exact(self) -> bool:
        return self.shape_ok and self.n == 0 and self.rounding == 0


def compare(ours: np.ndarray | None, sdk: np.ndarray | None) -> Diff:
    if ours is None or sdk is None or ours.shape != sdk.shape:
        return Diff(False)
    d = np.abs(ours.astype(np.float64) - sdk.astype(np.float64))
    big = d >= TIE
    rounding = int(np.count_nonzero((d > 0) & ~big))
    n = int(np.count_nonzero(big))
    return Diff(True, n, n / d.size, float(d.max()) if d.size else 0.0, rounding, big)


@dataclass
class CaseResult:
    """One project at one grid request."""

    project: str
    case: str
    grid: str
    maps: dict[str, Diff]  # raw / unit / noclip / nograph, object_name=None
    cats: dict[str, int]  # (i) .. (iv) pixel counts of the full map, iii_cls: class maps
    ii_max: float
    ii_band: int  # (ii) pixels within ceil(scale)+1 px of the grid edge
    classes_total: int = 0
    classes_exact: int = 0  # per-class maps identical to the SDK's unit map
    border_px: int = 0  # differing pixels in the crossing classes' maps, crash pixels aside
    border_detail: dict[str, tuple[int, float]] = field(default_factory=dict)  # class: (n, max)
    bugs: list[str] = field(default_factory=list)
    sdk_crashes: list[str] = field(default_factory=list)
    ours_warnings: int = 0

    @property
    def size(self) -> int:
        m = self.maps["raw"].mask
        return 1 if m is None else m.size

    @property
    def ii_ok(self) -> bool:
        return within_91(self.cats["ii"], self.size, self.ii_max)

    @property
    def verdict(self) -> str:
        if self.bugs or self.cats["iii"] or self.cats["iii_cls"]:
            return "BUG"
        return "ok" if self.ii_ok else "OVER 9.1"


def _blank_stat() -> dict[str, Any]:
    return {
        "maps": 0,
        "exact": 0,
        "noclip_exact": 0,
        "n": 0,
        "max_frac": 0.0,
        "max_abs": 0.0,
        "over": 0,
        "crash": 0,
    }


def _class_map(
    run: dict[str, Any], arrays: dict[str, np.ndarray], key: str, like: np.ndarray | None
) -> np.ndarray | None:
    """The SDK's map for `key`; zeros where the SDK found no label of the class but ours did."""
    if key in arrays:
        return arrays[key]
    if like is not None and "No labels found" in (run.get("crash") or ""):
        return np.zeros_like(like)
    return None


def run_project(
    name: str,
    meta: Path,
    paths: list[Path],
    cases: list[dict[str, Any]],
    sdk: dict[str, Any],
    arrays: dict[str, np.ndarray],
    weighted: set[str],
    class_stats: dict[str, dict[str, Any]],
) -> list[CaseResult]:
    """Compare ours with every SDK map of one project; see the module docstring."""
    anns = load_ours(meta, paths)
    runs = {r["key"]: r for r in sdk["runs"]}
    no_graph = [
        dataclasses.replace(a, labels=[lb for lb in a.labels if lb.class_name not in weighted])
        for a in anns
    ]
    results = []
    for case in cases:
        cname = case["name"]
        crashes, boxes = [], []
        for key, r in runs.items():
            if key.startswith(cname + "|") and r["crash"] and "No labels found" not in r["crash"]:
                crashes.append(f"{key}: {r['crash']}")
                boxes += [f["bbox"] for f in r["failures"] if f["bbox"]]
        bugs: list[str] = []
        full = ours_density(anns, case, None)
        # (iv) may only lie where a label the SDK failed to draw would have drawn
        crash_px = np.zeros(full.mask.shape if full.mask is not None else (0, 0), bool)
        for top, left, bottom, right in boxes:
            crash_px[max(top, 0) : max(bottom + 1, 0), max(left, 0) : max(right + 1, 0)] = True
        if full.error:
            bugs.append(f"ours raised: {full.error}")
        maps = {
            v: compare(full.mask, arrays.get(f"{cname}|{v}|*")) for v in ("raw", "unit", "noclip")
        }
        if any(a.labels for a in no_graph):
            maps["nograph"] = compare(
                ours_density(no_graph, case, None).mask, arrays.get(f"{cname}|nograph|*")
            )
        else:
            maps["nograph"] = Diff(f"{cname}|nograph|*" not in arrays)
        raw_crash = (runs.get(f"{cname}|raw|*") or {}).get("crash")
        if raw_crash and not full.warnings:
            bugs.append(f"the SDK fails ({raw_crash[:60]}) but ours gives no warning (9.3)")
        for v, d in maps.items():
            if not d.shape_ok:
                bugs.append(f"{v} map: shape or missing map")
        # object_name = every class: classes that never cross the border must equal the SDK's
        # unit map exactly (crash pixels aside), crossing ones within the 9.1 tolerance
        n_total = n_exact = border_px = iii_cls = 0
        border_detail: dict[str, tuple[int, float]] = {}
        shape = crash_px.shape
        border_union = np.zeros(shape, bool)  # pixels a crossing class explains
        exact_union = np.zeros(shape, bool)  # pixels where an exact class differs: (iii)
        prefix = f"{cname}|unit|"
        class_names = sorted(
            k[len(prefix) :]
            for k in runs
            if k.startswith(prefix) and k[len(prefix) :] not in ("*", "__no_such_class__")
        )
        for cls_name in class_names:
            o = ours_density(anns, case, cls_name)
            u_run = runs[prefix + cls_name]
            n_run = runs.get(f"{cname}|noclip|{cls_name}") or {}
            if o.mask is None and f"{prefix}{cls_name}" not in arrays:
                if not (o.error or "").startswith("ValueError"):
                    bugs.append(f"object_name={cls_name}: no SDK label, ours gave {o.error}")
                continue  # neither has a label of the class
            unit_map = _class_map(u_run, arrays, prefix + cls_name, o.mask)
            if o.mask is None and unit_map is not None and "No labels found" in (o.error or ""):
                o = OursRun(np.zeros_like(unit_map), None, o.warnings)
            unit = compare(o.mask, unit_map)
            noclip = compare(
                o.mask, _class_map(n_run, arrays, f"{cname}|noclip|{cls_name}", o.mask)
            )
            border = cls_name in BORDER_CLASSES
            st = class_stats.setdefault(cls_name, _blank_stat())
            st["maps"] += 1
            st["exact"] += unit.exact
            st["noclip_exact"] += noclip.exact
            crashed = bool(u_run.get("failures"))
            st["crash"] += crashed
            n_total += 1
            n_exact += unit.exact
            if o.error:
                bugs.append(f"object_name={cls_name}: ours raised {o.error}")
                continue
            if unit.mask is None or unit.mask.shape != shape:
                bugs.append(f"object_name={cls_name}: shape or missing map")
                continue
            off = unit.mask & ~crash_px  # crash pixels are (iv)
            n_off = int(np.count_nonzero(off))
            d_off = 0.0
            if n_off:
                d = np.abs(o.mask.astype(np.float64) - unit_map.astype(np.float64))
                d_off = float(d[off].max())
            st["n"] += n_off
            st["max_frac"] = max(st["max_frac"], n_off / off.size)
            st["max_abs"] = max(st["max_abs"], d_off)
            if border:
                border_px += n_off
                border_union |= off
                if n_off:
                    border_detail[cls_name] = (n_off, d_off)
                st["over"] += not within_91(n_off, off.size, d_off)
            elif n_off or (unit.rounding and not crashed):
                iii_cls += n_off
                exact_union |= off
                bugs.append(
                    f"object_name={cls_name}: {n_off} px differ (max {d_off:g}, "
                    f"{unit.rounding} rounding) from the SDK's unit map; this class never "
                    "crosses the border (or is cropped exactly): (iii)"
                )
        # an object_name that matches nothing: both raise ValueError
        none_run = runs.get(f"{cname}|unit|__no_such_class__") or {}
        o_none = ours_density(anns, case, "__no_such_class__")
        if "No labels found" not in (none_run.get("crash") or ""):
            bugs.append("SDK did not raise for an unknown object_name")
        if not (o_none.error or "").startswith("ValueError"):
            bugs.append(f"unknown object_name: ours gave {o_none.error or 'no error'}")
        # classify the differing pixels of the full map
        cats = {"i": 0, "ii": 0, "iii": 0, "iv": 0, "iii_cls": iii_cls}
        ii_max, ii_band = 0.0, 0
        raw, unit = maps["raw"].mask, maps["unit"].mask
        if raw is not None and unit is not None:
            iv = unit & crash_px  # where the SDK failed to draw a label (9.3)
            # differs from unit where an exact class differs, or where no crossing class does
            iii = unit & ~crash_px & (exact_union | ~border_union)
            ii = unit & ~crash_px & ~iii  # explained by labels crossing the border (9.1)
            i = raw & ~unit  # only graph/cuboid_2d colour weights explain it (9.2)
            cats.update(
                {
                    k: int(np.count_nonzero(m))
                    for k, m in (("i", i), ("ii", ii), ("iii", iii), ("iv", iv))
                }
            )
            if cats["ii"]:
                d = np.abs(full.mask.astype(np.float64) - arrays[f"{cname}|unit|*"])
                ii_max = float(d[ii].max())
                h, w = ii.shape
                band = (
                    int(np.ceil(max(max(h / a.img_size[0], w / a.img_size[1]) for a in anns))) + 1
                )
                rows, cols = np.nonzero(ii)
                edge = np.minimum.reduce([rows, h - 1 - rows, cols, w - 1 - cols])
                ii_band = int(np.count_nonzero(edge < band))
            if cats["iii"] and not iii_cls:
                bugs.append(
                    f"{cats['iii']} px of the full map differ from the SDK's unit map where no "
                    "class map does: (iii)"
                )
        grid = "x".join(map(str, full.mask.shape)) if full.mask is not None else "-"
        results.append(
            CaseResult(
                name,
                cname,
                grid,
                maps,
                cats,
                ii_max,
                ii_band,
                n_total,
                n_exact,
                border_px,
                border_detail,
                bugs,
                crashes,
                len(full.warnings),
            )
        )
    return results
