"""Timing one call, shared by both sides: standard library only, so the SDK's interpreter
(which runs ``sdk_side.py`` by path, with this folder first on its ``sys.path``) can import it."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def timed(func: Callable[[], object], repeats: int) -> dict[str, float]:
    """Call ``func`` once to warm up, then ``repeats`` times; return the median and min (s)."""
    func()
    runs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        func()
        runs.append(time.perf_counter() - t0)
    return {"median": statistics.median(runs), "min": min(runs)}
