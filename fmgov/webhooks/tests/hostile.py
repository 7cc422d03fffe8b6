"""A hostile webhook receiver for the attack tests: it redirects, stalls, drips, floods or never closes.

Raw sockets on loopback, one thread per connection, so that it can misbehave in ways ``http.server`` would not.
"""

from __future__ import annotations

import socket
import threading
import time

__all__ = ["HostileReceiver", "BEHAVIOURS"]

BEHAVIOURS = ("stall", "drip", "flood", "flood-undeclared", "never-closes", "redirect")


class HostileReceiver:
    """``HostileReceiver("drip")``: reads the request, then behaves as named; ``requests`` counts what arrived."""

    def __init__(self, behaviour: str, *, location: str = "") -> None:
        assert behaviour in BEHAVIOURS, behaviour
        self.behaviour, self.location = behaviour, location
        self.requests: list[bytes] = []
        self._stop = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]

    def url(self, path: str = "/hook-Qz8PathToken") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        try:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            self.requests.append(data)
            self._misbehave(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def _misbehave(self, conn: socket.socket) -> None:
        if self.behaviour == "redirect":
            conn.sendall(f"HTTP/1.1 307 Temporary Redirect\r\nLocation: {self.location}\r\n".encode())
            conn.sendall(b"Content-Length: 0\r\n\r\n")
            return
        if self.behaviour == "stall":  # never answers
            self._stop.wait(30)
            return
        if self.behaviour == "drip":  # a 200 whose declared body arrives a byte at a time
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
            while not self._stop.is_set():
                conn.sendall(b"x")
                time.sleep(0.1)
            return
        if self.behaviour == "never-closes":  # a 200 read until close, and the close never comes
            conn.sendall(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nok")
            self._stop.wait(30)
            return
        declared = b"Content-Length: 1073741824\r\n" if self.behaviour == "flood" else b"Connection: close\r\n"
        conn.sendall(b"HTTP/1.1 200 OK\r\n" + declared + b"\r\n")
        chunk = b"y" * 65536
        for _ in range(16384):  # up to 1 GiB, until the client hangs up
            if self._stop.is_set():
                return
            conn.sendall(chunk)

    def __enter__(self) -> HostileReceiver:
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._sock.close()
