"""Download with one deadline for the whole answer and a byte budget (backgrounds, §5).

Pure floor: standard library only. A socket timeout bounds each read, not the download: a
server that sends a byte every few seconds, in its headers or its body, would never time
out. Here a timer shuts the download's sockets down at the deadline, which wakes any read.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import threading
import urllib.error
import urllib.request
from typing import Any

__all__ = ["DownloadError", "fetch"]


class DownloadError(ValueError):
    """A URL could not be fetched within its time and byte budgets."""


class _Deadline:
    """Shut down every socket of one download when its time is up."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._socks.append(sock)
            if self.expired:
                _shutdown(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._socks:
                _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # the plain socket's shutdown, also under SSL
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _opener(deadline: _Deadline) -> urllib.request.OpenerDirector:
    """Return an opener for http(s) only, whose connections the deadline can cut."""

    def connect(*args: Any, **kwargs: Any) -> socket.socket:
        sock = socket.create_connection(*args, **kwargs)
        deadline.watch(sock)  # the raw socket: a TLS handshake can be cut as well
        return sock

    class HTTP(http.client.HTTPConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = connect

    class HTTPS(http.client.HTTPSConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = connect

    class HTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(HTTP, req)

    class HTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            return self.do_open(HTTPS, req)

    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        HTTPHandler(),
        HTTPSHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.UnknownHandler(),  # a redirect to ftp:// or file:// ends here
    ):
        opener.add_handler(handler)
    return opener


def fetch(url: str, *, timeout: float, max_bytes: int) -> bytes:
    """Download `url` within `timeout` seconds in all and `max_bytes` at most.

    Parameters
    ----------
    url : str
        An ``http://`` or ``https://`` URL; redirects are followed (to http(s) only).
    timeout : float
        Seconds for the whole download: connection, headers and body together.
    max_bytes : int
        The largest answer accepted; a larger announced ``Content-Length`` is refused before
        the body is read.

    Returns
    -------
    bytes
        The body.

    Raises
    ------
    DownloadError
        If the URL is malformed, cannot be fetched, is too large or takes too long.
    """
    try:
        req = urllib.request.Request(url, headers={"User-Agent": "napari-heatmap"})
    except ValueError as exc:  # e.g. "http://[::1": Invalid IPv6 URL
        raise DownloadError(f"malformed URL: {exc}") from None
    chunks: list[bytes] = []
    size = 0
    with _Deadline(timeout) as deadline:
        try:
            with _opener(deadline).open(req, timeout=timeout) as resp:
                announced = resp.headers.get("Content-Length", "")
                if announced.strip().isdigit() and int(announced) > max_bytes:
                    raise ValueError(
                        f"it announces {int(announced)} bytes, more than the "
                        f"{max_bytes} bytes allowed"
                    )
                while chunk := resp.read1(1 << 16):  # what has arrived, up to 64 KiB
                    chunks.append(chunk)
                    size += len(chunk)
                    if size > max_bytes:
                        raise ValueError(f"larger than the {max_bytes} bytes allowed")
                if deadline.expired:  # the cut socket read as the end of the answer
                    raise TimeoutError
        except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException) as exc:
            if deadline.expired:
                raise DownloadError(f"took more than {timeout:g} s") from None
            raise DownloadError(str(exc) or type(exc).__name__) from exc
    return b"".join(chunks)
