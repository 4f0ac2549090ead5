"""Clip polygon rings and polylines to an image, as the SDK's load-time crop does (no shapely).

The SDK intersects a polygon or line that sticks out of its image with the window
``0 <= x <= W-1``, ``0 <= y <= H-1`` (docs/supervisely.md). Rings are clipped with
Sutherland-Hodgman, which is exact for a convex window; where a concave ring leaves and
re-enters the window, the result is one ring joined along the window's edge where shapely
would give separate pieces (the edge's pixels may then be drawn, a one-pixel difference).
Lines are clipped segment by segment (Liang-Barsky), giving one piece per stretch inside.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Sequence
from typing import TypeVar

import numpy as np

from ._errors import SuperviselyFormatError

__all__ = ["MAX_SELF_CROSSINGS", "clip_polyline", "clip_ring", "ring_area"]

_V = TypeVar("_V")  # a vertex: a pair of floats or a NumPy row


def ring_area(ring: np.ndarray) -> float:
    """Return the absolute area of a ring (shoelace); 0 for a ring that is a line or a point."""
    if len(ring) < 3:
        return 0.0
    x, y = ring[:, 0], ring[:, 1]
    x_next, y_next = np.concatenate((x[1:], x[:1])), np.concatenate((y[1:], y[:1]))  # np.roll
    return float(abs(np.dot(x, y_next) - np.dot(y, x_next)) / 2.0)


def clip_ring(ring: np.ndarray, height: int, width: int) -> np.ndarray:
    """Return the part of a closed ring inside the image, as float ``[x, y]`` vertices.

    Parameters
    ----------
    ring : numpy.ndarray
        ``(N, 2)`` vertices ``[x, y]``.
    height, width : int
        The image size; the window is ``[0, width-1] × [0, height-1]``.

    Returns
    -------
    numpy.ndarray
        ``(M, 2)`` float64 vertices, possibly fewer than 3 (nothing left).
    """
    pts = _points(np.asarray(ring, np.float64))
    # each edge of the window: (axis, bound, keep values >= bound?)
    for axis, bound, keep_above in (
        (0, 0.0, True),
        (0, width - 1.0, False),
        (1, 0.0, True),
        (1, height - 1.0, False),
    ):
        if not pts:
            break
        pts = _clip_half_plane(pts, axis, bound, keep_above)
    return np.array(pts, np.float64).reshape(-1, 2)


def _points(pts: np.ndarray) -> list[tuple[float, float]]:
    """Return the vertices as ``(x, y)`` tuples of Python floats.

    Python floats give the same IEEE arithmetic as NumPy's scalars at a fraction of the cost;
    tuples of floats, unlike lists, soon leave the garbage collector's sight (a long line must
    not make every collection slower).
    """
    return list(zip(pts[:, 0].tolist(), pts[:, 1].tolist(), strict=True))


def _clip_half_plane(
    pts: list[tuple[float, float]], axis: int, bound: float, keep_above: bool
) -> list[tuple[float, float]]:
    """One Sutherland-Hodgman step: the ring cut to one side of ``x[axis] = bound``."""
    inside = [p[axis] >= bound for p in pts] if keep_above else [p[axis] <= bound for p in pts]
    if all(inside):
        return pts
    out: list[tuple[float, float]] = []
    prev, prev_in = pts[-1], inside[-1]
    for cur, cur_in in zip(pts, inside, strict=True):
        if cur_in != prev_in:  # the edge crosses the bound
            t = (bound - prev[axis]) / (cur[axis] - prev[axis])
            if axis == 0:
                out.append((bound, prev[1] + t * (cur[1] - prev[1])))
            else:
                out.append((prev[0] + t * (cur[0] - prev[0]), bound))
        if cur_in:
            out.append(cur)
        prev, prev_in = cur, cur_in
    return out


def clip_polyline(points: np.ndarray, height: int, width: int) -> list[np.ndarray]:
    """Return the stretches of an open line inside the image, as float ``[x, y]`` vertices.

    Consecutive segments that stay inside form one piece; a piece starts wherever the line
    enters the window. Pieces that shrink to a point are dropped. Like shapely, a vertex is
    added wherever the line crosses itself.
    """
    pts = _noded(np.asarray(points, np.float64))
    hi = (width - 1.0, height - 1.0)
    pieces: list[list[tuple[float, float]]] = []
    for a, b in itertools.pairwise(pts):
        seg = _clip_segment(a, b, hi)
        if seg is None:
            continue
        q0, q1 = seg
        last = pieces[-1][-1] if pieces else None
        if last is not None and last[0] == q0[0] and last[1] == q0[1]:
            pieces[-1].append(q1)
        else:
            pieces.append([q0, q1])
    return [np.array(piece) for piece in pieces]


#: Up to this many segments, a line is noded in plain Python (`_noded`).
_SHORT_LINE = 16


def _noded(pts: np.ndarray) -> list[tuple[float, float]]:
    """Return `_node_self_crossings` of `pts` as ``(x, y)`` tuples (see `_points`).

    A short line is noded in plain Python with NumPy's arithmetic, operation for operation:
    the pairs of segments whose slack-widened boxes meet are tested, the crossings are
    inserted in the order ``(i, j)``, each segment's sorted by where they fall on it.
    """
    n = len(pts) - 1
    if n > _SHORT_LINE or not np.isfinite(pts).all():
        return _points(_node_self_crossings(pts))
    p = _points(pts)
    if n < 3:
        return p
    slack = 1e-9 * (1.0 + max(max(abs(x), abs(y)) for x, y in p))
    boxes = [
        (
            min(a[0], b[0]) - slack,
            min(a[1], b[1]) - slack,
            max(a[0], b[0]) + slack,
            max(a[1], b[1]) + slack,
        )
        for a, b in itertools.pairwise(p)
    ]
    extra: list[list[tuple[float, tuple[float, float]]]] = [[] for _ in range(n)]
    for i in range(n - 2):
        lo_x, lo_y, hi_x, hi_y = boxes[i]
        (ax, ay), (bx, by) = p[i], p[i + 1]
        rx, ry = bx - ax, by - ay
        for j in range(i + 2, n):
            x0, y0, x1, y1 = boxes[j]
            if not (lo_x <= x1 and lo_y <= y1 and x0 <= hi_x and y0 <= hi_y):
                continue
            (cx, cy), (dx, dy) = p[j], p[j + 1]
            sx, sy = dx - cx, dy - cy
            denom = rx * sy - ry * sx
            if denom == 0:
                continue
            cax, cay = cx - ax, cy - ay
            t = (cax * sy - cay * sx) / denom
            u = (cax * ry - cay * rx) / denom
            if not (0.0 <= t <= 1.0 and 0.0 <= u <= 1.0):
                continue
            point = (ax + t * rx, ay + t * ry)
            if 0.0 < t < 1.0:
                extra[i].append((t, point))
            if 0.0 < u < 1.0:
                extra[j].append((u, point))
    if not any(extra):
        return p
    return _with_crossings(p, extra)


def _with_crossings(points: Sequence[_V], extra: list[list[tuple[float, _V]]]) -> list[_V]:
    """Return the vertices with each segment's crossings ``(t, point)`` inserted by t."""
    out = [points[0]]
    for seg, found in enumerate(extra):
        out += [q for _, q in sorted(found, key=lambda tq: tq[0])]
        out.append(points[seg + 1])
    return out


