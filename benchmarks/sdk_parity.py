"""Density-map parity of ``napari_heatmap.supervisely`` against the real Supervisely SDK.

Run with the plugin's environment and point ``--sdk-python`` at an interpreter that has the
Supervisely SDK (6.74.51) installed; the two never share a process::

    python benchmarks/sdk_parity.py --sdk-python /tmp/slyvenv/bin/python --projects 12 --seed 0

What it does:

1. Writes ``--projects`` random Supervisely projects to a temporary folder: ``meta.json`` and
   datasets with ``ann/*.json``, varied image sizes, every image geometry the plugin reads (point,
   rectangle, polygon with holes, line, bitmap as 1-bit palette+tRNS, RGBA and greyscale PNG,
   alpha_mask, oriented_bbox, multipolygon, cuboid_2d, graph with a template, objects of an
   ``any`` class), float and integer coordinates. Every geometry has two classes: ``<kind>``
   (objects inside the image) and ``<kind>_x`` (objects crossing or outside the border), so that
   every difference can be traced to the class that causes it.
2. Computes density maps with ``napari_heatmap.supervisely.density_map`` in this process, and
   with the SDK in a subprocess that loads ``ProjectMeta`` + ``Annotation.load_json_file`` and
   calls the SDK's own ``Heatmap.set_heatmap_from_annotations`` (the real function, on a stand-in
   object whose ``set_heatmap`` just keeps the mask), for four grid requests per project (no size,
   width only, height only, both) and for ``object_name`` = every class.
3. SDK variants: ``raw`` (as the SDK draws, graph/cuboid_2d weighted by template colour R values),
   ``unit`` (the same, with every graph template colour and cuboid_2d class colour set to R = 1,
   so they weigh 1 per pixel like ours: decision 2 factored out; **the reference**),
   ``noclip`` (``unit`` with the SDK's load-time shapely crop of polygons, lines and
   multipolygons switched off, every other crop kept; information only: it shows how much the
   crop matters, since ours crops these too, with its own clipper; docs/supervisely.md) and
   ``nograph`` (graph and cuboid_2d labels left out on both sides). Where the SDK raises, the
   error is recorded and the SDK's loop is replayed label by label, skipping the labels that
   raise (their boxes are kept).
4. Checks the per-class maps (``object_name`` = every class) against ``unit``: a class whose
   objects never cross the border (no ``_x`` suffix, ``any`` included), and a crossing class the
   SDK crops exactly like ours (rectangle, point, bitmap, alpha_mask, oriented_bbox, graph,
   cuboid_2d: §7 / decision 1), must equal it exactly, pixels inside a label the SDK failed to
   draw aside; the crossing polygon/line/multipolygon/any classes (``BORDER_CLASSES``) may differ
   within decision 1's tolerance (at most 0.1 % of the map's pixels, by at most 1), since our
   crop approximates shapely's: a concave ring leaving and re-entering the image stays one ring
   joined along the image edge, a hole crossing the border stays a clipped hole instead of a
   notch of the exterior, and self-intersecting rings are not repaired with ``buffer(0)``.
   Then classifies every differing pixel of the full map: (i) differs from ``raw`` only:
   graph/cuboid_2d weights (decision 2); (iv) differs from ``unit`` inside a label the SDK
   failed to draw (decision 3); (ii) differs from ``unit`` elsewhere, where a crossing class's
   map differs and no exact class's does: our crop of labels crossing the border (decision 1);
   (iii) any other pixel differing from ``unit``, and any differing pixel of an exact class's
   map: a bug. Verdict per case: BUG on any (iii); "OVER 9.1" when the full map's (ii) exceed
   0.1 % of its pixels or differ by more than 1; else ok. Exit status 1 when a bug is found.
5. Runs targeted probes of the SDK's known crashes, checks ours draws them with a warning.
6. Times the SDK's density (its own loop) and its render (``mask_to_heatmap`` + PNG data URL) on
   a 4096² float32 mask, next to ours on the same input.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import importlib.util
import json
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import warnings
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

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
#: Crossing classes the SDK crops with shapely and we with our own clipper: their maps may
#: differ from the SDK's within the 9.1 tolerance; every other class must be exact.
BORDER_CLASSES = ("polygon_x", "line_x", "multipolygon_x", "any_x")
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
TIE = 1e-5  # |difference| below this counts as float rounding, not as a differing pixel
TOL_SHARE, TOL_ABS = 0.001, 1 + TIE  # decision 1: at most 0.1 % of the pixels, by at most 1


def within_91(n: int, size: int, max_abs: float) -> bool:
    """Decision 9.1's tolerance; |diff| 1 + float32 rounding of alpha sums still counts as 1."""
    return n <= TOL_SHARE * size and max_abs <= TOL_ABS


