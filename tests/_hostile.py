"""Harness for hostile-input tests: one call in a child interpreter, bounded in time and memory.

A case that could hang or allocate without bound runs in its own Python process: the parent
kills it after ``seconds`` and the child caps its own address space (``RLIMIT_AS``) at what it
holds after its imports plus ``memory`` bytes. The outcome comes back pickled: the value, or
the exception's type names (its MRO) and message, and how long the call took.

Also: a local HTTP server (127.0.0.1 only) whose paths misbehave in bounded ways, and a few
hostile objects the child can unpickle (this folder is on its ``PYTHONPATH``).
"""

from __future__ import annotations

import contextlib
import http.server
import os
import pickle
import re
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


class _QuietServer(http.server.ThreadingHTTPServer):
    """A test server whose clients hang up on purpose: a dropped connection is not news."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Say nothing (the default prints a traceback for every dropped client)."""


_CHILD = r"""
import importlib, pickle, resource, sys, time, warnings
spec = pickle.loads(open(sys.argv[1], "rb").read())
for name in spec["imports"]:
    importlib.import_module(name)
for target, value in spec["patch"].items():
    module, attr = target.rsplit(".", 1)
    setattr(importlib.import_module(module), attr, value)
module, _, name = spec["func"].partition(":")
func = getattr(importlib.import_module(module), name)
if spec["memory"]:
    with open("/proc/self/statm") as f:
        held = int(f.read().split()[0]) * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (held + spec["memory"],) * 2)
start = time.monotonic()
with warnings.catch_warnings(record=True) as seen:
    warnings.simplefilter("always")
    try:
        out = {"kind": "ok", "value": func(*spec["args"])}
    except BaseException as e:
        out = {"kind": "raised", "types": [c.__name__ for c in type(e).__mro__],
               "message": str(e)}
out["seconds"] = time.monotonic() - start
out["warnings"] = [(w.category.__name__, str(w.message)) for w in seen]
open(sys.argv[2], "wb").write(pickle.dumps(out))
"""


@dataclass
class Outcome:
    """How a call in a child process ended.

    Attributes
    ----------
    kind : {"ok", "raised", "timeout", "died"}
        Returned, raised, killed after its time limit, or ended without a report.
    value : object
        The returned value (``kind == "ok"``).
    types : list of str
        Names of the exception's classes, most derived first (``kind == "raised"``).
    message : str
        The exception's message, or the child's stderr when it died.
    seconds : float
        How long the call itself took (imports excluded).
    warnings : list of (str, str)
        Category names and messages of the warnings the call issued.
    """

    kind: str
    value: Any = None
    types: list[str] = field(default_factory=list)
    message: str = ""
    seconds: float = 0.0
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def describe(self) -> str:
        """Say what happened, for assertion messages."""
        if self.kind == "raised":
            return f"raised {self.types[0]}: {self.message}"
        return f"{self.kind} after {self.seconds:.2f} s: {self.message or repr(self.value)[:300]}"


def run_isolated(
    func: str,
    args: tuple[Any, ...] = (),
    *,
    seconds: float = 30.0,
    memory: int | None = 1 << 30,
    patch: dict[str, Any] | None = None,
    imports: tuple[str, ...] = (),
    workdir: Path,
) -> Outcome:
    """Call ``module:function`` with `args` in a child interpreter and report the outcome.

    Parameters
    ----------
    func : str
        ``"package.module:function"``.
    args : tuple
        Positional arguments (picklable).
    seconds : float
        Wall-clock limit for the whole child, imports included; it is killed after.
    memory : int or None
        Bytes of address space the call may add to what the child holds after its imports.
    patch : dict, optional
        ``{"module.ATTRIBUTE": value}`` set in the child before the call.
    imports : tuple of str
        Modules to import before the memory limit is set.
    workdir : pathlib.Path
        Where the request and the report are written.
    """
    request, report = workdir / "request.pickle", workdir / "report.pickle"
    report.unlink(missing_ok=True)
    request.write_bytes(
        pickle.dumps(
            {
                "func": func,
                "args": args,
                "memory": memory,
                "patch": patch or {},
                "imports": (func.partition(":")[0], *imports),
            }
        )
    )
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _CHILD, str(request), str(report)],
            capture_output=True,
            text=True,
            timeout=seconds,
            env=env,
            cwd=workdir,
        )
    except subprocess.TimeoutExpired:
        return Outcome("timeout", message=f"killed after {seconds:g} s")
    if not report.exists():
        return Outcome("died", message=f"exit {proc.returncode}: {proc.stderr[-2000:]}")
    return Outcome(**pickle.loads(report.read_bytes()))