#: Candidate segment pairs examined at once (bounds the memory of the sweep).
_PAIR_BLOCK = 1 << 20
#: A line crossing itself more often than this is refused: a scribble of n vertices can cross
#: itself ~n²/4 times, and every crossing becomes a vertex.
MAX_SELF_CROSSINGS = 1 << 16


def _node_self_crossings(pts: np.ndarray) -> np.ndarray:
    """Insert a vertex at every point where the line crosses itself (shapely's noding).

    Only pairs of segments whose bounding boxes overlap can cross: a sweep over the boxes
    sorted by their left edge finds them, so a long line that zig-zags along the border costs
    about linear time instead of testing every pair. The crossings are inserted in the order
    ``(i, j)`` of a test of every pair, with the same arithmetic, so the result is the same.

    Raises
    ------
    SuperviselyFormatError
        If the line crosses itself more than `MAX_SELF_CROSSINGS` times.
    """
    n = len(pts) - 1
    if n < 3:
        return pts
    found: list[tuple[np.ndarray, ...]] = []
    count = 0
    for i, j in _candidate_pairs(pts):
        t, u, hit = _crossings(pts[i], pts[i + 1], pts[j], pts[j + 1])
        k = np.flatnonzero(hit)
        count += len(k)
        if count > MAX_SELF_CROSSINGS:
            raise SuperviselyFormatError(
                f"the line crosses itself more than {MAX_SELF_CROSSINGS} times"
            )
        found.append((i[k], j[k], t[k], u[k]))
    if not count:
        return pts
    i, j, t, u = (np.concatenate(column) for column in zip(*found, strict=True))
    extra: list[list[tuple[float, np.ndarray]]] = [[] for _ in range(n)]
    for k in np.lexsort((j, i)):  # the order of the pairwise loop
        a = pts[i[k]]
        point = a + t[k] * (pts[i[k] + 1] - a)
        if 0.0 < t[k] < 1.0:
            extra[i[k]].append((float(t[k]), point))
        if 0.0 < u[k] < 1.0:
            extra[j[k]].append((float(u[k]), point))
    if not any(extra):
        return pts
    return np.array(_with_crossings(list(pts), extra))


