"""Random Supervisely projects with every geometry, and probes of the SDK's known crashes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from tools.sly_json import ann, bitmap, bitmap_payload, encode_png, obj, png_cv2

KINDS = (
    "point",
    "rectangle",
    "polygon",
    "line",
    "bitmap",
    "alpha_mask",
    "oriented_bbox",
    "multipolygon",
    "cuboid_2d",
    "graph",
    "any",
)
#: Classes whose SDK weight is the template colour's R value (decision 2).
WEIGHTED_SHAPES = ("graph", "cuboid_2d")
#: Geometries an ``any``-class object may carry.
ANY_INSIDE = ("point", "rectangle", "polygon", "line", "bitmap", "alpha_mask", "any")
ANY_CROSSING = ("polygon", "line", "multipolygon")
CUBOID_VERTICES = tuple(
    f"face{f}-{c}" for f in (1, 2) for c in ("topleft", "topright", "bottomright", "bottomleft")
)
GRAPH_TEMPLATE = {
    "nodes": {
        "n1": {"label": "head", "loc": [10, 0], "color": "#C81E1E"},
        "n2": {"label": "neck", "loc": [10, 5], "color": "#1EC81E"},
        "n3": {"label": "l_hand", "loc": [0, 10], "color": "#641E1E"},
        "n4": {"label": "r_hand", "loc": [20, 10], "color": "#FF0000"},
        "n5": {"label": "hip", "loc": [10, 15], "color": "#2A2A2A"},
        "n6": {"label": "foot", "loc": [10, 25], "color": "#960000"},
    },
    "edges": [
        {"src": "n1", "dst": "n2", "color": "#3C0000"},
        {"src": "n2", "dst": "n3", "color": "#8C0000"},
        {"src": "n2", "dst": "n4", "color": "#B40000"},
        {"src": "n2", "dst": "n5", "color": "#FA0000"},
        {"src": "n5", "dst": "n6", "color": "#0A0000"},
    ],
}


class ProjectGenerator:
    """Random Supervisely projects; see the module docstring."""

    def __init__(
        self,
        rng: np.random.Generator,
        crossing: float,
        counts: Counter[str],
        kinds: tuple[str, ...] = KINDS,
    ) -> None:
        self.rng = rng
        self.crossing = crossing  # share of objects crossing the image border
        self.counts = counts  # objects written, by geometry (and bitmap flavour)
        self.kinds = kinds  # the geometries objects are drawn from

    # ---------------------------------------------------------------- coordinates

    def coord(self, v: float) -> float | int:
        """An int most of the time, else a float (floored on load)."""
        if self.rng.random() < 0.6:
            return int(np.floor(v))
        return round(float(v), 3)

    def xy(self, x: float, y: float) -> list[float | int]:
        return [self.coord(x), self.coord(y)]

    def inside_pt(self, h: int, w: int) -> tuple[float, float]:
        return float(self.rng.uniform(0, w - 1e-3)), float(self.rng.uniform(0, h - 1e-3))

    def centre(self, h: int, w: int, crossing: bool) -> tuple[float, float, float]:
        """Centre (x, y) and radius of a shape inside the image or crossing its border."""
        rmax = max(2.0, 0.35 * min(h, w))
        r = float(self.rng.uniform(1.5, rmax))
        if crossing:
            side = self.rng.integers(4)
            x, y = self.inside_pt(h, w)
            off = float(self.rng.uniform(-0.8, 0.6)) * r
            if side == 0:
                x = -off
            elif side == 1:
                x = w - 1 + off
            elif side == 2:
                y = -off
            else:
                y = h - 1 + off
            return x, y, r
        r = min(r, (min(h, w) - 1) / 2 - 0.01)
        x = float(self.rng.uniform(r, w - 1 - r))
        y = float(self.rng.uniform(r, h - 1 - r))
        return x, y, max(r, 0.5)

    def ring(self, x: float, y: float, r: float, n: int, inner: float = 0.3) -> np.ndarray:
        ang = np.sort(self.rng.uniform(0, 2 * np.pi, n))
        rad = self.rng.uniform(inner, 1.0, n) * r
        return np.stack([x + rad * np.cos(ang), y + rad * np.sin(ang)], axis=1)

    def ring_json(self, pts: np.ndarray, h: int, w: int, crossing: bool) -> list[list[Any]]:
        if not crossing:  # keep inside 0..w-1 / 0..h-1 after flooring
            pts = np.clip(pts, 0, [w - 1e-3, h - 1e-3])
        return [self.xy(px, py) for px, py in pts]

    # ---------------------------------------------------------------- geometries

    def even_ring(self, x: float, y: float, r: float, n: int, inner: float) -> np.ndarray:
        """A star ring with jittered, evenly spread angles: contains the disc of ~inner*r/2."""
        ang = (np.arange(n) + self.rng.uniform(-0.3, 0.3, n)) * 2 * np.pi / n
        rad = self.rng.uniform(inner, 1.0, n) * r
        return np.stack([x + rad * np.cos(ang), y + rad * np.sin(ang)], axis=1)

    def polygon_part(self, h: int, w: int, crossing: bool) -> dict[str, Any]:
        """A polygon part; crossing ones are valid (one hole strictly inside the shell), since
        the SDK crops them with shapely and an invalid ring there is garbage in, garbage out.
        """
        x, y, r = self.centre(h, w, crossing)
        holes = r > 8 and self.rng.random() < 0.6
        if crossing or holes:
            ext = self.even_ring(x, y, r, int(self.rng.integers(6, 12)), inner=0.6)
        else:  # any star polygon, fillPoly semantics only
            ext = self.ring(x, y, r, int(self.rng.integers(3, 12)), inner=0.3)
        ext_json = self.ring_json(ext, h, w, crossing)
        interior = []
        if holes:
            shell = np.floor(np.array(ext_json, float)).astype(np.float32)
            for _ in range(1 if crossing else int(self.rng.integers(1, 3))):
                off = self.rng.uniform(-0.1, 0.1, 2) * r
                hole = self.even_ring(
                    x + off[0], y + off[1], 0.25 * r, int(self.rng.integers(3, 7)), 0.5
                )
                hole_json = self.ring_json(hole, h, w, crossing)
                inside = all(
                    cv2.pointPolygonTest(shell, (float(px), float(py)), True) > 1.0
                    for px, py in np.floor(np.array(hole_json, float))
                )
                if inside or not crossing:
                    interior.append(hole_json)
        return {"exterior": ext_json, "interior": interior}

    def mask_blob(self, mh: int, mw: int) -> np.ndarray:
        yy, xx = np.mgrid[:mh, :mw]
        cy, cx = (mh - 1) / 2, (mw - 1) / 2
        ell = ((yy - cy) / max(mh / 2, 0.5)) ** 2 + ((xx - cx) / max(mw / 2, 0.5)) ** 2 <= 1.0
        mask = ell & (self.rng.random((mh, mw)) < self.rng.uniform(0.5, 1.0))
        if self.rng.random() < 0.3:  # sparse: exercises nearest-neighbour emptying
            mask &= self.rng.random((mh, mw)) < 0.1
        if not mask.any():
            mask[mh // 2, mw // 2] = True
        if self.rng.random() < 0.3:  # not tight: the reader must crop
            mask = np.pad(mask, int(self.rng.integers(1, 4)))
        return mask

    def mask_origin(self, h: int, w: int, mh: int, mw: int, crossing: bool) -> list[int]:
        if crossing:
            x = int(self.rng.integers(-mw + 1, w))
            y = int(self.rng.integers(-mh + 1, h))
            if x >= 0 and x + mw <= w and y >= 0 and y + mh <= h:
                x = w - mw // 2 if self.rng.random() < 0.5 else -(mw // 2) - 1
            return [x, y]
        return [
            int(self.rng.integers(0, max(w - mw, 0) + 1)),
            int(self.rng.integers(0, max(h - mh, 0) + 1)),
        ]

    def geometry(self, kind: str, h: int, w: int, crossing: bool) -> dict[str, Any]:
        """The object's payload (without class / tags) for geometry `kind`."""
        rng = self.rng
        if kind == "point":
            if crossing:
                x, y, _ = self.centre(h, w, True)
            else:
                x, y = self.inside_pt(h, w)
            return {"points": {"exterior": [self.xy(x, y)], "interior": []}}
        if kind == "rectangle":
            x, y, r = self.centre(h, w, crossing)
            rx, ry = r * rng.uniform(0.2, 1.0), r * rng.uniform(0.2, 1.0)
            corners = np.array([[x - rx, y - ry], [x + rx, y + ry]])
            if rng.random() < 0.3:  # any two opposite corners
                corners = corners[:, ::-1] if rng.random() < 0.5 else corners[::-1]
                corners = np.array([[corners[0, 0], corners[1, 1]], [corners[1, 0], corners[0, 1]]])
            return {"points": {"exterior": self.ring_json(corners, h, w, crossing), "interior": []}}
        if kind == "polygon":
            return {"points": self.polygon_part(h, w, crossing)}
        if kind == "line":
            x, y, r = self.centre(h, w, crossing)
            pts = np.stack([x, y]) + rng.uniform(-r, r, (int(rng.integers(2, 7)), 2))
            return {"points": {"exterior": self.ring_json(pts, h, w, crossing), "interior": []}}
        if kind in ("bitmap", "alpha_mask"):
            mh = int(rng.integers(1, max(2, int(0.4 * h)) + 1))
            mw = int(rng.integers(1, max(2, int(0.4 * w)) + 1))
            mask = self.mask_blob(mh, mw)
            origin = self.mask_origin(h, w, *mask.shape, crossing)
            if kind == "bitmap":
                flavour = str(rng.choice(["palette", "rgba", "grey"]))
                self.counts[f"bitmap:{flavour}"] += 1
                data = bitmap_payload(mask, flavour)
            else:
                alpha = (mask * rng.integers(1, 256, mask.shape)).astype(np.uint8)
                data = encode_png(png_cv2(alpha))
            return {"bitmap": {"origin": origin, "data": data}}
        if kind == "oriented_bbox":
            x, y, r = self.centre(h, w, crossing)
            rx, ry = r * rng.uniform(0.2, 1.0), r * rng.uniform(0.2, 1.0)
            corners = np.array([[x - rx, y - ry], [x + rx, y + ry]])
            return {
                "points": self.ring_json(corners, h, w, crossing),
                "angle": float(rng.uniform(-np.pi, np.pi)) if rng.random() < 0.8 else 0.0,
            }
        if kind == "multipolygon":
            n = int(rng.integers(1, 4))
            parts = [
                self.polygon_part(h, w, crossing and (i == 0 or rng.random() < 0.5))
                for i in range(n)
            ]
            return {"parts": parts}
        if kind == "cuboid_2d":
            x, y, r = self.centre(h, w, crossing)
            rx, ry = r * rng.uniform(0.3, 0.7), r * rng.uniform(0.3, 0.7)
            dx, dy = r * rng.uniform(-0.3, 0.3), r * rng.uniform(-0.3, 0.3)
            face = np.array([[-rx, -ry], [rx, -ry], [rx, ry], [-rx, ry]])
            pts = np.concatenate([face + np.array([x, y]), face * 0.8 + np.array([x + dx, y + dy])])
            locs = self.ring_json(pts, h, w, crossing)
            return {
                "vertices": {
                    name: {"loc": loc} for name, loc in zip(CUBOID_VERTICES, locs, strict=True)
                }
            }
        if kind == "graph":
            x, y, r = self.centre(h, w, crossing)
            ids = list(GRAPH_TEMPLATE["nodes"])
            keep = [i for i in ids if rng.random() < 0.85] or ids[:2]
            pts = np.stack([x, y]) + rng.uniform(-r, r, (len(keep), 2))
            locs = self.ring_json(pts, h, w, crossing)
            nodes: dict[str, Any] = {}
            for node_id, loc in zip(keep, locs, strict=True):
                nodes[node_id] = {"loc": loc}
                if rng.random() < 0.1:
                    nodes[node_id]["disabled"] = True
            return {"nodes": nodes}
        if kind == "any":  # an AnyGeometry payload, kept verbatim, never drawn
            return {"points": {"exterior": [[1, 1]], "interior": []}, "someField": 1}
        raise ValueError(kind)

    # ---------------------------------------------------------------- project

    def meta(self) -> dict[str, Any]:
        classes = []
        for kind in KINDS:
            for suffix in ("", "_x"):
                colour = "#{:02X}{:02X}{:02X}".format(*self.rng.integers(40, 256, 3))
                cfg = json.loads(json.dumps(GRAPH_TEMPLATE)) if kind == "graph" else {}
                classes.append(
                    {"title": kind + suffix, "shape": kind, "color": colour, "geometry_config": cfg}
                )
        return {"classes": classes, "tags": [], "projectType": "images"}

    def annotation(self, h: int, w: int) -> dict[str, Any]:
        objects = []
        for _ in range(int(self.rng.integers(0, 26))):
            kind = str(self.rng.choice(self.kinds))
            crossing = self.rng.random() < self.crossing
            gtype = kind
            if kind == "any":
                gtype = str(self.rng.choice(ANY_CROSSING if crossing else ANY_INSIDE))
            self.counts[
                f"{kind}{'_x' if crossing else ''}{'/' + gtype if kind == 'any' else ''}"
            ] += 1
            obj = {
                "classTitle": kind + ("_x" if crossing else ""),
                "description": "",
                "tags": [],
                "geometryType": gtype,
                **self.geometry(gtype, h, w, crossing),
            }
            objects.append(obj)
        return {
            "description": "",
            "size": {"height": h, "width": w},
            "tags": [],
            "objects": objects,
        }

    def image_sizes(self, n: int) -> list[tuple[int, int]]:
        base_h, base_w = (int(v) for v in self.rng.integers(24, 600, 2))
        out = []
        for _ in range(n):
            if self.rng.random() < 0.5:  # similar sizes, as in a real dataset
                out.append(
                    (
                        max(8, base_h + int(self.rng.integers(-20, 21))),
                        max(8, base_w + int(self.rng.integers(-20, 21))),
                    )
                )
            else:
                out.append(tuple(int(v) for v in self.rng.integers(8, 900, 2)))
        return out

    def write(self, root: Path) -> None:
        root.mkdir(parents=True)
        (root / "meta.json").write_text(json.dumps(self.meta()))
        n_datasets = int(self.rng.integers(1, 3))
        sizes = self.image_sizes(int(self.rng.integers(2, 9)))
        for i, (h, w) in enumerate(sizes):
            ann_dir = root / f"ds{i % n_datasets}" / "ann"
            ann_dir.mkdir(parents=True, exist_ok=True)
            (ann_dir / f"img_{i:03d}.png.json").write_text(json.dumps(self.annotation(h, w)))

    def cases(self) -> list[dict[str, Any]]:
        side = lambda: int(self.rng.integers(8, 900))  # noqa: E731
        return [
            {"name": "auto", "width": None, "height": None},
            {"name": "width", "width": side(), "height": None},
            {"name": "height", "width": None, "height": side()},
            {"name": "both", "width": side(), "height": side()},
        ]


