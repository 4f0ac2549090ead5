"""The dock's analysis controls: norm, threshold, histogram and the legend under norms."""

from __future__ import annotations

import os

import numpy as np
import pytest
from matplotlib import colors as mcolors
from qtpy.QtCore import QPoint, Qt
from qtpy.QtTest import QTest

from _canvas import widget_pixels
from napari_heatmap import COLORMAP_NAMES, Heatmap
from napari_heatmap._colormaps import choose_colormap
from napari_heatmap._qt._legend import (
    Legend,
    LegendScale,
    gradient_rgba,
    scale_t,
    scale_ticks,
    thresholded,
)
from napari_heatmap._qt.widget import HISTOGRAM_BINS, HeatmapWidget

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


# ---------------------------------------------------------------- the dock


def _mask() -> np.ndarray:
    """A fixed mask: log-normal values with zeros, negatives, NaN and ±inf."""
    rng = np.random.default_rng(3)
    mask = rng.lognormal(2.0, 1.0, (120, 160))
    mask[:10] = 0.0
    mask[10:20, :40] = -rng.uniform(0, 5, (10, 40))
    mask[50, 50], mask[51, 51], mask[52, 52] = np.nan, np.inf, -np.inf
    return mask


@pytest.fixture
def errors(monkeypatch) -> list[str]:
    """Messages the dock reports with ``show_error``."""
    seen: list[str] = []
    monkeypatch.setattr("napari_heatmap._qt.widget.show_error", seen.append)
    return seen


def _dock(make_napari_viewer, show: bool = False) -> tuple[Heatmap, HeatmapWidget]:
    viewer = make_napari_viewer(show=show)
    hm = Heatmap(None, _mask(), viewer=viewer, blur_ksize=None)
    widget = HeatmapWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Heatmap")
    return hm, widget


def _type(qtbot, line_edit, text: str) -> None:
    """Replace a text field's text and press Enter, as a user does."""
    native = line_edit.native
    native.selectAll()
    qtbot.keyClicks(native, text)
    qtbot.keyClick(native, Qt.Key.Key_Return)


def _shown(widget) -> bool:
    return not widget.native.isHidden()


def test_norm_choice_sets_the_heatmap_and_shows_only_its_parameter(
    make_napari_viewer, qtbot, errors
):
    hm, widget = _dock(make_napari_viewer)
    assert widget.norm.value == "linear"
    assert not _shown(widget.linthresh) and not _shown(widget.vcenter)
    widget.norm.value = "symlog"
    assert hm.norm == "symlog"
    assert _shown(widget.linthresh) and not _shown(widget.vcenter)
    _type(qtbot, widget.linthresh.number, "2.5")
    assert hm.linthresh == 2.5
    widget.norm.value = "centered"
    assert hm.norm == "centered" and _shown(widget.vcenter) and not _shown(widget.linthresh)
    _type(qtbot, widget.vcenter.number, "3")
    assert hm.vcenter == 3.0
    widget.norm.value = "log"
    assert hm.norm == "log" and not _shown(widget.vcenter)
    assert errors == []


def test_heatmap_changes_show_in_the_analysis_controls(make_napari_viewer, qtbot):
    hm, widget = _dock(make_napari_viewer)
    hm.norm = "symlog"
    hm.linthresh = 0.25
    assert widget.norm.value == "symlog" and widget.linthresh.number.value == "0.25"
    assert _shown(widget.linthresh)
    hm.norm = "centered"
    hm.vcenter = 4.0
    assert widget.vcenter.number.value == "4" and not _shown(widget.linthresh)
    hm.threshold = 7.5
    assert not widget.threshold.field.auto.value
    assert widget.threshold.field.number.value == "7.5"
    assert widget.threshold.slider.value == widget.threshold.position_of(7.5) > 0
    assert widget.histogram_panel.view.lines["threshold"] == 7.5
    hm.threshold = None
    assert widget.threshold.field.auto.value and widget.threshold.slider.value == 0
    assert widget.histogram_panel.view.lines["threshold"] is None