#: Up to this many segments, `_candidate_pairs` tests the boxes of every pair at once.
_FEW_SEGMENTS = 64


@functools.lru_cache(maxsize=_FEW_SEGMENTS)
def _far_pairs(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Every ``(i, j)`` with ``j >= i + 2`` of `n` segments (read-only)."""
    i, j = np.triu_indices(n, 2)
    i.flags.writeable = j.flags.writeable = False
    return i, j


def _candidate_pairs(pts: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield blocks of ``(i, j)`` pairs, ``j >= i + 2``, of segments whose boxes touch."""
    lo = np.minimum(pts[:-1], pts[1:])
    hi = np.maximum(pts[:-1], pts[1:])
    finite = np.abs(pts[np.isfinite(pts)])
    slack = 1e-9 * (1.0 + (float(finite.max()) if finite.size else 0.0))
    lo, hi = lo - slack, hi + slack  # generous: every candidate is tested exactly anyway
    if len(lo) <= _FEW_SEGMENTS and finite.size == pts.size:
        # every pair at once: the same pairs as the sweep below (whose boxes overlap), cheaper
        i, j = _far_pairs(len(lo))
        meet = (lo[i] <= hi[j]).all(axis=1) & (lo[j] <= hi[i]).all(axis=1)
        yield i[meet], j[meet]
        return
    order = np.argsort(lo[:, 0], kind="stable")
    left = lo[order, 0]
    # segment at sorted position p may meet those at p+1 .. end[p]-1 (their left edges start
    # before its right edge)
    end = np.searchsorted(left, hi[order, 0], side="right")
    counts = np.maximum(end - np.arange(len(order)) - 1, 0)
    start = 0
    while start < len(order):
        stop = start + 1
        total = int(counts[start])
        while stop < len(order) and total + counts[stop] <= _PAIR_BLOCK:
            total += int(counts[stop])
            stop += 1
        c = counts[start:stop]
        p = np.repeat(np.arange(start, stop), c)
        q = p + 1 + np.arange(len(p)) - np.repeat(np.cumsum(c) - c, c)
        a, b = order[p], order[q]
        meet = (lo[a, 1] <= hi[b, 1]) & (lo[b, 1] <= hi[a, 1])
        i, j = np.minimum(a, b)[meet], np.maximum(a, b)[meet]
        far = j >= i + 2
        yield i[far], j[far]
        start = stop


def _crossings(
    a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where segments a-b cross c-d, pair by pair: t on a-b, u on c-d, and whether they do.

    Parallel or collinear segments have no single crossing point and count as not crossing.
    """
    r, s = b - a, d - c
    denom = r[:, 0] * s[:, 1] - r[:, 1] * s[:, 0]
    ca = c - a
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (ca[:, 0] * s[:, 1] - ca[:, 1] * s[:, 0]) / denom
        u = (ca[:, 0] * r[:, 1] - ca[:, 1] * r[:, 0]) / denom
    hit = (denom != 0) & (t >= 0.0) & (t <= 1.0) & (u >= 0.0) & (u <= 1.0)
    return t, u, hit


def _clip_segment(
    a: tuple[float, float], b: tuple[float, float], hi: tuple[float, float]
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """Liang-Barsky: the part of segment a-b inside ``[0, hi]``; None for nothing or a point."""
    if (
        0.0 <= a[0] <= hi[0]
        and 0.0 <= a[1] <= hi[1]
        and 0.0 <= b[0] <= hi[0]
        and 0.0 <= b[1] <= hi[1]
    ):
        return a, b  # inside: what the loop below gives (t0 = 0, t1 = 1)
    d = (b[0] - a[0], b[1] - a[1])
    t0, t1 = 0.0, 1.0
    for p, q in (
        (-d[0], a[0] - 0.0),
        (d[0], hi[0] - a[0]),
        (-d[1], a[1] - 0.0),
        (d[1], hi[1] - a[1]),
    ):
        if p == 0:
            if q < 0:
                return None
            continue
        t = q / p
        if p < 0:
            t0 = max(t0, t)
        else:
            t1 = min(t1, t)
        if t0 > t1:
            return None
    if t0 == t1 and not (a[0] == b[0] and a[1] == b[1]):
        return None
    q0 = a if t0 == 0.0 else (a[0] + t0 * d[0], a[1] + t0 * d[1])
    q1 = b if t1 == 1.0 else (a[0] + t1 * d[0], a[1] + t1 * d[1])
    return q0, q1
