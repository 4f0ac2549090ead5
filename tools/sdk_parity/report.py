"""The tables the parity check prints."""

from __future__ import annotations

from typing import Any

import numpy as np

from tools.sdk_parity.compare import BORDER_CLASSES, CaseResult, compare, within_91


def fmt_pct(frac: float) -> str:
    return "0" if frac == 0 else f"{100 * frac:.3f}%"


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True))  # noqa: E731
    return "\n".join([line(header), line(["-" * w for w in widths]), *map(line, rows)])


def print_summary(results: list[CaseResult], class_stats: dict[str, dict[str, Any]]) -> None:
    header = [
        "project",
        "case",
        "grid",
        "shape",
        "raw diff px",
        "raw %",
        "raw max",
        "(i)",
        "(ii)",
        "(ii) %",
        "(ii) max",
        "(ii) edge",
        "(iii)",
        "(iii) cls",
        "(iv)",
        "x-class px",
        "unit diff",
        "noclip diff",
        "nograph diff",
        "classes exact",
        "SDK crash",
        "ours warn",
        "verdict",
    ]
    rows = []
    for r in results:
        raw, unit, noclip, nograph = (r.maps[k] for k in ("raw", "unit", "noclip", "nograph"))
        rows.append(
            [
                r.project,
                r.case,
                r.grid,
                "same" if all(m.shape_ok for m in r.maps.values()) else "DIFF",
                raw.n,
                fmt_pct(raw.frac),
                f"{raw.max_abs:g}",
                r.cats["i"],
                r.cats["ii"],
                fmt_pct(r.cats["ii"] / r.size),
                f"{r.ii_max:g}",
                r.ii_band,
                r.cats["iii"],
                r.cats["iii_cls"],
                r.cats["iv"],
                r.border_px,
                f"{unit.n}/{unit.max_abs:g}",
                f"{noclip.n}/{noclip.max_abs:g}",
                f"{nograph.n}/{nograph.max_abs:g}",
                f"{r.classes_exact}/{r.classes_total}",
                len(r.sdk_crashes),
                r.ours_warnings,
                r.verdict,
            ]
        )
    print(table(rows, header))
    tot = {k: sum(r.cats[k] for r in results) for k in ("i", "ii", "iii", "iv", "iii_cls")}
    verdicts = [r.verdict for r in results]
    worst = max(results, key=lambda r: (r.cats["ii"] / r.size, r.ii_max), default=None)
    worst_txt = f" ({worst.project}/{worst.case})" if worst is not None and worst.cats["ii"] else ""
    print(
        f"\n{len(results)} cases: {verdicts.count('ok')} ok, {verdicts.count('BUG')} BUG, "
        f"{verdicts.count('OVER 9.1')} over the 9.1 tolerance (>0.1 % or >1).  Pixels: "
        f"(i) {tot['i']}, (ii) {tot['ii']} ({sum(r.ii_band for r in results)} at the edge), "
        f"(iii) {tot['iii']} (+{tot['iii_cls']} in class maps), (iv) {tot['iv']}; largest (ii) "
        f"share {fmt_pct(max((r.cats['ii'] / r.size for r in results), default=0))}{worst_txt}, "
        f"largest (ii) |diff| {max((r.ii_max for r in results), default=0):g}.\n"
        "Full-map pixels: (i) differ from raw only (graph/cuboid_2d colour weights, 9.2); (iv) "
        "differ from unit inside a label the SDK failed to draw (9.3); (ii) differ from unit "
        "elsewhere, where a crossing class's map (BORDER_CLASSES: polygon_x, line_x, "
        "multipolygon_x, any_x) differs and no other class's does (9.1: at most 0.1 %, by at "
        "most 1); (iii) any other pixel differing from unit: a BUG.  (iii) cls = differing "
        "pixels, crash pixels aside, in the object_name maps of classes that must be exact "
        "(every class but BORDER_CLASSES): a BUG.\n"
        "Columns: raw = SDK as is; unit = graph/cuboid_2d colours set to R=1 (the reference); "
        "noclip = unit with the SDK's shapely crop of polygons/lines off (information only: how "
        "much the crop matters); nograph = graph/cuboid_2d left out on both sides; 'n/max' = "
        "differing pixels / max |diff|; (ii) edge = (ii) pixels within ceil(scale)+1 px of the "
        "grid edge; x-class px = differing pixels in the crossing classes' object_name maps; "
        "classes exact = object_name maps identical to unit."
    )
    print(
        "\nobject_name=<class>, all projects and cases, against the SDK's unit maps (crash "
        "pixels aside; 'exact' classes must never differ, crossing ones stay within 9.1):"
    )
    rows = []
    for name in sorted(class_stats):
        st = class_stats[name]
        kind = "<= 9.1 tol" if name in BORDER_CLASSES else "exact"
        rows.append(
            [
                name,
                kind,
                st["maps"],
                st["exact"],
                st["over"] if name in BORDER_CLASSES else "-",
                st["n"],
                fmt_pct(st["max_frac"]),
                f"{st['max_abs']:g}",
                st["noclip_exact"],
                st["crash"],
            ]
        )
    print(
        table(
            rows,
            [
                "class",
                "expect",
                "maps",
                "exact",
                "over 9.1",
                "diff px",
                "max %",
                "max |d|",
                "exact vs noclip (info)",
                "SDK crashed",
            ],
        )
    )
    over = [r for r in results if r.verdict == "OVER 9.1"]
    if over:
        print("\nOVER 9.1 cases, by crossing class (object_name map: differing px, max |diff|):")
        for r in over:
            detail = ", ".join(
                f"{k} {n} px ({fmt_pct(n / r.size)}, max {m:g})"
                for k, (n, m) in sorted(r.border_detail.items())
            )
            print(
                f"  {r.project}/{r.case} ({r.grid}): full map (ii) {r.cats['ii']} px "
                f"({fmt_pct(r.cats['ii'] / r.size)}, max {r.ii_max:g}); {detail}"
            )
    crash_lines = sorted({f"{r.project} {c}" for r in results for c in r.sdk_crashes})
    bugs = [(r, b) for r in results for b in r.bugs]
    if crash_lines:
        print("\nSDK crashes in the random projects (replayed skipping the failing labels):")
        for c in crash_lines:
            print("  " + c)
    if bugs:
        print("\nBUGS:")
        for r, b in bugs:
            print(f"  {r.project}/{r.case}: {b}")


