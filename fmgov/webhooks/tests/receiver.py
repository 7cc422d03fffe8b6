"""A loopback webhook receiver for the tests: records every POST (headers and raw body), answers as scripted."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Receiver", "Received"]


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def log_message(self, format, *args):  # quiet
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        status = self.server.take(Received(self.path, dict(self.headers.items()), body))
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "19")
        self.end_headers()
        self.wfile.write(b"receiver body: noop")


class Receiver(ThreadingHTTPServer):
    """``Receiver(statuses=[500, 500])`` answers 500 twice, then 200 for ever."""

    daemon_threads = True

    def __init__(self, statuses: list[int] | None = None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.statuses = list(statuses or [])
        self.received: list[Received] = []
        self._lock = threading.Lock()

    def take(self, received: Received) -> int:
        with self._lock:
            self.received.append(received)
            return self.statuses.pop(0) if self.statuses else 200

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