def test_threshold_field_slider_and_none(make_napari_viewer, qtbot, errors):
    hm, widget = _dock(make_napari_viewer)
    field = widget.threshold.field
    field.auto.value = False  # "none" unticked: the threshold starts at vmin
    assert hm.threshold == hm.limits[0]
    _type(qtbot, field.number, "12")
    assert hm.threshold == 12.0
    widget.threshold.slider.value = 500  # half way along the histogram's axis
    lo, hi = hm.histogram(HISTOGRAM_BINS)[1][[0, -1]]
    assert hm.threshold == pytest.approx((lo + hi) / 2, rel=1e-3)
    assert hm.threshold == widget.threshold.value_of(500)
    field.auto.value = True
    assert hm.threshold is None
    assert errors == []


def test_refused_values_are_marked_on_their_field_and_change_nothing(
    make_napari_viewer, qtbot, errors
):
    hm, widget = _dock(make_napari_viewer)
    widget.norm.value = "symlog"
    _type(qtbot, widget.linthresh.number, "-1")
    assert hm.linthresh == 1.0  # unchanged
    assert widget.linthresh.number.value == "1"  # the field shows the heatmap's value again
    assert widget.linthresh.error and "linthresh" in widget.linthresh.error
    assert "refused" in widget.linthresh.number.native.toolTip()
    assert "border" in widget.linthresh.number.native.styleSheet()
    assert len(errors) == 1 and "linthresh" in errors[0]
    _type(qtbot, widget.linthresh.number, "3")  # a good value clears the mark
    assert hm.linthresh == 3.0 and widget.linthresh.error is None
    assert widget.linthresh.number.native.styleSheet() == ""
    # log with an explicit vmin <= 0 is refused, naming norm; the choice goes back
    hm.vmin = -1.0
    widget.norm.value = "log"
    assert hm.norm == "symlog" and widget.norm.value == "symlog"
    assert "norm" in widget.norm.native.toolTip() and "refused" in widget.norm.native.toolTip()
    assert len(errors) == 2 and "norm" in errors[1]


def _bar_colours(view) -> tuple[list[int], np.ndarray]:
    """The colour drawn at the foot of each bar tall and wide enough to sample cleanly."""
    shot = widget_pixels(view)
    lines = [x for x in (view.line_x(n) for n in ("vmin", "vmax", "threshold")) if x is not None]
    picked, colours = [], []
    for i in range(HISTOGRAM_BINS):
        bar = view.bar_rect(i)
        x = bar.center().x()
        if (
            bar.height() < 3 or bar.width() < 1 or any(abs(x - lx) <= 7 for lx in lines)
        ):  # line or handle
            continue
        picked.append(i)
        colours.append(shot[bar.bottom() - 1, x])
    return picked, np.array(colours)


@pytest.mark.parametrize(
    ("settings", "log_x"),
    [
        ({"colormap": "viridis"}, False),
        ({"norm": "log", "vmin": 3.0, "colormap": "hot", "transparent_low": True}, True),
        ({"norm": "symlog", "linthresh": 2.0, "threshold": 40.0}, False),
        ({"norm": "centered", "vcenter": 4.0, "colormap": COLORMAP_NAMES["jet"]}, False),
    ],
    ids=["linear", "log", "symlog-threshold", "centered"],
)
def test_histogram_bars_are_painted_in_the_heatmaps_colours(
    make_napari_viewer, qtbot, settings, log_x
):
    hm, widget = _dock(make_napari_viewer)
    for name, value in settings.items():
        setattr(hm, name, value)
    view = widget.histogram_panel.view
    view.resize(560, 140)
    widget.histogram_panel.log_counts.setChecked(True)  # every non-empty bin tall enough to see
    counts, edges = hm.histogram(HISTOGRAM_BINS)
    np.testing.assert_array_equal(view.counts, counts)
    if log_x:
        assert edges[0] > 0 and view.x_of(np.sqrt(edges[0] * edges[-1])) == pytest.approx(
            view.plot_rect().left() + view.plot_rect().width() / 2
        )
    centres = np.sqrt(edges[:-1] * edges[1:]) if log_x else (edges[:-1] + edges[1:]) / 2
    expected = hm.colours_of(centres)
    picked, drawn = _bar_colours(view)
    assert len(picked) > 20
    opaque = expected[picked, 3] == 255
    hidden = expected[picked, 3] == 0
    assert opaque.any()
    np.testing.assert_array_equal(drawn[opaque, :3], expected[picked][opaque, :3])
    # a transparent bin is drawn over the checkerboard, not in a colour of its own
    assert set(map(tuple, drawn[hidden, :3])) <= {(204, 204, 204), (153, 153, 153)}
    if "threshold" in settings or settings.get("transparent_low"):
        assert hidden.any()


