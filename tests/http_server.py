"""A real HTTP server on loopback with Range support (and a mode that ignores Range).

It counts the body bytes it sends, so tests can check how much a read transfers, and it can be
told to misbehave on the next GET requests of files: answer with an HTTP error status, drop the
connection half-way through the body or before answering, or send half the range asked (``faults``).
"""

from __future__ import annotations

import os
import re
import socket
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

_RANGE = re.compile(r"bytes=(\d+)-(\d*)")


class _Handler(SimpleHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        path = self.translate_path(self.path)
        if (self.server.fault_any_request or not os.path.isdir(path)) and self._fault():
            return
        header = self.headers.get("Range")
        if os.path.isdir(path) or header is None or self.server.ignore_range:
            return self._send_whole(path)
        if not os.path.isfile(path):
            self.send_error(404)
            return
        m = _RANGE.fullmatch(header.strip())
        size = os.path.getsize(path)
        if m is None:
            self.send_error(416)
            return
        start = int(m[1])
        end = min(int(m[2]) if m[2] else size - 1, size - 1)
        with open(path, "rb") as f:
            f.seek(start)
            body = f.read(max(0, end - start + 1))
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self._send_body(body)

    def do_HEAD(self) -> None:
        if self.server.fault_any_request and self._fault():
            return
        super().do_HEAD()

    def _fault(self) -> bool:
        fault = self.server.next_fault()
        if fault in (None, "ok"):
            return False
        if fault == "reset":  # the connection closes before any answer
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if fault == "short":  # an honest but short answer: half of the range asked for
            return self._send_short()
        if fault == "drop":
            size = os.path.getsize(self.translate_path(self.path))
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.wfile.write(b"\0" * (size // 2))
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self.send_error(int(fault))
        return True

    def _send_short(self) -> bool:
        m = _RANGE.fullmatch((self.headers.get("Range") or "").strip())
        if m is None:
            return False
        path = self.translate_path(self.path)
        start, size = int(m[1]), os.path.getsize(path)
        end = min(int(m[2]) if m[2] else size - 1, size - 1)
        stop = start + max(0, (end - start + 1) // 2)
        with open(path, "rb") as f:
            f.seek(start)
            body = f.read(stop - start)
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{stop - 1}/{size}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self._send_body(body)
        return True

    def _send_body(self, body: bytes) -> None:
        self.server.count(len(body), self.path)  # before writing: the client may go on as soon as it has the body
        self.wfile.write(body)

    def _send_whole(self, path: str) -> None:
        if os.path.isdir(path):
            super().do_GET()
            return
        try:
            body = Path(path).read_bytes()
        except OSError:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self._send_body(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    ignore_range = False
    fault_any_request = False
    bytes_sent = 0
    requests = 0
    faults: list[str] = []  # noqa: RUF012 - replaced per instance by RangeServer.reset
    _lock = threading.Lock()

    def next_fault(self) -> str | None:
        with self._lock:
            return self.faults.pop(0) if self.faults else None

    log: list[tuple[str, int]] = []  # noqa: RUF012 - replaced per instance by RangeServer.reset

    def count(self, n: int, path: str) -> None:
        with self._lock:
            self.bytes_sent += n
            self.requests += 1
            self.log.append((path, n))


class RangeServer:
    """Serve ``root`` on 127.0.0.1 (random port) in a thread; ``url`` is its base URL."""

    def __init__(self, root: Path) -> None:
        self.httpd = _Server(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def bytes_sent(self) -> int:
        return self.httpd.bytes_sent

    def reset(self, *, ignore_range: bool = False, faults: list[str] | None = None, any_request: bool = False) -> None:
        """Zero the counters; ``faults``: what the next file GETs do (``"503"``, ``"500"``, ``"drop"``: half the body then
        the connection closes, ``"reset"``: closed before any answer, ``"short"``: 206 with half the range, ``"ok"``);
        with ``any_request`` the next requests of any kind (HEAD, directory listings) take them."""
        self.httpd.bytes_sent = 0
        self.httpd.requests = 0
        self.httpd.ignore_range = ignore_range
        self.httpd.faults = list(faults or [])
        self.httpd.fault_any_request = any_request
        self.httpd.log = []

    def __enter__(self) -> RangeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
