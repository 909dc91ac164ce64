"""A real HTTP/1.1 server on loopback that misbehaves on demand, one mode per way a server can lie.

Honest by default: ranged GETs answer ``206`` with ``Content-Range`` (``416`` with ``bytes */SIZE`` when
the range starts at or past the end), ``ETag`` (inode, size and
modification time, as nginx and Apache build theirs) and ``Last-Modified``; HEAD gives the size;
directories are listed. ``set(mode, target)`` makes the answers about files named ``target`` (any
case; directories for the listing modes) misbehave:

- ``"offset"``: a range from another offset (``SHIFT`` bytes further), with a ``Content-Range`` that says so;
- ``"other"``: the same range of another file (``other``), with that file's size, ``ETag`` and ``Last-Modified``;
- ``"etag"``: the right bytes, with another ``ETag`` than the HEAD gave (a file rewritten in place);
- ``"gzip"``: a ``206`` whose body is ``Content-Encoding: gzip`` of ``BOMB_BYTES`` zero bytes;
- ``"401"``, ``"403"``, ``"405"``: directory listings refused with that status (files are served);
- ``"parent-links"``: directory listings that link ``../elsewhere/<target>`` and not ``target`` itself;
- ``"chunked"``: the file without a size (HEAD without ``Content-Length``, GET chunked, Range ignored).

Every request is logged (method, path, headers) in ``requests``.
"""

from __future__ import annotations

import email.utils
import os
import re
import sys
import threading
import zlib
from functools import cache, partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

_RANGE = re.compile(r"bytes=(\d+)-(\d*)")
SHIFT = 4096
BOMB_BYTES = 256 * 2**20
MODES = ("honest", "offset", "other", "etag", "gzip", "401", "403", "405", "parent-links", "chunked")


@cache
def gzip_bomb() -> bytes:
    """``BOMB_BYTES`` zero bytes, gzip-compressed (about 250 KB), made block by block."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(2**20)
    return b"".join(packer.compress(block) for _ in range(BOMB_BYTES // len(block))) + packer.flush()


def _etag(path: str) -> str:
    st = os.stat(path)
    return f'"{st.st_ino:x}-{st.st_size:x}-{st.st_mtime_ns:x}"'


def _modified(path: str) -> str:
    return email.utils.formatdate(os.stat(path).st_mtime, usegmt=True)


class _Handler(SimpleHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _targeted(self) -> bool:
        name = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
        return self.server.target is not None and name.upper() == self.server.target.upper()

    def do_HEAD(self) -> None:
        self.server.record(self)
        path = self.translate_path(self.path)
        if os.path.isdir(path) or not os.path.isfile(path):
            return super().do_HEAD()
        self.send_response(200)
        if not (self._targeted() and self.server.mode == "chunked"):
            self.send_header("Content-Length", str(os.path.getsize(path)))
        self._validators(path)
        self.end_headers()

    def do_GET(self) -> None:
        self.server.record(self)
        path = self.translate_path(self.path)
        if os.path.isdir(path):
            return self._directory(path)
        if not os.path.isfile(path):
            return self.send_error(404)
        mode = self.server.mode if self._targeted() else "honest"
        if mode == "chunked":
            return self._chunked(path)
        m = _RANGE.fullmatch((self.headers.get("Range") or "").strip())
        if m is None:
            return self._whole(path)
        start, size = int(m[1]), os.path.getsize(path)
        end = min(int(m[2]) if m[2] else size - 1, size - 1)
        if start >= size:  # nothing of the range exists (an empty file): 416, as nginx and Apache answer
            return self._answer(416, b"", {"Content-Range": f"bytes */{size}"})
        if mode == "gzip":
            return self._answer(206, gzip_bomb(), {"Content-Range": f"bytes {start}-{end}/{size}",
                                                   "Content-Encoding": "gzip", "ETag": _etag(path)})
        source = self.server.other if mode == "other" and self.server.other else path
        shift = SHIFT if mode == "offset" else 0
        self._range(source, start + shift, end + shift, '"another-version"' if mode == "etag" else None)

    def _range(self, path: str, start: int, end: int, etag: str | None) -> None:
        size = os.path.getsize(path)
        end = min(end, size - 1)
        with open(path, "rb") as f:
            f.seek(start)
            body = f.read(max(0, end - start + 1))
        headers = {"Content-Range": f"bytes {start}-{end}/{size}", "ETag": etag or _etag(path),
                   "Last-Modified": _modified(path)}
        self._answer(206, body, headers)

    def _whole(self, path: str) -> None:
        self._answer(200, Path(path).read_bytes(), {"ETag": _etag(path), "Last-Modified": _modified(path)})

    def _chunked(self, path: str) -> None:
        body = Path(path).read_bytes()
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(0, len(body), 65536):
            chunk = body[i:i + 65536]
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def _directory(self, path: str) -> None:
        mode = self.server.mode
        if mode in ("401", "403", "405"):
            return self.send_error(int(mode))
        if mode != "parent-links" or self.server.target is None:
            return super().do_GET()
        target = self.server.target
        names = [n for n in sorted(os.listdir(path)) if n.upper() != target.upper()]
        links = [f'<a href="../elsewhere/{target}">{target}</a>', *(f'<a href="{n}">{n}</a>' for n in names)]
        self._answer(200, ("<html><body>" + "\n".join(links) + "</body></html>").encode(), {"Content-Type": "text/html"})

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _validators(self, path: str) -> None:
        self.send_header("ETag", _etag(path))
        self.send_header("Last-Modified", _modified(path))
        self.send_header("Accept-Ranges", "bytes")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    mode = "honest"
    target: str | None = None
    other: str | None = None
    requests: list[tuple[str, str, dict[str, str]]]
    _lock = threading.Lock()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client that stopped reading is the point
            super().handle_error(request, client_address)

    def record(self, handler: _Handler) -> None:
        with self._lock:
            self.requests.append((handler.command, handler.path, dict(handler.headers.items())))


class HostileServer:
    """Serve ``root`` on 127.0.0.1 (random port) in a thread; ``url`` is its base URL."""

    def __init__(self, root: Path) -> None:
        self.httpd = _Server(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
        self.httpd.requests = []
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def requests(self) -> list[tuple[str, str, dict[str, str]]]:
        """(method, path, headers) of every request since the last :meth:`set`."""
        return self.httpd.requests

    def set(self, mode: str = "honest", target: str | None = None, other: Path | None = None) -> None:
        """Misbehave from now on in ``mode`` (see the module docstring) about files named ``target``."""
        assert mode in MODES, mode
        self.httpd.mode, self.httpd.target = mode, target
        self.httpd.other = None if other is None else str(other)
        self.httpd.requests = []

    def __enter__(self) -> HostileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