def test_histogram_follows_a_new_mask_and_the_log_axis(make_napari_viewer, qtbot):
    hm, widget = _dock(make_napari_viewer)
    view = widget.histogram_panel.view
    np.testing.assert_array_equal(view.counts, hm.histogram(HISTOGRAM_BINS)[0])
    assert view.edges[0] < 0 and view.tooltip_at(0, 0) != "no finite values"
    hm.norm = "log"  # a log axis over the positive values
    _counts, edges = hm.histogram(HISTOGRAM_BINS)
    np.testing.assert_array_equal(view.edges, edges)
    assert edges[0] > 0 and view.x_of(edges[0] * 10) > view.x_of(edges[0])
    hm.set_heatmap(_mask() * 2)
    np.testing.assert_array_equal(view.counts, hm.histogram(HISTOGRAM_BINS)[0])
    assert view.edges[-1] == pytest.approx(2 * edges[-1])
    hm.set_heatmap(np.full((4, 4), np.nan))  # nothing finite: an empty plot
    assert not view.has_data


def _drag(view, name: str, to_value: float) -> None:
    """Drag line ``name`` of the histogram to the pixel of ``to_value`` with real mouse events."""
    rect = view.plot_rect()
    y = rect.bottom() - 4 if name == "threshold" else rect.top() + 6
    x0 = round(view.line_x(name))
    x1 = round(view.x_of(to_value))
    QTest.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x0, y))
    for k in (1, 2, 3):
        QTest.mouseMove(view, QPoint(round(x0 + (x1 - x0) * k / 3), y))
    QTest.mouseRelease(
        view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x1, y)
    )


@pytest.mark.parametrize("norm", ["linear", "log"])
def test_dragging_histogram_lines_sets_vmin_vmax_and_threshold(
    make_napari_viewer, qtbot, errors, norm
):
    hm, widget = _dock(make_napari_viewer, show=True)
    hm.norm = norm
    view = widget.histogram_panel.view
    qtbot.waitUntil(view.isVisible)
    lo, hi = view.edges[0], view.edges[-1]
    span = (np.log10(hi / lo) if norm == "log" else hi - lo) / view.plot_rect().width()

    def near(a: float, b: float) -> bool:  # within two pixels on the axis
        return abs(np.log10(a / b) if norm == "log" else a - b) <= 2 * span

    target = {"vmax": 30.0, "vmin": 2.0, "threshold": 5.0}
    for name in ("vmax", "vmin", "threshold"):
        _drag(view, name, target[name])
        assert getattr(hm, name) == view.lines[name], name
        assert near(getattr(hm, name), target[name]), (name, getattr(hm, name))
    assert hm.limits == (hm.vmin, hm.vmax)
    assert widget.vmax.exact_value == hm.vmax and widget.threshold.field.exact_value == hm.threshold
    assert errors == []


def test_dock_with_histogram_screenshot(make_napari_viewer, qtbot):
    """The whole viewer with the dock, for a person to look at (saved under /tmp/wt1)."""
    hm, widget = _dock(make_napari_viewer, show=True)
    hm.norm = "log"
    hm.threshold = 4.0
    hm.colormap = "inferno"
    view = widget.histogram_panel.view
    qtbot.waitUntil(view.isVisible)
    viewer = hm.viewer
    shot = viewer.screenshot(canvas_only=False, flash=False)
    out = os.environ.get("HEATMAP_SHOT_DIR")
    if out:
        from PIL import Image as PILImage

        PILImage.fromarray(shot).save(os.path.join(out, "dock_analysis.png"))
    panel = widget_pixels(view)
    assert view.width() >= 160 and view.isVisible()
    bars = panel[view.plot_rect().top() : view.plot_rect().bottom(), :, :3]
    assert len({tuple(c) for c in bars.reshape(-1, 3)}) > 10  # coloured bars, not a blank box
    assert [label for _, label in widget.legend.ticks.ticks]  # log ticks under the legend