def assert_outcome(
    out: Outcome, error: str | None, match: str | None = None, within: float | None = None
) -> None:
    """Check an outcome: `error` raised (a class name in its MRO) with `match`, or a value.

    Parameters
    ----------
    out : Outcome
        What `run_isolated` reported.
    error : str or None
        Expected exception class name (a base class counts), or None for a return.
    match : str, optional
        Regular expression the message must contain (``re.search``).
    within : float, optional
        The call must have ended in fewer seconds than this.
    """
    if error is None:
        assert out.kind == "ok", out.describe()
    else:
        assert out.kind == "raised" and error in out.types, out.describe()
        if match is not None:
            assert re.search(match, out.message), out.describe()
    if within is not None:
        assert out.seconds < within, out.describe()


# --------------------------------------------------------------------------- callables


class RaisingToJson:
    """An annotation-like object whose ``to_json()`` fails (an SDK object gone wrong)."""

    def to_json(self) -> dict[str, Any]:
        """Fail like a broken SDK object."""
        raise KeyError("objects")


class Touch:
    """Unpickling this touches `path`: proof that a pickle was (or was not) loaded."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.path, "w"))


def open_in_viewer_model(path: str) -> list[str]:
    """Read `path` with the plugin's reader and add its layers to a ViewerModel (no Qt)."""
    from napari.components import ViewerModel

    from napari_heatmap._reader import napari_get_reader

    reader = napari_get_reader(path)
    if reader is None:
        raise ValueError(f"the reader declined {path}")
    viewer = ViewerModel()
    for data, kwargs, kind in reader(path):
        viewer._add_layer_from_data(data, kwargs, kind)
    return [layer.name for layer in viewer.layers]


def claims(path: str) -> bool:
    """Tell whether the plugin's reader claims `path` (napari asking before it opens)."""
    from napari_heatmap._reader import napari_get_reader

    return napari_get_reader(path) is not None


def density_max(anns: Any) -> float:
    """Return the largest count of `density_map(anns)`."""
    from napari_heatmap.supervisely import density_map

    return float(density_map(anns).max())


# --------------------------------------------------------------------------- server


class _Hostile(http.server.BaseHTTPRequestHandler):
    """Paths: /png (a real image), /trickle-headers, /trickle-body, /huge, /endless."""

    png = b""
    #: No answer lasts longer than this, so the server always stops by itself.
    longest = 8.0

    def log_message(self, *args: Any) -> None:
        pass

    def _drip(self, data: bytes, every: float) -> None:
        end = time.monotonic() + self.longest
        for byte in data:
            if time.monotonic() > end:
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(every)

    def do_GET(self) -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
            self._answer()

    def _answer(self) -> None:
        if self.path == "/png":
            self.send_response(200)
            self.send_header("Content-Length", str(len(self.png)))
            self.end_headers()
            self.wfile.write(self.png)
        elif self.path == "/trickle-headers":
            self._drip(b"HTTP/1.0 200 OK\r\nX-Slow: " + b"y" * 200, 0.2)
        elif self.path == "/trickle-body":
            self.send_response(200)
            self.end_headers()
            self._drip(self.png, 0.2)
        elif self.path == "/huge":  # 30 GB announced; a reader that believed it would wait
            self.send_response(200)
            self.send_header("Content-Length", str(30 * 10**9))
            self.end_headers()
            self._drip(b"\0" * 100, 0.1)
        elif self.path == "/endless":
            self.send_response(200)
            self.end_headers()
            end = time.monotonic() + self.longest
            while time.monotonic() < end:
                self.wfile.write(b"\0" * (1 << 16))
        else:
            self.send_error(404)


@contextmanager
def hostile_server(png: bytes) -> Iterator[str]:
    """Serve the `_Hostile` paths on 127.0.0.1; yield the base URL; stop on exit."""
    handler = type("Handler", (_Hostile,), {"png": png})
    server = _QuietServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def closed_port() -> int:
    """Return a local port nothing listens on (a dead URL)."""
    with socketserver.TCPServer(("127.0.0.1", 0), socketserver.BaseRequestHandler) as s:
        return int(s.server_address[1])