def fmt_t(t: dict[str, Any]) -> str:
    if "error" in t:
        return "error: " + t["error"][:100]
    return f"{1e3 * t['median']:.1f} ms (min {1e3 * t['min']:.1f})"


def probe_table(probe_results: list[tuple[str, CaseResult, dict[str, Any]]]) -> str:
    """Tabulate the crash probes: what the SDK raised, what ours did, how the maps differ."""
    rows = []
    for pname, r, _ in probe_results:
        crash = "; ".join(sorted({c.split(": ", 1)[1] for c in r.sdk_crashes})) or "no crash"
        d = r.maps["raw"]
        rows.append(
            [
                pname,
                crash[:70],
                "raises" if r.bugs else f"{r.ours_warnings} warning(s)",
                f"{d.n} px ({fmt_pct(d.frac)}), max {d.max_abs:g}",
                r.verdict,
            ]
        )
    header = ["probe", "SDK", "ours", "ours vs SDK replay (skips crashing labels)", "verdict"]
    return table(rows, header)


def timing_table(
    t_sdk: dict[str, Any],
    t_ours: dict[str, Any],
    timing_job: dict[str, Any],
    side: int,
    repeats: int,
) -> str:
    """Tabulate the SDK's timings next to ours, and how our density maps differ from its."""
    heading = (
        f"\nTimings (median of {repeats}; density: 100 annotations x 10 labels, "
        "1024² images, "
        "benchmarks/run.py's synthetic set):"
    )
    rows = [
        [
            f"SDK mask_to_heatmap (normalise, blur 5x5, JET, BGRA), {side}² float32",
            fmt_t(t_sdk["mask_to_heatmap"]),
        ],
        [
            f"SDK np_image_to_data_url (PNG + base64), {side}² BGRA",
            fmt_t(t_sdk["np_image_to_data_url"]),
        ],
        [
            f"SDK render total (mask_to_heatmap + data URL), {side}²",
            fmt_t(t_sdk["render total"]),
        ],
        [f"SDK Heatmap.set_heatmap widget, {side}²", fmt_t(t_sdk["Heatmap.set_heatmap"])],
        [f"ours mask_to_rgba (CPU re-render), {side}²", fmt_t(t_ours["mask_to_rgba"])],
        ["SDK Annotation.load_json_file x100", fmt_t(t_sdk["load annotations"])],
        ["ours load_annotation x100", fmt_t(t_ours["load annotations"])],
    ]
    for s in (1024, side):
        d = compare(t_ours["_maps"][s], np.load(timing_job["density_out"].format(side=s)))
        same = "  (identical map)"
        if not d.exact:
            ok = within_91(d.n, t_ours["_maps"][s].size, d.max_abs)
            same = f"  ({d.n} px = {fmt_pct(d.frac)} differ, max {d.max_abs:g}: " + (
                "within 9.1" if ok else "OVER 9.1"
            )
            if s == 1024:
                nc = np.load(timing_job["density_out"].format(side="noclip"))
                dn = compare(t_ours["_maps"][s], nc)
                same += f"; {dn.n} px vs the SDK without its shapely crop"
            same += ")"
        rows.append(
            [
                f"SDK set_heatmap_from_annotations density, {s}² grid",
                fmt_t(t_sdk[f"density {s}"]),
            ]
        )
        rows.append(
            [
                f"ours density_map, {s}² grid",
                fmt_t(t_ours[f"density {s}"]) + same,
            ]
        )
    return heading + "\n" + table(rows, ["what", "time"])