def write_random_project(
    root: Path,
    n_images: int,
    rng: np.random.Generator,
    kinds: tuple[str, ...] = KINDS,
    crossing: float = 0.25,
    n_datasets: int = 2,
) -> None:
    """Write a random project of `n_images` annotation files (no images) under `root`.

    Image sizes and objects as in the parity projects (0-25 objects of `kinds` per image);
    files ``ds<k>/ann/img_<i>.png.json``, spread over `n_datasets` datasets.
    """
    gen = ProjectGenerator(rng, crossing, Counter(), kinds)
    root.mkdir(parents=True)
    (root / "meta.json").write_text(json.dumps(gen.meta()))
    for i, (h, w) in enumerate(gen.image_sizes(n_images)):
        ann_dir = root / f"ds{i % n_datasets}" / "ann"
        ann_dir.mkdir(parents=True, exist_ok=True)
        (ann_dir / f"img_{i:05d}.png.json").write_text(json.dumps(gen.annotation(h, w)))


PROBES: dict[str, dict[str, Any]] = {
    "bitmap overflows grid (tie)": {
        "doc": "2x2 image, 1-px bitmap at (1,1), grid 3x3: scaled to rows/cols 2..3",
        "classes": [
            {"title": "bm", "shape": "bitmap", "color": "#FF0000", "geometry_config": {}},
            {"title": "box", "shape": "rectangle", "color": "#00FF00", "geometry_config": {}},
        ],
        "anns": [
            ann(
                [
                    obj("bitmap", "bm", **bitmap([1, 1], np.ones((1, 1), bool))),
                    obj("rectangle", "box", points={"exterior": [[0, 0], [0, 1]], "interior": []}),
                ],
                2,
                2,
            )
        ],
        "case": {"name": "both", "width": 3, "height": 3},
    },
    "bitmap emptied by downscale": {
        "doc": "30x30 image, bitmap [1,0,1] at (3,3), grid 10x10: nearest picks the hole",
        "classes": [
            {"title": "bm", "shape": "bitmap", "color": "#FF0000", "geometry_config": {}},
            {"title": "box", "shape": "rectangle", "color": "#00FF00", "geometry_config": {}},
        ],
        "anns": [
            ann(
                [
                    obj("bitmap", "bm", **bitmap([3, 3], np.array([[1, 0, 1]], bool))),
                    obj(
                        "rectangle",
                        "box",
                        points={"exterior": [[10, 10], [20, 20]], "interior": []},
                    ),
                ],
                30,
                30,
            )
        ],
        "case": {"name": "both", "width": 10, "height": 10},
    },
    "graph edge without colour": {
        "doc": "template edge n1-n2 has no colour: tuple(1.0) in the SDK",
        "classes": [
            {
                "title": "kp",
                "shape": "graph",
                "color": "#FF0000",
                "geometry_config": {
                    "nodes": {
                        "n1": {"label": "a", "loc": [0, 0], "color": "#010000"},
                        "n2": {"label": "b", "loc": [5, 5], "color": "#010000"},
                    },
                    "edges": [{"src": "n1", "dst": "n2"}],
                },
            }
        ],
        "anns": [
            ann(
                [obj("graph", "kp", nodes={"n1": {"loc": [2, 3]}, "n2": {"loc": [15, 12]}})], 20, 20
            )
        ],
        "case": {"name": "auto", "width": None, "height": None},
    },
}


