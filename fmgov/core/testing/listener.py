"""A loopback HTTP listener for egress tests: it records what reaches it and answers as told.

Bound to 127.0.0.1 on an ephemeral port. ``listener.requests`` holds one
``Seen`` per request (method, path, headers), so a test can assert that a
refused call never arrived or that a header went only where it should.
``answer`` is a function that writes the response; the helpers below build
the usual ones (JSON, redirect, a huge body, a drip).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Listener", "Seen", "drip", "huge", "json_answer", "raw_answer", "redirect"]

Answer = Callable[[BaseHTTPRequestHandler], None]


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]


def raw_answer(data: bytes, status: int = 200, content_type: str = "application/json") -> Answer:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return answer


def json_answer(body: Any, status: int = 200) -> Answer:
    return raw_answer(json.dumps(body).encode(), status)


def redirect(location: str, status: int = 302) -> Answer:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return answer


def huge(total: int, *, declare_length: bool) -> Answer:
    """``total`` bytes of JSON-looking text, with or without Content-Length (then ended by closing)."""
    chunk = b"[" + b"1," * 32767 + b"1"

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        if declare_length:
            handler.send_header("Content-Length", str(total))
        else:
            handler.close_connection = True
            handler.send_header("Connection", "close")
        handler.end_headers()
        sent = 0
        try:
            while sent < total:
                piece = chunk[: total - sent]
                handler.wfile.write(piece)
                sent += len(piece)
        except OSError:
            pass  # the client hung up, as it should

    return answer


def drip(total: int, every_s: float = 1.0) -> Answer:
    """A declared ``total``-byte body sent one byte every ``every_s`` seconds."""

    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(total))
        handler.end_headers()
        try:
            for _ in range(total):
                handler.wfile.write(b" ")
                handler.wfile.flush()
                time.sleep(every_s)
        except OSError:
            pass

    return answer


class _Handler(BaseHTTPRequestHandler):
    server: Listener
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.record(Seen(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
        self.server.answer(self)

    do_GET = do_POST = do_PUT = _handle


class Listener(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, answer: Answer | None = None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answer = answer or json_answer({"ok": True})
        self.requests: list[Seen] = []
        self._lock = threading.Lock()

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up early (a cap, a deadline, a refusal) is what these tests want

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.requests.append(seen)

    def __enter__(self) -> Listener:
        threading.Thread(target=self.serve_forever, args=(0.05,), name="egress-listener", daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
