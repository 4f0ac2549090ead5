"""Norms and the threshold (issue 10, behaviour §11): colours against matplotlib's norms.

matplotlib is the reference (a test dependency): its ``Normalize``, ``LogNorm``,
``SymLogNorm(linthresh, linscale=1, base=10)`` and ``TwoSlopeNorm(vcenter)`` give t, and the
colour is OpenCV's table at round(255·t), halves up. The limits are worked out here from
the rules of §11 with NumPy, not by the code under test.
"""

from __future__ import annotations

import cv2
import matplotlib.colors as mcolors
import numpy as np
import pytest

from _colours import gpu_rgba, visible_rgba
from napari_heatmap import Heatmap, mask_to_rgba

RNG = np.random.default_rng(2026)
NORMS = ("linear", "log", "symlog", "centered")


def hostile(shape=(41, 57), scale=50.0):
    """Random values with NaN, ±inf, zeros and negatives, heavy-tailed (log-normal part)."""
    values = RNG.normal(0, scale, shape) * np.exp(RNG.normal(0, 1.5, shape))
    values[RNG.random(shape) < 0.08] = 0
    flat = values.reshape(-1)
    spots = RNG.permutation(flat.size)[:40]
    flat[spots[:25]], flat[spots[25:32]], flat[spots[32:]] = np.nan, np.inf, -np.inf
    return values


def display_of(mask):
    """The display field with no blur (behaviour §2.3): ±inf become the finite max / min."""
    d = mask.astype(np.float64)
    finite = d[np.isfinite(d)]
    d[np.isposinf(d)], d[np.isneginf(d)] = finite.max(), finite.min()
    return d


def reference_limits(mask, norm, vmin=None, vmax=None, vcenter=0.0, percentiles=(0, 100)):
    """The limits of §11, from NumPy."""
    finite = mask[np.isfinite(mask)].astype(np.float64)
    if norm == "log":
        finite = finite[finite > 0]
    lo = float(np.percentile(finite, percentiles[0])) if vmin is None else vmin
    hi = float(np.percentile(finite, percentiles[1])) if vmax is None else vmax
    if norm == "centered" and vmin is None and vmax is None:
        reach = max(vcenter - lo, hi - vcenter)
        lo, hi = vcenter - reach, vcenter + reach
    return lo, hi


def matplotlib_t(d, norm, limits, linthresh=1.0, vcenter=0.0):
    lo, hi = limits
    if norm == "linear":
        mnorm = mcolors.Normalize(lo, hi)
    elif norm == "log":
        mnorm = mcolors.LogNorm(lo, hi)
    elif norm == "symlog":
        mnorm = mcolors.SymLogNorm(linthresh, linscale=1.0, vmin=lo, vmax=hi, base=10)
    else:
        mnorm = mcolors.TwoSlopeNorm(vcenter, lo, hi)
    t = np.ma.filled(np.ma.asarray(mnorm(d)).astype(np.float64), np.nan)
    if norm == "log":
        t[d <= 0] = 0.0  # §11: values <= 0 count as below vmin (matplotlib masks them)
    return np.clip(t, 0.0, 1.0)


def table_of(colormap):
    """The (256, 4) RGBA table: OpenCV's own for its colormaps, napari's for the others."""
    if isinstance(colormap, int):
        bgr = cv2.applyColorMap(np.arange(256, dtype=np.uint8)[:, None], colormap)[:, 0]
        return np.concatenate([bgr[:, ::-1], np.full((256, 1), 255, np.uint8)], axis=1)
    from napari.utils.colormaps import ensure_colormap

    return np.round(ensure_colormap(colormap).map(np.arange(256) / 255) * 255).astype(np.uint8)