# =========================================================================== PNG / bitmaps


def _chunk(tag: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(tag + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", crc)


def png_palette_1bit(mask: np.ndarray) -> bytes:
    """A 1-bit palette PNG, palette [black, white], index 0 transparent: what the SDK writes."""
    h, w = mask.shape
    rows = np.packbits(mask.astype(np.uint8), axis=1)
    raw = b"".join(b"\x00" + rows[i].tobytes() for i in range(h))
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 1, 3, 0, 0, 0)),
            _chunk(b"PLTE", bytes([0, 0, 0, 255, 255, 255])),
            _chunk(b"tRNS", b"\x00"),
            _chunk(b"IDAT", zlib.compress(raw)),
            _chunk(b"IEND", b""),
        )
    )


def png_cv2(img: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", img)
    if not ok:  # pragma: no cover
        raise RuntimeError("cv2.imencode failed")
    return buf.tobytes()


def encode_png(png: bytes) -> str:
    """``base64(zlib(PNG))`` as in ``Bitmap.data_2_base64``."""
    return base64.b64encode(zlib.compress(png)).decode("ascii")


def bitmap_payload(mask: np.ndarray, flavour: str) -> str:
    if flavour == "palette":
        return encode_png(png_palette_1bit(mask))
    if flavour == "rgba":  # the labeling tool: white RGB, alpha 0/255
        bgra = np.zeros((*mask.shape, 4), np.uint8)
        bgra[mask] = 255
        return encode_png(png_cv2(bgra))
    if flavour == "grey":  # 8-bit greyscale 0/255
        return encode_png(png_cv2(mask.astype(np.uint8) * 255))
    raise ValueError(flavour)


# =========================================================================== project generator


class ProjectGenerator:
    """Random Supervisely projects; see the module docstring."""

    def __init__(self, rng: np.random.Generator, crossing: float, counts: Counter[str]) -> None:
        self.rng = rng
        self.crossing = crossing  # share of objects crossing the image border
        self.counts = counts  # objects written, by geometry (and bitmap flavour)

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
        the SDK crops them with shapely and an invalid ring there is garbage in, garbage out."""
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
            kind = str(self.rng.choice(KINDS))
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


# =========================================================================== crash probes


def _obj(title: str, gtype: str, **payload: Any) -> dict[str, Any]:
    return {"classTitle": title, "tags": [], "geometryType": gtype, **payload}


def _ann(h: int, w: int, objects: list[dict[str, Any]]) -> dict[str, Any]:
    return {"size": {"height": h, "width": w}, "tags": [], "objects": objects}


def _bitmap(origin: list[int], mask: np.ndarray) -> dict[str, Any]:
    return {"bitmap": {"origin": origin, "data": bitmap_payload(mask, "palette")}}


PROBES: dict[str, dict[str, Any]] = {
    "bitmap overflows grid (tie)": {
        "doc": "2x2 image, 1-px bitmap at (1,1), grid 3x3: scaled to rows/cols 2..3",
        "classes": [
            {"title": "bm", "shape": "bitmap", "color": "#FF0000", "geometry_config": {}},
            {"title": "box", "shape": "rectangle", "color": "#00FF00", "geometry_config": {}},
        ],
        "anns": [
            _ann(
                2,
                2,
                [
                    _obj("bm", "bitmap", **_bitmap([1, 1], np.ones((1, 1), bool))),
                    _obj("box", "rectangle", points={"exterior": [[0, 0], [0, 1]], "interior": []}),
                ],
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
            _ann(
                30,
                30,
                [
                    _obj("bm", "bitmap", **_bitmap([3, 3], np.array([[1, 0, 1]], bool))),
                    _obj(
                        "box",
                        "rectangle",
                        points={"exterior": [[10, 10], [20, 20]], "interior": []},
                    ),
                ],
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
            _ann(
                20,
                20,
                [_obj("kp", "graph", nodes={"n1": {"loc": [2, 3]}, "n2": {"loc": [15, 12]}})],
            )
        ],
        "case": {"name": "auto", "width": None, "height": None},
    },
}


def write_probe(root: Path, probe: dict[str, Any]) -> None:
    (root / "ds" / "ann").mkdir(parents=True)
    (root / "meta.json").write_text(json.dumps({"classes": probe["classes"], "tags": []}))
    for i, ann in enumerate(probe["anns"]):
        (root / "ds" / "ann" / f"p{i}.png.json").write_text(json.dumps(ann))


# =========================================================================== SDK helper

SDK_HELPER = r'''
"""Runs in the SDK's interpreter: density maps by the SDK's own Heatmap code."""
import json, statistics, sys, time, traceback, types
import numpy as np
import supervisely as sly
from supervisely.app.widgets.heatmap.heatmap import Heatmap, mask_to_heatmap
from supervisely.imaging.image import np_image_to_data_url

WEIGHTED = ("graph", "cuboid_2d")


class StandIn:
    """What set_heatmap_from_annotations reads from self: _width, _height, set_heatmap."""
    def __init__(self, width, height):
        self._width, self._height, self.mask = width, height, None

    def set_heatmap(self, mask):
        self.mask = mask


def real(anns, width, height, object_name):
    w = StandIn(width, height)
    Heatmap.set_heatmap_from_annotations(w, anns, object_name=object_name)
    return w.mask


def replay(anns, width, height, object_name, failures):
    """The same loop as set_heatmap_from_annotations, skipping labels that raise."""
    sizes = [a.img_size for a in anns]
    ah = sum(s[0] for s in sizes) / len(sizes)
    aw = sum(s[1] for s in sizes) / len(sizes)
    if width is not None and height is not None:
        size = (height, width)
    elif width is not None:
        size = (int(round(width / (aw / ah) / 2) * 2), width)
    elif height is not None:
        size = (height, int(round(height * (aw / ah) / 2) * 2))
    else:
        size = (int(round(ah / 2) * 2), int(round(aw / 2) * 2))
    mask = np.zeros(size, np.float32)
    for ai, ann in enumerate(anns):
        for li, label in enumerate(ann.labels):
            if object_name is None or label.obj_class.name == object_name:
                r = None
                try:
                    r = label.resize(ann.img_size, size)
                    temp = np.zeros(size, np.float32)
                    r.draw(temp, color=1.0)
                except Exception as e:
                    bbox = None
                    if r is not None:  # resized fine, drawing failed: where it would have drawn
                        b = r.geometry.to_bbox()
                        bbox = [b.top, b.left, b.bottom, b.right]
                    failures.append({"ann": ai, "label": li, "class": label.obj_class.name,
                                     "geometry": label.geometry.geometry_name(), "bbox": bbox,
                                     "error": f"{type(e).__name__}: {str(e)[:160]}"})
                    continue
                mask += temp
    return mask


def density(anns, width, height, object_name):
    """(mask, crash or None, labels skipped by the replay)."""
    try:
        return real(anns, width, height, object_name), None, []
    except Exception as e:
        crash = f"{type(e).__name__}: {str(e)[:200]}"
        if isinstance(e, ValueError) and ("No labels found" in str(e) or "at least one" in str(e)):
            return None, crash, []
        failures = []
        return replay(anns, width, height, object_name, failures), crash, failures


def unit_meta(meta_json):
    meta_json = json.loads(json.dumps(meta_json))
    for cls in meta_json["classes"]:
        if cls.get("shape") == "graph":
            cfg = cls.get("geometry_config") or {}
            for node in (cfg.get("nodes") or {}).values():
                node["color"] = "#010000"
            for edge in cfg.get("edges") or []:
                if "color" in edge:
                    edge["color"] = "#010000"
        if cls.get("shape") == "cuboid_2d":
            cls["color"] = "#010000"
    return meta_json


def load(meta_json, paths, clip=True):
    """Annotation.load_json_file; clip=False leaves polygons/lines/multipolygons uncropped
    (the SDK's load-time shapely crop switched off, everything else cropped as usual)."""
    meta = sly.ProjectMeta.from_json(meta_json)
    if clip:
        return [sly.Annotation.load_json_file(p, meta) for p in paths]
    from supervisely.annotation.annotation import Annotation
    from supervisely.geometry.multipolygon import Multipolygon
    from supervisely.geometry.polygon import Polygon
    from supervisely.geometry.polyline import Polyline

    original = Annotation._add_labels_impl

    def no_shapely_crop(self, dest, labels):
        for label in labels:
            if isinstance(label.geometry, (Polygon, Polyline, Multipolygon)):
                dest.append(label)
            else:
                original(self, dest, [label])

    Annotation._add_labels_impl = no_shapely_crop
    try:
        return [sly.Annotation.load_json_file(p, meta) for p in paths]
    finally:
        Annotation._add_labels_impl = original


def project(job):
    meta_json = json.load(open(job["meta"]))
    out, arrays = {"runs": [], "load_error": None, "labels": {}}, {}
    try:
        raw = load(meta_json, job["anns"])
        unit = load(unit_meta(meta_json), job["anns"])
        noclip = load(unit_meta(meta_json), job["anns"], clip=False)
    except Exception as e:
        out["load_error"] = f"{type(e).__name__}: {e}"
        return out, arrays
    shape_of = {c["title"]: c["shape"] for c in meta_json["classes"]}
    for a in unit:
        for lb in a.labels:
            out["labels"][lb.obj_class.name] = out["labels"].get(lb.obj_class.name, 0) + 1
    nograph = [types.SimpleNamespace(img_size=a.img_size, labels=[
        lb for lb in a.labels if shape_of.get(lb.obj_class.name) not in WEIGHTED]) for a in raw]
    for case in job["cases"]:
        w, h = case["width"], case["height"]
        todo = [("raw", raw, None), ("unit", unit, None), ("noclip", noclip, None),
                ("nograph", nograph, None)]
        todo += [(v, a, c) for c in job["classes"] for v, a in (("unit", unit), ("noclip", noclip))]
        todo += [("unit", unit, "__no_such_class__")]
        for variant, anns, name in todo:
            mask, crash, failures = density(anns, w, h, name)
            key = f"{case['name']}|{variant}|{name or '*'}"
            if mask is not None:
                arrays[key] = mask
            out["runs"].append({"key": key, "crash": crash, "failures": failures})
    return out, arrays


def timed(func, repeats):
    func()
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        runs.append(time.perf_counter() - t0)
    return {"median": statistics.median(runs), "min": min(runs)}


def timings(job):
    res = {}
    mask = np.load(job["mask"])
    res["mask_to_heatmap"] = timed(lambda: mask_to_heatmap(mask), job["repeats"])
    hm = mask_to_heatmap(mask)
    res["np_image_to_data_url"] = timed(lambda: np_image_to_data_url(hm), job["repeats"])
    res["render total"] = timed(lambda: np_image_to_data_url(mask_to_heatmap(mask)), job["repeats"])
    try:
        widget = Heatmap(heatmap_mask=mask)
        res["Heatmap.set_heatmap"] = timed(lambda: widget.set_heatmap(mask), job["repeats"])
    except Exception as e:
        res["Heatmap.set_heatmap"] = {"error": f"{type(e).__name__}: {e}"}
    meta = sly.ProjectMeta.from_json(json.load(open(job["density_meta"])))
    t0 = time.perf_counter()
    anns = [sly.Annotation.load_json_file(p, meta) for p in job["density_anns"]]
    res["load annotations"] = {"median": time.perf_counter() - t0, "min": time.perf_counter() - t0}
    for side, repeats in zip(job["density_sides"], job["density_repeats"]):
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            mask = real(anns, side, side, None)
            runs.append(time.perf_counter() - t0)
        res[f"density {side}"] = {"median": statistics.median(runs), "min": min(runs)}
        np.save(job["density_out"].format(side=side), mask)
    noclip = load(json.load(open(job["density_meta"])), job["density_anns"], clip=False)
    np.save(job["density_out"].format(side="noclip"), real(noclip, 1024, 1024, None))
    return res


def main():
    job = json.load(open(sys.argv[1]))
    results = {"version": getattr(sly, "__version__", "?"), "projects": {}}
    try:
        import skimage
        results["skimage"] = skimage.__version__
    except ImportError:
        results["skimage"] = None
    for p in job["projects"]:
        out, arrays = project(p)
        np.savez(p["out"], **arrays)
        results["projects"][p["name"]] = out
    if job.get("timing"):
        results["timing"] = timings(job["timing"])
    json.dump(results, open(job["result"], "w"))


main()
'''


def run_sdk(sdk_python: str, job: dict[str, Any], tmp: Path) -> dict[str, Any]:
    helper = tmp / "sdk_helper.py"
    helper.write_text(SDK_HELPER)
    job_path = tmp / "job.json"
    job_path.write_text(json.dumps(job))
    proc = subprocess.run(
        [sdk_python, str(helper), str(job_path)], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-8000:])
        raise SystemExit(f"SDK helper failed with exit code {proc.returncode}")
    return json.loads(Path(job["result"]).read_text())


# =========================================================================== ours


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


# =========================================================================== comparison


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


# =========================================================================== timing


def load_run_module() -> Any:
    spec = importlib.util.spec_from_file_location("_bench_run", Path(__file__).with_name("run.py"))
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["_bench_run"] = mod
    spec.loader.exec_module(mod)
    return mod


def timed(func: Callable[[], object], repeats: int) -> dict[str, float]:
    func()
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        runs.append(time.perf_counter() - t0)
    return {"median": statistics.median(runs), "min": min(runs)}


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


# =========================================================================== output


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


# =========================================================================== main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
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
        projects = []
        counts: Counter[str] = Counter()
        for i in range(args.projects):
            gen = ProjectGenerator(rng, args.crossing, counts)
            root = tmp / f"p{i:02d}"
            gen.write(root)
            layout = ours.find_annotations(root)
            paths = [it.ann_path for it in layout.items]
            assert len(paths) == len(list(root.glob("*/ann/*.json"))), (
                "find_annotations missed files"
            )
            meta_json = json.loads((root / "meta.json").read_text())
            projects.append(
                {
                    "name": f"p{i:02d}",
                    "meta": str(root / "meta.json"),
                    "anns": [str(p) for p in paths],
                    "cases": gen.cases(),
                    "classes": [c["title"] for c in meta_json["classes"]],
                    "out": str(tmp / f"p{i:02d}.npz"),
                    "weighted": [
                        c["title"] for c in meta_json["classes"] if c["shape"] in WEIGHTED_SHAPES
                    ],
                }
            )
        for j, (pname, probe) in enumerate(PROBES.items()):
            root = tmp / f"probe{j}"
            write_probe(root, probe)
            projects.append(
                {
                    "name": f"probe{j}",
                    "probe": pname,
                    "meta": str(root / "meta.json"),
                    "anns": [str(p) for p in sorted((root / "ds" / "ann").glob("*.json"))],
                    "cases": [probe["case"]],
                    "classes": [c["title"] for c in probe["classes"]],
                    "out": str(tmp / f"probe{j}.npz"),
                    "weighted": [
                        c["title"] for c in probe["classes"] if c["shape"] in WEIGHTED_SHAPES
                    ],
                }
            )
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
        print(
            table(
                rows,
                ["probe", "SDK", "ours", "ours vs SDK replay (skips crashing labels)", "verdict"],
            )
        )

        if ctx is not None:
            t_sdk = sdk["timing"]
            t_ours = ours_timings(ctx, args.timing_side, args.repeats)
            side = args.timing_side
            print(
                f"\nTimings (median of {args.repeats}; density: 100 annotations x 10 labels, "
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
                d = compare(
                    t_ours["_maps"][s], np.load(job["timing"]["density_out"].format(side=s))
                )
                same = "  (identical map)"
                if not d.exact:
                    ok = within_91(d.n, t_ours["_maps"][s].size, d.max_abs)
                    same = f"  ({d.n} px = {fmt_pct(d.frac)} differ, max {d.max_abs:g}: " + (
                        "within 9.1" if ok else "OVER 9.1"
                    )
                    if s == 1024:
                        nc = np.load(job["timing"]["density_out"].format(side="noclip"))
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
            print(table(rows, ["what", "time"]))
        bad = any(r.verdict == "BUG" for r in results)
        return 1 if bad else 0
    finally:
        if args.keep:
            print(f"\nkept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
