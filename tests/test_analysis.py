"""Robust limits and statistics (issue 10, first part): percentiles and stats against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from napari_heatmap import Heatmap, mask_to_rgba
from napari_heatmap._pipeline import percentile_of_sorted, sorted_finite

RNG = np.random.default_rng(11)
QS = (0, 0.1, 1, 2.5, 5, 25, 33.3, 50, 75, 95, 98, 99, 99.9, 100)


def hostile(dtype, shape=(37, 53)):
    """Random values with NaN, ±inf, zeros and negatives (NaN/inf only in float types)."""
    values = RNG.normal(0, 50, shape)
    values[RNG.random(shape) < 0.1] = 0
    out = values.astype(dtype)
    if np.issubdtype(dtype, np.floating):
        flat = out.reshape(-1)
        spots = RNG.permutation(flat.size)[:30]
        flat[spots[:20]], flat[spots[20:25]], flat[spots[25:]] = np.nan, np.inf, -np.inf
    return out


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16, np.uint8, np.int64])
def test_percentiles_equal_numpys_default_method(dtype):
    for _ in range(20):
        gray = hostile(dtype, (int(RNG.integers(6, 40)), int(RNG.integers(6, 40))))
        finite = gray[np.isfinite(gray)]
        if finite.size == 0:
            continue
        values = sorted_finite(gray)
        for q in QS:
            assert percentile_of_sorted(values, q) == float(np.percentile(finite, q)), (dtype, q)


def test_percentile_limits_ignore_outliers_and_colour_the_screen(viewer):
    mask = hostile(np.float32)
    mask[0, 0] = 1e6  # one outlier
    finite = mask[np.isfinite(mask)]
    hm = Heatmap(heatmap_mask=mask, blur_ksize=None, viewer=viewer)
    assert hm.limits == (float(finite.min()), 1e6)
    seen = []
    hm.events.percentiles.connect(lambda e: seen.append(("percentiles", e.value)))
    hm.events.limits.connect(lambda e: seen.append(("limits", e.value)))
    data_before = hm.heatmap_layer.data
    hm.percentiles = (2, 98)
    expected = (float(np.percentile(finite, 2)), float(np.percentile(finite, 98)))
    assert hm.limits == expected and hm.percentiles == (2.0, 98.0)
    assert seen == [("percentiles", (2.0, 98.0)), ("limits", expected)]
    assert hm.heatmap_layer.data is data_before  # no new display field: only the limits moved
    rgba = mask_to_rgba(mask, blur_ksize=None, percentiles=(2, 98))
    np.testing.assert_array_equal(rgba, mask_to_rgba(mask, 2, False, *expected, None))
    hm.vmin = 0.0  # an explicit limit wins; the other stays the percentile
    assert hm.limits == (0.0, expected[1])


@pytest.mark.parametrize(
    "bad",
    [
        (50, 10),
        (-1, 50),
        (0, 101),
        (0, float("nan")),
        5,
        (1, 2, 3),
        (True, 50),
        ("a", 3),
        (0, 10**400),
    ],
)
def test_bad_percentiles_are_refused_by_name_and_change_nothing(viewer, bad):
    hm = Heatmap(heatmap_mask=np.arange(12.0).reshape(3, 4), viewer=viewer)
    with pytest.raises(ValueError, match="percentiles must be a pair"):
        hm.percentiles = bad
    with pytest.raises(ValueError, match="percentiles must be a pair"):
        mask_to_rgba(np.ones((2, 2)), percentiles=bad)
    assert hm.percentiles == (0.0, 100.0) and hm.limits == (0.0, 11.0)


def test_stats_match_numpy_and_are_measured_once(viewer, monkeypatch):
    from napari_heatmap import _pipeline

    mask = hostile(np.float64)
    hm = Heatmap(heatmap_mask=mask, viewer=viewer)
    assert not hm.stats_measured
    sorts = []
    real = _pipeline.sorted_finite
    monkeypatch.setattr(_pipeline, "sorted_finite", lambda g: sorts.append(1) or real(g))
    stats = hm.stats
    finite = mask[np.isfinite(mask)]
    assert stats["count"] == mask.size and stats["finite"] == finite.size
    assert (stats["nan"], stats["posinf"], stats["neginf"]) == (20, 5, 5)
    assert stats["min"] == finite.min() and stats["max"] == finite.max()
    assert stats["mean"] == pytest.approx(finite.mean(), rel=1e-12)
    assert stats["std"] == pytest.approx(finite.std(), rel=1e-12)
    for q in (1, 5, 25, 50, 75, 95, 99):
        assert stats[f"p{q}"] == float(np.percentile(finite, q))
    hm.percentiles = (5, 95)  # the same sorted values serve the percentiles
    hm.blur_ksize = (3, 3)  # and survive a new blur (same raw values)
    assert hm.stats == stats and len(sorts) == 1 and hm.stats_measured
    hm.set_heatmap(mask * 2)
    assert not hm.stats_measured and hm.stats["max"] == 2 * finite.max()


def test_no_mask_or_no_finite_value(viewer):
    hm = Heatmap(heatmap_mask=np.full((2, 2), np.nan), viewer=viewer, percentiles=(1, 99))
    assert hm.limits is None and hm.stats["finite"] == 0 and hm.stats["mean"] is None
    hm.set_heatmap(None)
    assert hm.stats is None
