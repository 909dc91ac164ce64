"""A misbehaving front for a real server: forwards HTTP requests (S3 to moto) and injects faults.

``faults`` is a queue of what the next requests get instead of the real answer: ``"503"`` (S3
``SlowDown``, throttling), ``"500"`` (``InternalError``), ``"reset"`` (the connection is closed
without an answer) or ``"ok"`` (forwarded). Requests with an empty queue are forwarded.
"""

from __future__ import annotations

import http.client
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

_ERRORS = {
    "503": ("SlowDown", "Please reduce your request rate."),
    "500": ("InternalError", "We encountered an internal error. Please try again."),
}


class _Proxy(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault = self.server.next_fault()
        if fault == "reset":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if fault in _ERRORS:
            code, message = _ERRORS[fault]
            xml = f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
            self._answer(int(fault), {"Content-Type": "application/xml"}, xml.encode())
            return
        upstream = http.client.HTTPConnection(self.server.target, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
        upstream.request(self.command, self.path, body=body or None, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        kept = {k: v for k, v in answer.getheaders() if k.lower() not in ("transfer-encoding", "connection", "content-length")}
        length = answer.getheader("Content-Length") if self.command == "HEAD" else None
        self._answer(answer.status, kept, data, length)
        upstream.close()

    def _answer(self, status: int, headers: dict[str, str], data: bytes, length: str | None = None) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", length or str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    target = ""
    served: list[str]
    faults: list[str]
    _lock = threading.Lock()

    def next_fault(self) -> str | None:
        with self._lock:
            fault = self.faults.pop(0) if self.faults else None
            if fault not in (None, "ok"):
                self.served.append(str(fault))
            return fault


class FaultProxy:
    """Forward 127.0.0.1:<random port> to ``target_url``; ``url`` is the proxy's URL."""

    def __init__(self, target_url: str) -> None:
        self.httpd = _Server(("127.0.0.1", 0), _Proxy)
        self.httpd.target = urlsplit(target_url).netloc
        self.httpd.faults, self.httpd.served = [], []
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def inject(self, faults: list[str]) -> None:
        """The next requests get ``faults``, in order; ``served`` lists those already given."""
        self.httpd.faults, self.httpd.served = list(faults), []

    @property
    def served(self) -> list[str]:
        """Faults given since the last :meth:`inject`."""
        return self.httpd.served

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