def reference_rgba(mask, colormap, norm, limits, transparent_low=False, threshold=None, **kw):
    d = display_of(mask)
    t = matplotlib_t(d, norm, limits, **kw)
    idx = np.floor(np.nan_to_num(t) * 255 + 0.5).astype(int)
    rgba = table_of(colormap)[idx]
    alpha = rgba[..., 3]
    alpha[np.isnan(t)] = 0
    if transparent_low:
        alpha[t < 1 / 255] = 0
    if threshold is not None:
        alpha[d < threshold] = 0
    return rgba


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("colormap", [cv2.COLORMAP_JET, "viridis", cv2.COLORMAP_TWILIGHT])
def test_colours_equal_matplotlibs_norms_on_hostile_data(norm, colormap):
    for trial in range(6):
        mask = hostile()
        kw = {"linthresh": float(RNG.choice([0.5, 1.0, 20.0]))} if norm == "symlog" else {}
        if norm == "centered":
            kw = {"vcenter": float(RNG.normal(0, 5))}
        explicit = trial % 2 == 1
        limits = reference_limits(mask, norm, vcenter=kw.get("vcenter", 0.0))
        if explicit:  # explicit limits inside the data, so both ends are clipped
            lo, hi = limits
            limits = (lo + (hi - lo) * 0.1, hi - (hi - lo) * 0.2)
            if norm == "log":
                limits = (limits[0] if limits[0] > 0 else 1e-3, limits[1])
            if norm == "centered":
                limits = (kw["vcenter"] - 30.0, kw["vcenter"] + 70.0)
        ours = mask_to_rgba(
            mask,
            colormap,
            trial % 3 == 0,
            *(limits if explicit else (None, None)),
            None,
            norm=norm,
            **kw,
        )
        expected = reference_rgba(mask, colormap, norm, limits, trial % 3 == 0, **kw)
        np.testing.assert_array_equal(visible_rgba(ours), visible_rgba(expected))


@pytest.mark.parametrize("norm", NORMS)
def test_threshold_hides_display_values_below_it_whatever_the_norm(norm):
    mask = hostile()
    threshold = 12.5
    plain = mask_to_rgba(mask, blur_ksize=None, norm=norm)
    cut = mask_to_rgba(mask, blur_ksize=None, norm=norm, threshold=threshold)
    d = display_of(mask)
    below = d < threshold
    assert below.any() and (~below & ~np.isnan(d)).any()
    assert (cut[below][:, 3] == 0).all()
    np.testing.assert_array_equal(cut[~below], plain[~below])  # the rest is untouched


def test_equal_limits_paint_the_middle_colour_under_every_norm():
    mask = np.full((4, 5), 3.0)
    mask[0, 0] = np.nan
    for norm in NORMS:
        kw = {"vcenter": 3.0} if norm == "centered" else {}
        rgba = mask_to_rgba(mask, blur_ksize=None, norm=norm, **kw)
        assert (rgba[1:, :, :3] == table_of(cv2.COLORMAP_JET)[128, :3]).all(), norm
        assert rgba[0, 0, 3] == 0 and (rgba.reshape(-1, 4)[1:, 3] == 255).all()


def test_log_percentiles_and_limits_use_the_positive_values_only():
    mask = hostile()
    positive = mask[np.isfinite(mask) & (mask > 0)]
    hm_limits = reference_limits(mask, "log", percentiles=(5, 95))
    assert hm_limits == (float(np.percentile(positive, 5)), float(np.percentile(positive, 95)))
    np.testing.assert_array_equal(
        mask_to_rgba(mask, blur_ksize=None, norm="log", percentiles=(5, 95)),
        mask_to_rgba(mask, 2, False, *hm_limits, None, norm="log"),
    )


@pytest.mark.parametrize(
    ("keywords", "match"),
    [
        ({"norm": "logarithmic"}, "norm must be one of"),
        ({"norm": 3}, "norm must be one of"),
        ({"linthresh": 0}, "linthresh must be greater than 0"),
        ({"linthresh": float("inf")}, "linthresh must be a finite number"),
        ({"vcenter": float("nan")}, "vcenter must be a finite number"),
        ({"vcenter": "0"}, "vcenter must be a finite number"),
        ({"threshold": float("nan")}, "threshold must be a finite number"),
        ({"threshold": True}, "threshold must be a finite number"),
        ({"norm": "log", "vmin": 0.0}, "norm='log' needs positive limits; got vmin=0.0"),
        ({"norm": "log", "vmax": -2.0}, "norm='log' needs positive limits; got vmax=-2.0"),
        ({"norm": "centered", "vcenter": 50.0, "vmax": 20}, "needs vmin < vcenter < vmax"),
    ],
)
def test_bad_norm_settings_are_refused_by_name_and_change_nothing(viewer, keywords, match):
    mask = np.arange(-5.0, 25.0).reshape(5, 6)
    hm = Heatmap(heatmap_mask=mask, blur_ksize=None, viewer=viewer)
    data, clim = hm.heatmap_layer.data, tuple(hm.heatmap_layer.contrast_limits)
    wrong_type = any(isinstance(v, str | bool) for k, v in keywords.items() if k != "norm")
    exc = TypeError if wrong_type else ValueError
    with pytest.raises(exc, match=match):
        hm._update(**keywords)
    with pytest.raises(exc, match=match):
        mask_to_rgba(mask, **keywords)
    with pytest.raises(exc, match=match):
        Heatmap(heatmap_mask=mask, viewer=viewer, **keywords)
    assert (hm.norm, hm.threshold, hm.limits) == ("linear", None, (-5.0, 24.0))
    assert hm.heatmap_layer.data is data and tuple(hm.heatmap_layer.contrast_limits) == clim
    assert len(Heatmap.instances(viewer)) == 1