def test_threshold_slider_runs_along_the_axis_logarithmic_under_log(qtbot):
    from napari_heatmap._qt._fields import SLIDER_STEPS, ThresholdField

    field = ThresholdField()
    qtbot.addWidget(field.native)
    field.show_state(None, 1.0, (1.0, 10000.0, True))
    assert field.position_of(100.0) == SLIDER_STEPS // 2  # the middle of 1…10⁴ on a log axis
    assert field.value_of(SLIDER_STEPS // 4) == pytest.approx(10.0)
    assert field.position_of(-3.0) == 0 and field.position_of(1e9) == SLIDER_STEPS
    field.show_state(25.0, 1.0, (0.0, 100.0, False))
    assert field.slider.value == SLIDER_STEPS // 4 and field.value_of(SLIDER_STEPS // 4) == 25.0
    field.show_state(None, None, None)  # no data: nothing to slide along
    assert not field.slider.enabled


def test_a_dragged_limit_is_followed_live_a_threshold_on_release(make_napari_viewer, qtbot):
    hm, widget = _dock(make_napari_viewer, show=True)
    view = widget.histogram_panel.view
    qtbot.waitUntil(view.isVisible)
    rect = view.plot_rect()
    left, top, bottom = Qt.MouseButton.LeftButton, rect.top() + 6, rect.bottom() - 4
    none = Qt.KeyboardModifier.NoModifier
    x = round(view.line_x("vmax"))
    QTest.mousePress(view, left, none, QPoint(x, top))
    QTest.mouseMove(view, QPoint(round(view.x_of(100.0)), top))
    assert hm.vmax == view.lines["vmax"] and abs(hm.vmax - 100.0) < 5  # before the release
    QTest.mouseRelease(view, left, none, QPoint(round(view.x_of(100.0)), top))
    x = round(view.line_x("threshold"))
    QTest.mousePress(view, left, none, QPoint(x, bottom))
    QTest.mouseMove(view, QPoint(round(view.x_of(50.0)), bottom))
    assert hm.threshold is None  # a threshold costs a pass: not while dragging
    QTest.mouseRelease(view, left, none, QPoint(round(view.x_of(50.0)), bottom))
    assert hm.threshold == view.lines["threshold"] and abs(hm.threshold - 50.0) < 5


def test_napari_contrast_limits_move_the_histogram_lines(make_napari_viewer, qtbot):
    hm, widget = _dock(make_napari_viewer)
    view = widget.histogram_panel.view
    layer = hm.heatmap_layer
    lo, hi = layer.contrast_limits
    layer.contrast_limits = (lo, lo + (hi - lo) / 2)  # napari's slider halves the range
    assert hm.vmax is not None and hm.vmax < hm.data_range[1]
    assert view.lines["vmax"] == hm.limits[1] == widget.vmax.exact_value
    colours = view.colours
    np.testing.assert_array_equal(colours, hm.colours_of(_centres(view)))


def _centres(view) -> np.ndarray:
    edges = view.edges
    return (edges[:-1] + edges[1:]) / 2


def test_histogram_of_a_large_mask_is_counted_off_the_gui_thread(
    make_napari_viewer, qtbot, monkeypatch
):
    import threading

    from napari_heatmap import _field

    hm, widget = _dock(make_napari_viewer)
    monkeypatch.setattr("napari_heatmap._qt.widget.BACKGROUND_PIXELS", 0)  # every mask is long
    threads = []
    real = _field._histogram
    monkeypatch.setattr(
        _field, "_histogram", lambda *a: threads.append(threading.current_thread()) or real(*a)
    )
    hm.set_heatmap(np.arange(600.0).reshape(20, 30))
    view = widget.histogram_panel.view
    assert not view.has_data  # nothing counted on the GUI thread: "measuring…"
    qtbot.waitUntil(lambda: view.has_data, timeout=5000)
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
    assert view.counts.sum() == 600 and view.edges[-1] == 599.0
