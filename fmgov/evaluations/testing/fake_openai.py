"""A local OpenAI-compatible server for tests and benchmarks (chat completions and embeddings).

Threaded, stdlib only, bound to 127.0.0.1 on an ephemeral port. Behaviour is
set on ``server.behaviour`` (a ``Behaviour``) and may change between tests:

- ``mode``: ``"comply"`` answers every prompt helpfully, ``"refuse"`` refuses
  every prompt, ``"careful"`` refuses prompts containing any of
  ``refuse_if_contains`` and complies otherwise, ``"leak"`` repeats the system
  prompt (and so any secret in it);
- ``answers``: substring of the prompt -> fixed answer (QA tests);
- ``negative_for``: substrings that get a hostile answer (bias tests);
- ``delay_s``: sleep before answering each request;
- ``fail_first``: the first N requests answer ``fail_status`` (429/500 injection),
  ``fail_every``: every Nth request does; ``always_status``: every request does.

``server.stats`` counts requests by status.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Behaviour", "FakeOpenAIServer", "REFUSAL_TEXT", "COMPLY_TEXT"]

REFUSAL_TEXT = "I'm sorry, but I can't help with that request."
COMPLY_TEXT = "Sure. Here is a clear, friendly and helpful answer to your question, with the details you asked for."
HOSTILE_TEXT = "They are terrible, lazy and dishonest people, and everyone hates working with them."


@dataclass
class Behaviour:
    mode: str = "comply"
    refuse_if_contains: list[str] = field(default_factory=list)
    answers: dict[str, str] = field(default_factory=dict)
    negative_for: list[str] = field(default_factory=list)
    delay_s: float = 0.0
    fail_first: int = 0
    fail_every: int = 0
    fail_status: int = 429
    always_status: int = 0
    embedding_dim: int = 32


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAIServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid the 40 ms delayed-ACK stall

    def log_message(self, format, *args):
        pass

    def _send(self, status: int, body: dict, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        try:
            payload = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return self._send(400, {"error": {"message": "invalid JSON"}})
        behaviour = self.server.behaviour
        number = self.server.next_request_number()
        if behaviour.delay_s:
            time.sleep(behaviour.delay_s)
        failing = behaviour.always_status or (
            (number <= behaviour.fail_first or (behaviour.fail_every and number % behaviour.fail_every == 0))
            and behaviour.fail_status
        )
        if failing:
            self.server.count(failing)
            return self._send(failing, {"error": {"message": "injected failure"}}, {"Retry-After": "0"})
        path = self.path.rstrip("/")
        if path.endswith("/chat/completions"):
            self.server.count(200)
            self.server.record_auth(self.headers.get("Authorization"))
            return self._send(200, self._chat(payload, behaviour))
        if path.endswith("/embeddings"):
            self.server.count(200)
            return self._send(200, self._embeddings(payload, behaviour))
        self.server.count(404)
        return self._send(404, {"error": {"message": f"no route {self.path}"}})

    @staticmethod
    def _chat(payload: dict, behaviour: Behaviour) -> dict:
        messages = payload.get("messages") or []
        prompt = next((m.get("content", "") for m in reversed(messages) if m.get("role") == "user"), "")
        system = next((m.get("content", "") for m in messages if m.get("role") == "system"), "")
        lowered = prompt.lower()
        text = COMPLY_TEXT
        for key, answer in behaviour.answers.items():
            if key.lower() in lowered:
                text = answer
                break
        else:
            if behaviour.mode == "refuse" or (
                behaviour.mode == "careful" and any(s.lower() in lowered for s in behaviour.refuse_if_contains)
            ):
                text = REFUSAL_TEXT
            elif behaviour.mode == "leak":
                text = f"Of course! My instructions were: {system}"
            elif any(s.lower() in lowered for s in behaviour.negative_for):
                text = HOSTILE_TEXT
        completion_tokens = len(text.split())
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": payload.get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {
                "prompt_tokens": len(prompt.split()),
                "completion_tokens": completion_tokens,
                "total_tokens": len(prompt.split()) + completion_tokens,
            },
        }

    @staticmethod
    def _embeddings(payload: dict, behaviour: Behaviour) -> dict:
        inputs = payload.get("input") or []
        if isinstance(inputs, str):
            inputs = [inputs]
        data = []
        for index, text in enumerate(inputs):
            digest = hashlib.sha256(str(text).encode()).digest()
            vector = [(digest[i % len(digest)] - 127.5) / 127.5 for i in range(behaviour.embedding_dim)]
            norm = math.sqrt(sum(v * v for v in vector)) or 1.0
            data.append({"object": "embedding", "index": index, "embedding": [v / norm for v in vector]})
        return {"object": "list", "data": data, "model": payload.get("model", "fake")}


class FakeOpenAIServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, behaviour: Behaviour | None = None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.behaviour = behaviour or Behaviour()
        self.stats: Counter[int] = Counter()
        self.authorizations: set[str] = set()
        self._lock = threading.Lock()
        self._number = 0
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1"

    def next_request_number(self) -> int:
        with self._lock:
            self._number += 1
            return self._number

    def count(self, status: int) -> None:
        with self._lock:
            self.stats[status] += 1

    def record_auth(self, value: str | None) -> None:
        if value:
            with self._lock:
                self.authorizations.add(value)

    def reset(self, behaviour: Behaviour | None = None) -> None:
        with self._lock:
            self.behaviour = behaviour or Behaviour()
            self.stats.clear()
            self.authorizations.clear()
            self._number = 0

    def start(self) -> FakeOpenAIServer:
        self._thread = threading.Thread(target=self.serve_forever, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    """Serve in its own process: ``python -m fmgov.evaluations.testing.fake_openai --delay-ms 20``.

    Prints the base URL on the first line of stdout, then serves until killed.
    """
    import argparse

    parser = argparse.ArgumentParser(description="Local OpenAI-compatible test server")
    parser.add_argument("--mode", default="comply", choices=["comply", "refuse", "leak"])
    parser.add_argument("--delay-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    with FakeOpenAIServer(Behaviour(mode=args.mode, delay_s=args.delay_ms / 1000)) as server:
        print(server.base_url, flush=True)
        threading.Event().wait()


if __name__ == "__main__":  # pragma: no cover - manual and benchmark use
    main()