def test_log_norm_on_a_mask_without_positive_values_is_refused_by_name(viewer):
    hm = Heatmap(heatmap_mask=-np.arange(12.0).reshape(3, 4), viewer=viewer)
    with pytest.raises(ValueError, match="norm='log' needs positive values"):
        hm.norm = "log"
    assert hm.norm == "linear" and hm.limits == (-11.0, 0.0)
    hm2 = Heatmap(heatmap_mask=np.arange(1.0, 13.0).reshape(3, 4), norm="log", viewer=viewer)
    with pytest.raises(ValueError, match="norm='log' needs positive values"):
        hm2.set_heatmap(-np.ones((3, 4)))
    assert hm2.limits == (1.0, 12.0)


@pytest.mark.parametrize("norm", NORMS)
def test_layer_paints_what_mask_to_rgba_paints(viewer, norm):
    """napari's own map of the layer (its data, contrast limits, colormap) = the CPU render."""
    mask = hostile((64, 80))
    kw = {"symlog": {"linthresh": 5.0}, "centered": {"vcenter": 4.0}}.get(norm, {})
    hm = Heatmap(heatmap_mask=mask, blur_ksize=(5, 5), viewer=viewer, norm=norm, **kw)
    for change in ({}, {"threshold": 7.0}, {"transparent_low": True}, {"colormap": "hot"}):
        hm._update(**change)
        expected = mask_to_rgba(
            mask,
            hm.colormap,
            hm.transparent_low,
            blur_ksize=(5, 5),
            norm=norm,
            threshold=hm.threshold,
            **kw,
        )
        np.testing.assert_array_equal(hm.to_rgba(), expected)
        same = (gpu_rgba(hm.heatmap_layer) == visible_rgba(expected)).all(axis=-1)
        assert same.mean() > 0.999, (norm, change, same.mean())


@pytest.mark.parametrize("norm", ["linear", "log", "symlog"])
def test_limit_colormap_and_opacity_changes_do_no_per_pixel_work(viewer, norm):
    mask = np.abs(hostile((32, 32))) + 0.5
    hm = Heatmap(heatmap_mask=mask, viewer=viewer, norm=norm, threshold=3.0)
    data = hm.heatmap_layer.data
    hm.vmin, hm.vmax = 1.0, 40.0
    hm.percentiles = (2, 98)
    hm.colormap, hm.opacity, hm.transparent_low = "hot", 40, True
    assert hm.heatmap_layer.data is data
    hm.threshold = 4.0  # a threshold or a norm is one pass: a new field
    assert hm.heatmap_layer.data is not data
    np.testing.assert_array_equal(gpu_rgba(hm.heatmap_layer)[..., 3] > 0, hm.to_rgba()[..., 3] > 0)


def test_centered_norm_makes_inferred_limits_symmetric_and_follows_vcenter(viewer):
    mask = np.linspace(-2.0, 10.0, 48).reshape(6, 8)
    seen = []
    hm = Heatmap(heatmap_mask=mask, blur_ksize=None, viewer=viewer)
    hm.events.norm.connect(lambda e: seen.append(("norm", e.value)))
    hm.events.limits.connect(lambda e: seen.append(("limits", e.value)))
    hm.norm = "centered"
    assert hm.limits == (-10.0, 10.0)
    hm.vcenter = 4.0
    assert hm.limits == (-2.0, 10.0)
    hm.vmin = -1.0  # one given: the other inferred as usual
    assert hm.limits == (-1.0, 10.0)
    assert seen == [
        ("norm", "centered"),
        ("limits", (-10.0, 10.0)),
        ("norm", "centered"),
        ("limits", (-2.0, 10.0)),
        ("limits", (-1.0, 10.0)),
    ]


