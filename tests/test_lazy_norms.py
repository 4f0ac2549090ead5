"""Norms and the threshold on lazy masks (behaviour §11 + §13) against the in-memory path.

Every picture, limit, layer field and histogram of a lazy (dask / zarr) mask must equal the
in-memory one bit for bit; the in-memory path is the reference (its own tests pin it to
matplotlib), never the lazy code. Small masks with small chunks: blur windows straddle
chunk borders.
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from napari_heatmap import Heatmap, mask_to_rgba
from napari_heatmap._field import Field, prepare
from napari_heatmap._lazy import LazyField
from napari_heatmap._norms import Norm

#: (norm keywords, threshold) pairs; a threshold of None is no threshold.
CASES = [
    ({"norm": "linear"}, 0.4),
    ({"norm": "log"}, None),
    ({"norm": "log"}, 2.0),
    ({"norm": "symlog", "linthresh": 0.5}, None),
    ({"norm": "symlog", "linthresh": 2.0}, -1.0),
    ({"norm": "centered", "vcenter": 0.3}, None),
    ({"norm": "centered", "vcenter": -0.5}, 0.0),
]
IDS = [f"{kw['norm']}-{thr}" for kw, thr in CASES]


def hostile(seed: int, shape: tuple[int, ...]) -> np.ndarray:
    """Heavy-tailed values with zeros, negatives, NaN and ±inf (float32)."""
    rng = np.random.default_rng(seed)
    m = rng.normal(0, 2, shape) * np.exp(rng.normal(0, 1.5, shape))
    m[rng.random(shape) < 0.08] = 0
    flat = m.reshape(-1)
    spots = rng.permutation(flat.size)[:60]
    flat[spots[:40]], flat[spots[40:50]], flat[spots[50:]] = np.nan, np.inf, -np.inf
    return m.astype(np.float32)


def norm_of(kw: dict) -> Norm:
    return Norm(kw["norm"], kw.get("linthresh", 1.0), kw.get("vcenter", 0.0))


@pytest.mark.parametrize("pcts", [(0.0, 100.0), (5.0, 95.0)])
@pytest.mark.parametrize(("kw", "threshold"), CASES, ids=IDS)
def test_mask_to_rgba_of_a_lazy_mask_equals_in_memory_under_every_norm(kw, threshold, pcts):
    m = hostile(1, (90, 200))
    options = {"threshold": threshold, "percentiles": pcts, **kw}
    lazy = mask_to_rgba(da.from_array(m, chunks=(13, 70)), "turbo", True, **options)
    assert isinstance(lazy, da.Array)
    want = mask_to_rgba(m, "turbo", True, **options)
    np.testing.assert_array_equal(lazy.compute(), want, strict=True)


@pytest.mark.parametrize(("kw", "threshold"), CASES, ids=IDS)
def test_mask_to_rgba_of_a_lazy_stack_equals_in_memory_under_every_norm(kw, threshold):
    m = hostile(2, (3, 60, 140))
    got = mask_to_rgba(
        da.from_array(m, chunks=(2, 17, 64)), threshold=threshold, stack=True, **kw
    ).compute()
    want = mask_to_rgba(m, threshold=threshold, stack=True, **kw)
    assert got.shape == (3, 60, 140, 4)
    np.testing.assert_array_equal(got, want, strict=True)


@pytest.mark.parametrize(
    "m",
    [
        hostile(3, (70, 150)),
        np.arange(-3000, 7500, dtype=np.int16).reshape(70, 150),  # integers, many <= 0
        np.linspace(-1e35, 1e35, 70 * 150).reshape(70, 150),  # beyond float32: scaled display
    ],
    ids=["float32", "int16", "huge"],
)
@pytest.mark.parametrize("pcts", [(0.0, 100.0), (1.0, 99.0), (0.0, 95.0)])
def test_log_limits_use_the_positive_values_exactly_as_in_memory(m, pcts):
    lazy = prepare(da.from_array(m, chunks=(16, 64)), (5, 5), None)
    memory = prepare(m, (5, 5), None)
    assert isinstance(lazy, LazyField) and isinstance(memory, Field)
    positives = m[np.isfinite(m) & (m > 0)]
    assert memory.positive_range == (float(positives.min()), float(positives.max()))
    assert lazy.positive_range == memory.positive_range
    log = Norm("log")
    assert lazy.limits(None, None, pcts, log) == memory.limits(None, None, pcts, log)
    top = memory.data_range[1]  # a given vmax, the other inferred
    assert lazy.limits(None, top, pcts, log) == memory.limits(None, top, pcts, log)
    centred = Norm("centered", vcenter=1.0)
    assert lazy.limits(None, None, pcts, centred) == memory.limits(None, None, pcts, centred)


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("bins", [1, 7, 128])
def test_lazy_histograms_equal_the_in_memory_ones(log, bins):
    m = hostile(4, (3, 50, 90))
    lazy = prepare(da.from_array(m, chunks=(2, 16, 32)), None, None, stack=True)
    memory = prepare(m, None, None, stack=True)
    got, want = lazy.histogram(bins, log=log), memory.histogram(bins, log=log)
    assert got is not None and want is not None
    np.testing.assert_array_equal(got[0], want[0], strict=True)
    np.testing.assert_array_equal(got[1], want[1])
    counted = (np.isfinite(m) & (m > 0)) if log else np.isfinite(m)
    assert got[0].sum() == counted.sum()


def test_a_lazy_mask_with_no_positive_value_refuses_log_by_name(viewer):
    mask = da.from_array(-np.arange(64.0).reshape(8, 8), chunks=4)
    hm = Heatmap(heatmap_mask=mask, viewer=viewer)
    data = hm.heatmap_layer.data
    with pytest.raises(ValueError, match="norm='log' needs positive values"):
        hm.norm = "log"
    with pytest.raises(ValueError, match="norm='log' needs positive values"):
        mask_to_rgba(mask, norm="log")
    assert (hm.norm, hm.limits) == ("linear", (-63.0, 0.0))
    assert hm.heatmap_layer.data is data
    assert prepare(mask, None, None).histogram(8, log=True) is None


@pytest.mark.parametrize(("kw", "threshold"), CASES, ids=IDS)
def test_a_lazy_heatmap_layer_holds_the_in_memory_layer_field_on_every_level(viewer, kw, threshold):
    m = hostile(5, (3, 150, 260))
    lazy_mask = da.from_array(m, chunks=(2, 40, 64))
    hm = Heatmap(heatmap_mask=lazy_mask, stack=True, viewer=viewer, threshold=threshold, **kw)
    memory = Heatmap(heatmap_mask=m, stack=True, viewer=viewer, threshold=threshold, **kw)
    assert hm.limits == memory.limits
    np.testing.assert_array_equal(hm.to_rgba().compute(), memory.to_rgba(), strict=True)
    layer, mem_layer = hm.heatmap_layer, memory.heatmap_layer
    assert layer.multiscale
    assert tuple(layer.contrast_limits) == tuple(mem_layer.contrast_limits)
    assert layer.contrast_limits_range == mem_layer.contrast_limits_range
    want = np.asarray(mem_layer.data)
    assert len(layer.data) == 1  # a small mask: the base only (levels: see the next test)
    np.testing.assert_array_equal(np.asarray(layer.data[0]), want, strict=True)
    hm.vmax = memory.vmax = 3.0  # a new limit: every level again equals the in-memory field
    np.testing.assert_array_equal(
        np.asarray(hm.heatmap_layer.data[0]), np.asarray(memory.heatmap_layer.data), strict=True
    )


def test_lazy_pyramid_levels_of_a_norm_apply_it_to_the_computed_overview(monkeypatch):
    from napari_heatmap import _lazy

    monkeypatch.setattr(_lazy, "OVERVIEW_SIDE", 100)
    m = hostile(6, (2, 300, 500))
    lazy = prepare(da.from_array(m, chunks=(1, 64, 128)), (5, 5), None, stack=True)
    memory = prepare(m, (5, 5), None, stack=True)
    norm, limits = Norm("symlog", linthresh=0.5), (-3.0, 40.0)
    levels = _lazy.pyramid(lazy.display_base, top=80)
    monkeypatch.setattr(_lazy, "pyramid", lambda base: levels)
    got = lazy.layer_field(norm, limits, 0.1)
    want = memory.layer_field(norm, limits, 0.1)
    assert [isinstance(level, np.ndarray) for level in got] == [False, False, False, True]
    for i, level in enumerate(got):
        np.testing.assert_array_equal(np.asarray(level), want[..., :: 2**i, :: 2**i], strict=True)


@pytest.mark.parametrize("norm", ["linear", "log", "symlog"])
def test_a_limit_change_on_a_lazy_heatmap_recomputes_no_pixel(viewer, norm):
    m = np.abs(hostile(7, (80, 120))) + 0.5
    hm = Heatmap(heatmap_mask=da.from_array(m, chunks=32), viewer=viewer, norm=norm)
    data = hm.heatmap_layer.data
    first = data[0]
    hm.vmin, hm.vmax = 1.0, 40.0
    hm.percentiles = (2, 98)
    hm.colormap, hm.opacity, hm.transparent_low = "hot", 40, True
    assert hm.heatmap_layer.data is data and hm.heatmap_layer.data[0] is first
    if norm == "linear":  # the linear norm's layer is the display pyramid itself
        assert first is hm._field.display[0]
    hm.threshold = 4.0  # a threshold is a new (lazy) field
    assert hm.heatmap_layer.data[0] is not first
