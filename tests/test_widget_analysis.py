"""The dock's analysis controls: norm, threshold, histogram and the legend under norms."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib import colors as mcolors
from qtpy.QtCore import QPoint

from napari_heatmap import COLORMAP_NAMES
from napari_heatmap._colormaps import choose_colormap
from napari_heatmap._qt._legend import (
    Legend,
    LegendScale,
    gradient_rgba,
    scale_t,
    scale_ticks,
    thresholded,
)

pytestmark = pytest.mark.gui

JET = choose_colormap(COLORMAP_NAMES["jet"])


# ---------------------------------------------------------------- legend: where values sit


def _values(rng: np.random.Generator) -> np.ndarray:
    return np.concatenate([rng.normal(0, 30, 200), rng.uniform(-500, 500, 200), [0.0, 1.0, -1.0]])


@pytest.mark.parametrize(
    ("scale", "limits", "reference"),
    [
        (LegendScale("linear"), (-40.0, 90.0), mcolors.Normalize(-40.0, 90.0)),
        (LegendScale("log"), (0.5, 300.0), mcolors.LogNorm(0.5, 300.0)),
        (
            LegendScale("symlog", linthresh=2.0),
            (-300.0, 120.0),
            mcolors.SymLogNorm(2.0, linscale=1.0, vmin=-300.0, vmax=120.0, base=10),
        ),
        (
            LegendScale("centered", vcenter=10.0),
            (-50.0, 200.0),
            mcolors.TwoSlopeNorm(10.0, -50.0, 200.0),
        ),
    ],
    ids=["linear", "log", "symlog", "centered"],
)
def test_legend_positions_follow_matplotlibs_norms(scale, limits, reference):
    values = _values(np.random.default_rng(7))
    if scale.norm == "log":
        values = values[values > 0]
    expected = np.clip(np.ma.filled(reference(values), np.nan), 0.0, 1.0)
    np.testing.assert_allclose(scale_t(values, limits, scale), expected, atol=1e-12)


def test_log_positions_put_non_positive_values_at_the_left_end():
    t = scale_t(np.array([-5.0, 0.0, 1.0, 100.0]), (1.0, 100.0), LegendScale("log"))
    np.testing.assert_allclose(t, [0.0, 0.0, 0.0, 1.0])


def test_ticks_are_decades_for_log_linthresh_and_decades_for_symlog_vcenter_for_centered():
    assert scale_ticks((0.5, 3000.0), LegendScale("log")) == [1.0, 10.0, 100.0, 1000.0]
    assert (
        scale_ticks((-300.0, 120.0), LegendScale("symlog", linthresh=5.0))
        == [
            -100.0,
            -10.0,
            -5.0,
            0.0,
            5.0,
            10.0,
            100.0,
        ][::2]
    )  # seven inside: thinned to every other one
    assert scale_ticks((-50.0, 50.0), LegendScale("symlog", linthresh=20.0)) == [-20.0, 0.0, 20.0]
    assert scale_ticks((-50.0, 200.0), LegendScale("centered", vcenter=10.0)) == [10.0]
    assert scale_ticks((0.0, 255.0), LegendScale("linear")) == []


def test_bar_colours_are_the_table_at_round_255t_whatever_the_norm():
    row = gradient_rgba(JET, False)
    for scale in (LegendScale("log"), LegendScale("centered", vcenter=3.0)):
        same = thresholded(row, (1.0, 100.0), scale)  # no threshold: the very same colours
        np.testing.assert_array_equal(same, row)
    t = (np.arange(row.shape[0]) + 0.5) / row.shape[0]
    np.testing.assert_array_equal(row, JET.table[np.floor(t * 255 + 0.5).astype(int)])


def test_bar_below_the_threshold_is_transparent_at_its_position_under_the_norm():
    row = gradient_rgba(JET, False)
    scale = LegendScale("log", threshold=10.0)
    out = thresholded(row, (1.0, 1000.0), scale)  # 10 sits at a third of a log axis 1…1000
    hidden = np.flatnonzero(out[:, 3] == 0)
    assert hidden[0] == 0 and hidden[-1] == round(row.shape[0] / 3) - 1
    np.testing.assert_array_equal(out[hidden[-1] + 1 :], row[hidden[-1] + 1 :])
    # a threshold at or below vmin hides nothing on the bar
    below = thresholded(row, (1.0, 1000.0), LegendScale("log", threshold=0.5))
    np.testing.assert_array_equal(below, row)


def test_legend_widget_shows_ticks_under_a_norm_and_checkers_below_the_threshold(qtbot):
    legend = Legend()
    qtbot.addWidget(legend.native)
    legend.native.resize(400, 80)
    legend.show_state(JET, (1.0, 1000.0), (0.5, 2000.0), False, LegendScale("log", threshold=10.0))
    legend.native.show()
    qtbot.waitExposed(legend.native)
    assert [label for _, label in legend.ticks.ticks] == ["10", "100"]
    np.testing.assert_allclose([t for t, _ in legend.ticks.ticks], [1 / 3, 2 / 3])
    assert legend.ticks.isVisible()
    bar = legend.bar.native
    x_tick = legend.ticks.tick_x(2 / 3)
    bar_x = legend.ticks.mapFromGlobal(bar.mapToGlobal(QPoint(0, 0))).x()
    assert x_tick == pytest.approx(bar_x + bar.width() * 2 / 3)
    image = bar.pixmap().toImage()
    w = image.width()
    left = {image.pixelColor(x, y).getRgb()[:3] for x in range(0, w // 4) for y in range(8)}
    # transparent: the checkerboard (Xvfb may keep pixmaps at 16 bits: a few levels off)
    assert {min((204, 153), key=lambda g: abs(g - c[0])) for c in left} == {204, 153}
    assert all(min(abs(v - 204), abs(v - 153)) <= 4 for c in left for v in c)
    c = image.pixelColor(w - 3, 0)
    assert abs(c.red() - int(JET.table[-1, 0])) <= 8  # the top colour (up to screen depth)
    assert "below the threshold" in legend.under.native.toolTip()
    legend.show_state(JET, (1.0, 1000.0), (0.5, 2000.0), False)  # linear: no ticks
    assert legend.ticks.ticks == [] and not legend.ticks.isVisible()
