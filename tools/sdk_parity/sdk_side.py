"""Runs in the SDK's interpreter: density maps by the SDK's own Heatmap code.

Run by path, never imported by the plugin's side: ``<sdk-python> sdk_side.py job.json``. It
imports only the SDK and its dependencies (numpy), reads the job written by `compare.run_sdk`
and writes the SDK's maps (``.npz``) and a JSON result.
"""

import json
import statistics
import sys
import time
import types
from pathlib import Path

import numpy as np
import supervisely as sly
from _timed import timed  # this folder is first on sys.path when run by path
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
                    failures.append(
                        {
                            "ann": ai,
                            "label": li,
                            "class": label.obj_class.name,
                            "geometry": label.geometry.geometry_name(),
                            "bbox": bbox,
                            "error": f"{type(e).__name__}: {str(e)[:160]}",
                        }
                    )
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
    (the SDK's load-time shapely crop switched off, everything else cropped as usual).
    """
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
    meta_json = _read_json(job["meta"])
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
    nograph = [
        types.SimpleNamespace(
            img_size=a.img_size,
            labels=[lb for lb in a.labels if shape_of.get(lb.obj_class.name) not in WEIGHTED],
        )
        for a in raw
    ]
    for case in job["cases"]:
        w, h = case["width"], case["height"]
        todo = [
            ("raw", raw, None),
            ("unit", unit, None),
            ("noclip", noclip, None),
            ("nograph", nograph, None),
        ]
        todo += [(v, a, c) for c in job["classes"] for v, a in (("unit", unit), ("noclip", noclip))]
        todo += [("unit", unit, "__no_such_class__")]
        for variant, anns, name in todo:
            mask, crash, failures = density(anns, w, h, name)
            key = f"{case['name']}|{variant}|{name or '*'}"
            if mask is not None:
                arrays[key] = mask
            out["runs"].append({"key": key, "crash": crash, "failures": failures})
    return out, arrays


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
    meta = sly.ProjectMeta.from_json(_read_json(job["density_meta"]))
    t0 = time.perf_counter()
    anns = [sly.Annotation.load_json_file(p, meta) for p in job["density_anns"]]
    res["load annotations"] = {"median": time.perf_counter() - t0, "min": time.perf_counter() - t0}
    for side, repeats in zip(job["density_sides"], job["density_repeats"], strict=True):
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            mask = real(anns, side, side, None)
            runs.append(time.perf_counter() - t0)
        res[f"density {side}"] = {"median": statistics.median(runs), "min": min(runs)}
        np.save(job["density_out"].format(side=side), mask)
    noclip = load(_read_json(job["density_meta"]), job["density_anns"], clip=False)
    np.save(job["density_out"].format(side="noclip"), real(noclip, 1024, 1024, None))
    return res


def dataset_timing(job):
    """The SDK's own way from files to a density: meta, every annotation file, the density."""
    runs = []
    for _ in range(job["repeats"]):
        t0 = time.perf_counter()
        meta = sly.ProjectMeta.from_json(_read_json(job["meta"]))
        anns = [sly.Annotation.load_json_file(p, meta) for p in job["anns"]]
        mask = real(anns, None, None, None)
        runs.append(time.perf_counter() - t0)
    np.save(job["out"], mask)
    return {"median": statistics.median(runs), "min": min(runs), "runs": runs}


def _read_json(path):
    return json.loads(Path(path).read_text())


def main():
    job = _read_json(sys.argv[1])
    results = {"version": getattr(sly, "__version__", "?"), "projects": {}}
    try:
        import skimage

        results["skimage"] = skimage.__version__
    except ImportError:
        results["skimage"] = None
    for p in job.get("projects", []):
        out, arrays = project(p)
        np.savez(p["out"], **arrays)
        results["projects"][p["name"]] = out
    if job.get("timing"):
        results["timing"] = timings(job["timing"])
    if job.get("dataset_timing"):
        results["dataset_timing"] = dataset_timing(job["dataset_timing"])
    Path(job["result"]).write_text(json.dumps(results))


main()
