"""The dock's histogram on its own: synthetic counts and colours, real painting, real mouse."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import QPoint, Qt
from qtpy.QtTest import QTest

from _canvas import widget_pixels
from napari_heatmap._qt._histogram import GRAB_PX, HistogramPanel, HistogramView, bin_centres, tidy

pytestmark = pytest.mark.gui

EDGES = np.linspace(0.0, 100.0, 11)  # ten bins of width 10
COUNTS = np.array([5, 10, 20, 40, 80, 80, 40, 20, 10, 5])


def _colours(n: int = 10) -> np.ndarray:
    """A distinct opaque colour per bin (no two alike)."""
    i = np.arange(n)
    return np.stack([20 * i + 10, 250 - 20 * i, (37 * i) % 256, np.full(n, 255)], 1).astype(
        np.uint8
    )


@pytest.fixture
def view(qtbot) -> HistogramView:
    v = HistogramView()
    qtbot.addWidget(v)
    v.resize(420, 130)
    v.set_histogram(COUNTS, EDGES, _colours())
    v.set_lines(20.0, 80.0, None)
    v.show()
    qtbot.waitExposed(v)
    return v


def _pixel(view: HistogramView, x: int, y: int) -> np.ndarray:
    """Pixel (x, y) of the widget rendered into a 32-bit image (exact, whatever the screen)."""
    return widget_pixels(view)[y, x, :3]


def _drag(qtbot, view: HistogramView, start: tuple[int, int], end_x: int, steps: int = 4) -> None:
    """Press at ``start``, move in steps to ``end_x`` on the same row, release there."""
    x0, y = start
    QTest.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x0, y))
    for k in range(1, steps + 1):
        QTest.mouseMove(view, QPoint(round(x0 + (end_x - x0) * k / steps), y))
    QTest.mouseRelease(
        view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(end_x, y)
    )


def test_each_bar_is_painted_in_its_own_colour(view):
    colours = _colours()
    for i in range(len(COUNTS)):
        bar = view.bar_rect(i)
        x, y = bar.center().x(), bar.bottom() - 1
        assert bar.height() > 2
        np.testing.assert_array_equal(_pixel(view, x, y), colours[i, :3], err_msg=f"bar {i}")


def test_taller_bar_for_larger_count_and_log_counts_lift_small_ones(view):
    linear = [view.bar_rect(i).height() for i in range(10)]
    assert linear[4] == linear[5] > linear[3] > linear[2] > linear[1] > linear[0]
    assert linear[4] == view.plot_rect().height()
    assert linear[0] == round(view.plot_rect().height() * 5 / 80)
    view.log_counts = True
    logged = [view.bar_rect(i).height() for i in range(10)]
    assert logged[4] == linear[4]
    expected = round(view.plot_rect().height() * np.log10(6) / np.log10(81))
    assert logged[0] == expected > linear[0]


def test_transparent_bin_is_drawn_over_a_checkerboard(view):
    colours = _colours()
    colours[3, 3] = 0
    view.set_colours(colours)
    bar = view.bar_rect(3)
    seen = {
        tuple(_pixel(view, x, y))
        for x in range(bar.left() + 1, bar.right())
        for y in range(bar.bottom() - 9, bar.bottom())
    }
    assert seen == {(204, 204, 204), (153, 153, 153)}


def test_dragging_vmin_line_emits_values_and_sets_it_on_release(qtbot, view):
    moved, released = [], []
    view.dragged.connect(lambda n, v: moved.append((n, v)))
    view.released.connect(lambda n, v: released.append((n, v)))
    x = round(view.line_x("vmin"))
    y = view.plot_rect().top() + 10  # upper half: the limits
    target = round(view.x_of(35.0))
    _drag(qtbot, view, (x, y), target)
    assert len(moved) == 4 and {n for n, _ in moved} == {"vmin"}
    assert [v for _, v in moved] == sorted(v for _, v in moved)  # followed the mouse rightwards
    assert released == [("vmin", view.value_at(target))]
    assert abs(released[0][1] - 35.0) <= 100 / view.plot_rect().width()
    assert view.lines["vmin"] == released[0][1] and view.dragging is None
    assert abs(view.line_x("vmin") - target) <= 1


def test_vmin_cannot_be_dragged_past_vmax(qtbot, view):
    released = []
    view.released.connect(lambda n, v: released.append((n, v)))
    x = round(view.line_x("vmin"))
    _drag(qtbot, view, (x, view.plot_rect().top() + 10), view.width() - 2)
    assert released == [("vmin", 80.0)]


def test_dragging_vmax_left(qtbot, view):
    released = []
    view.released.connect(lambda n, v: released.append((n, v)))
    x = round(view.line_x("vmax"))
    _drag(qtbot, view, (x, view.plot_rect().top() + 10), round(view.x_of(60.0)))
    assert released and released[0][0] == "vmax"
    assert abs(released[0][1] - 60.0) <= 100 / view.plot_rect().width()


def test_unset_threshold_is_grabbed_at_the_left_end_and_dragged_into_place(qtbot, view):
    released = []
    view.released.connect(lambda n, v: released.append((n, v)))
    assert view.lines["threshold"] is None
    assert view.line_x("threshold") == view.plot_rect().left()
    bottom = view.plot_rect().bottom() - 3
    _drag(qtbot, view, (view.plot_rect().left() + 1, bottom), round(view.x_of(50.0)))
    assert released and released[0][0] == "threshold"
    assert abs(released[0][1] - 50.0) <= 100 / view.plot_rect().width()


def test_lower_half_grabs_the_threshold_upper_half_the_limit(view):
    view.set_lines(20.0, 80.0, 20.0)  # threshold on the vmin line
    x = view.line_x("vmin")
    rect = view.plot_rect()
    assert view.line_at(x, rect.top() + 5) == "vmin"
    assert view.line_at(x, rect.bottom() - 5) == "threshold"
    assert view.line_at(x + GRAB_PX + 1, rect.top() + 5) is None


def test_one_line_for_equal_limits_gives_vmin_on_its_left_and_vmax_on_its_right(view):
    view.set_lines(50.0, 50.0, None)
    x = view.line_x("vmin")
    y = view.plot_rect().top() + 5
    assert view.line_at(x - 2, y) == "vmin"
    assert view.line_at(x + 2, y) == "vmax"


def test_a_line_set_while_another_is_dragged_keeps_the_dragged_one_under_the_mouse(qtbot, view):
    x = round(view.line_x("vmax"))
    y = view.plot_rect().top() + 10
    QTest.mousePress(view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, y))
    QTest.mouseMove(view, QPoint(round(view.x_of(70.0)), y))
    dragged = view.lines["vmax"]
    view.set_lines(10.0, 90.0, 30.0)  # e.g. the dock re-reading the heatmap mid-drag
    assert view.lines == {"vmin": 10.0, "vmax": dragged, "threshold": 30.0}
    QTest.mouseRelease(
        view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, y)
    )


def test_log_axis_places_decades_evenly(view):
    edges = np.logspace(0, 4, 9)  # 1 … 10⁴
    view.set_histogram(COUNTS[:8], edges, _colours(8), log_x=True)
    rect = view.plot_rect()
    assert view.x_of(1.0) == rect.left()
    assert view.x_of(100.0) == pytest.approx(rect.left() + rect.width() / 2)
    assert view.x_of(10.0) == pytest.approx(rect.left() + rect.width() / 4)
    assert view.x_of(-3.0) < rect.left()  # non-positive values: beyond the left end
    assert view.value_at(rect.left() + rect.width() / 2) == pytest.approx(100.0, rel=0.02)
    widths = {view.bar_rect(i).width() for i in range(8)}
    assert max(widths) - min(widths) <= 1  # log-spaced bins look equally wide


def test_tooltip_names_the_bin_range_and_count_or_the_line(view):
    rect = view.plot_rect()
    x = view.bar_rect(4).center().x()
    assert view.tooltip_at(x, rect.bottom() - 2) == "[40, 50): 80 values"
    assert view.tooltip_at(view.bar_rect(9).center().x(), rect.bottom() - 2).startswith("[90, 100]")
    assert view.tooltip_at(view.line_x("vmax"), rect.top() + 5) == "vmax = 80: drag to change"


def test_empty_histogram_shows_a_message_and_grabs_nothing(view):
    view.set_histogram(None, None, None)
    assert not view.has_data and view.line_at(50, 50) is None
    assert view.tooltip_at(50, 50) == "no finite values"
    view.grab()  # paints without error


def test_mismatched_colours_are_refused(view):
    with pytest.raises(ValueError, match="colours"):
        view.set_colours(np.zeros((3, 4), np.uint8))
    with pytest.raises(ValueError, match="edges"):
        view.set_histogram(COUNTS, EDGES[:5], _colours())


def test_log_counts_toggle_of_the_panel(qtbot):
    panel = HistogramPanel()
    qtbot.addWidget(panel)
    panel.view.resize(300, 110)
    panel.view.set_histogram(COUNTS, EDGES, _colours())
    before = panel.view.bar_rect(0).height()
    panel.log_counts.click()
    assert panel.view.log_counts and panel.view.bar_rect(0).height() > before


def test_tidy_rounds_to_the_pixel_resolution():
    assert tidy(12.3456789, 0.25) == 12.3  # a pixel spans 0.25: tenths
    assert tidy(12.3456789, 3.0) == 12.0
    assert tidy(123456.0, 700.0) == 123500.0
    assert tidy(float("inf"), 1.0) == float("inf")


def test_bin_centres_arithmetic_or_geometric():
    np.testing.assert_allclose(bin_centres([0, 2, 6]), [1, 4])
    np.testing.assert_allclose(bin_centres([1, 100, 10000], log_x=True), [10, 1000])