def test_threshold_event_and_read_back(viewer):
    hm = Heatmap(heatmap_mask=np.arange(20.0).reshape(4, 5), blur_ksize=None, viewer=viewer)
    seen = []
    hm.events.threshold.connect(lambda e: seen.append(e.value))
    hm.threshold = 7
    assert hm.threshold == 7.0 and isinstance(hm.threshold, float)
    assert (
        np.isnan(hm.heatmap_layer.data[:1, :]).all()
        and not np.isnan(hm.heatmap_layer.data[2:]).any()
    )
    hm.threshold = None
    assert not np.isnan(hm.heatmap_layer.data).any()
    assert seen == [7.0, None]
    assert hm.click_at((1, 1)) == (1, 1, 6.0)  # clicks report raw values, hidden or not


def test_napari_contrast_limits_under_log_become_data_limits(viewer):
    mask = np.logspace(-2, 3, 60).reshape(6, 10)
    hm = Heatmap(heatmap_mask=mask, blur_ksize=None, viewer=viewer, norm="log")
    layer = hm.heatmap_layer
    lo, hi = np.log10(0.01), np.log10(1000.0)
    half = (hi - lo) / 510
    np.testing.assert_allclose(layer.contrast_limits, (lo - half, hi + half))
    a, b = 0.0, 2.0  # napari's slider, in the layer's log10 units
    width = (b - a) * 256 / 255
    layer.contrast_limits = (a - (width - (b - a)) / 2, b + (width - (b - a)) / 2)
    np.testing.assert_allclose((hm.vmin, hm.vmax), (1.0, 100.0), rtol=1e-9)
    assert hm.norm == "log"
    # the slider spans the positive values in log10 units, not the floor of values <= 0
    hm.set_heatmap(np.where(mask > 500, 0.0, mask))
    hm.vmin = hm.vmax = None
    top = np.log10(mask[mask <= 500].max())
    half = (top - lo) / 510
    np.testing.assert_allclose(layer.contrast_limits_range, (lo - half, top + half))
    layer.reset_contrast_limits()  # napari's auto-contrast: the limits are inferred again
    assert (hm.vmin, hm.vmax) == (None, None)
    np.testing.assert_allclose(layer.contrast_limits, (lo - half, top + half))


def test_colours_of_and_histogram_agree_with_the_picture(viewer):
    mask = hostile((50, 60))
    hm = Heatmap(heatmap_mask=mask, blur_ksize=None, viewer=viewer, norm="symlog", threshold=-3)
    d = display_of(mask)
    np.testing.assert_array_equal(hm.colours_of(d), hm.to_rgba())
    counts, edges = hm.histogram(bins=40)
    finite = mask[np.isfinite(mask)]
    expected, _ = np.histogram(finite, bins=40, range=(finite.min(), finite.max()))
    np.testing.assert_array_equal(counts, expected)
    assert edges[0] == finite.min() and edges[-1] == finite.max()
    hm.norm = "log"
    counts, edges = hm.histogram(bins=10)
    positive = finite[finite > 0]
    assert counts.sum() == positive.size
    np.testing.assert_allclose(np.diff(np.log10(edges)), np.log10(edges[-1] / edges[0]) / 10)
    with pytest.raises(ValueError, match="bins must be a positive int"):
        hm.histogram(bins=0)


def test_napari_slider_under_centered_maps_t_back_through_the_limits(viewer):
    mask = np.linspace(-4.0, 12.0, 64).reshape(8, 8)
    hm = Heatmap(heatmap_mask=mask, blur_ksize=None, viewer=viewer, norm="centered", vcenter=2.0)
    assert hm.limits == (-8.0, 12.0)
    layer = hm.heatmap_layer
    np.testing.assert_allclose(layer.contrast_limits, (-1 / 510, 1 + 1 / 510))
    # napari's slider moved to t in [0.25, 0.75] (widened): the limits halve on each side
    layer.contrast_limits = (0.25 - 0.5 / 510, 0.75 + 0.5 / 510)
    np.testing.assert_allclose((hm.vmin, hm.vmax), (-3.0, 7.0), rtol=1e-9)
    np.testing.assert_allclose(layer.contrast_limits, (-1 / 510, 1 + 1 / 510))  # t again
    same = (gpu_rgba(layer) == visible_rgba(hm.to_rgba())).all(axis=-1)
    assert same.mean() > 0.999