def write_probe(root: Path, probe: dict[str, Any]) -> None:
    (root / "ds" / "ann").mkdir(parents=True)
    (root / "meta.json").write_text(json.dumps({"classes": probe["classes"], "tags": []}))
    for i, a in enumerate(probe["anns"]):
        (root / "ds" / "ann" / f"p{i}.png.json").write_text(json.dumps(a))


def _job(name: str, root: Path, out: Path, classes: list[dict[str, Any]]) -> dict[str, Any]:
    """What the SDK side and the comparison need to know of one written project."""
    return {
        "name": name,
        "meta": str(root / "meta.json"),
        "classes": [c["title"] for c in classes],
        "out": str(out),
        "weighted": [c["title"] for c in classes if c["shape"] in WEIGHTED_SHAPES],
    }


def write_jobs(
    tmp: Path, n_projects: int, rng: np.random.Generator, crossing: float, ours: Any
) -> tuple[list[dict[str, Any]], Counter[str]]:
    """Write `n_projects` random projects and the probes under `tmp`; return their jobs.

    Parameters
    ----------
    tmp : Path
        Where to write (``p00`` .. and ``probe0`` ..).
    n_projects : int
        How many random projects.
    rng : numpy.random.Generator
        The randomness.
    crossing : float
        Share of objects crossing the image border.
    ours : module
        ``napari_heatmap.supervisely``, whose ``find_annotations`` lists the files.

    Returns
    -------
    jobs, counts
        One job per project (random ones first, then probes, with a ``"probe"`` name), and the
        objects written by geometry.
    """
    projects = []
    counts: Counter[str] = Counter()
    for i in range(n_projects):
        gen = ProjectGenerator(rng, crossing, counts)
        root = tmp / f"p{i:02d}"
        gen.write(root)
        paths = [it.ann_path for it in ours.find_annotations(root).items]
        assert len(paths) == len(list(root.glob("*/ann/*.json"))), "find_annotations missed files"
        classes = json.loads((root / "meta.json").read_text())["classes"]
        job = _job(f"p{i:02d}", root, tmp / f"p{i:02d}.npz", classes)
        projects.append(job | {"anns": [str(p) for p in paths], "cases": gen.cases()})
    for j, (pname, probe) in enumerate(PROBES.items()):
        root = tmp / f"probe{j}"
        write_probe(root, probe)
        anns = [str(p) for p in sorted((root / "ds" / "ann").glob("*.json"))]
        job = _job(f"probe{j}", root, tmp / f"probe{j}.npz", probe["classes"])
        projects.append(job | {"probe": pname, "anns": anns, "cases": [probe["case"]]})
    return projects, counts
