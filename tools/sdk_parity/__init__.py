"""Density-map parity of ``napari_heatmap.supervisely`` against the real Supervisely SDK.

Run with the plugin's environment and point ``--sdk-python`` at an interpreter that has the
Supervisely SDK (6.74.51) installed; the two never share a process (the SDK side, `sdk_side`,
is a module run by path in the SDK's interpreter)::

    python -m tools.sdk_parity --sdk-python /tmp/slyvenv/bin/python --projects 12 --seed 0

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

``benchmarks/datasets.py`` reuses the SDK side (a job with ``dataset_timing`` only) to time the
SDK's own way from files to a density (``ProjectMeta``, ``Annotation.load_json_file`` of every
file, ``Heatmap.set_heatmap_from_annotations``) on a project written by
`generate.write_random_project`.

Modules: `generate` (random projects and crash probes), `sdk_side` (runs in the SDK's
interpreter), `compare` (ours against the SDK's maps, pixel classes, verdicts), `timing`,
`report` (the tables), `__main__` (the command line).
"""
