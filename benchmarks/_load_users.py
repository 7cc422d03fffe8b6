"""The load driver's virtual users and their statistics (see load.py for the run itself)."""

from __future__ import annotations

import random
import statistics
import time
from collections import defaultdict

__all__ = ["Stats", "User"]


class Stats:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.samples: dict[str, str] = {}
        self.reads: dict[str, list[float]] = defaultdict(list)  # read latencies by endpoint, to see which costs

    def record(self, action: str, seconds: float, ok: bool, detail: str = "", endpoint: str = "") -> None:
        self.latencies[action].append(seconds)
        if endpoint:
            self.reads[endpoint].append(seconds)
        if not ok:
            self.errors[action] += 1
            self.samples.setdefault(action, detail)

    @staticmethod
    def _pct(values: list[float], q: float) -> float:
        if not values:
            return 0.0
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] * 1000

    def summary(self, elapsed: float) -> dict:
        everything = [v for values in self.latencies.values() for v in values]
        rows = {
            action: {
                "requests": len(values),
                "p50_ms": self._pct(values, 0.50),
                "p95_ms": self._pct(values, 0.95),
                "errors": self.errors[action],
            }
            for action, values in sorted(self.latencies.items())
        }
        return {
            "requests": len(everything),
            "rps": len(everything) / elapsed if elapsed else 0.0,
            "p50_ms": self._pct(everything, 0.50),
            "p95_ms": self._pct(everything, 0.95),
            "p99_ms": self._pct(everything, 0.99),
            "mean_ms": statistics.fmean(everything) * 1000 if everything else 0.0,
            "errors": sum(self.errors.values()),
            "actions": rows,
            "reads": {
                endpoint: {"requests": len(values), "p50_ms": self._pct(values, 0.5), "p95_ms": self._pct(values, 0.95)}
                for endpoint, values in sorted(self.reads.items())
            },
            "error_samples": self.samples,
        }


class User:
    """One virtual user: its own token, connection, and the objects it created."""

    def __init__(self, client, fixtures: dict, index: int, stats: Stats):
        self.client = client
        self.fixtures = fixtures
        self.index = index
        self.stats = stats
        self.random = random.Random(index)
        self.deployments: list[int] = []
        self.reviews: list[int] = []
        self.counter = 0

    async def _call(self, action: str, method: str, url: str, expect: tuple[int, ...], endpoint: str = "", **kwargs):
        started = time.perf_counter()
        try:
            response = await self.client.request(method, url, **kwargs)
        except Exception as exc:  # a timeout or a dropped connection is an error, not a crash
            self.stats.record(action, time.perf_counter() - started, False, f"{method} {url}: {exc!r}", endpoint)
            return None
        ok = response.status_code in expect
        detail = "" if ok else f"{method} {url} -> {response.status_code} {response.text[:300]}"
        self.stats.record(action, time.perf_counter() - started, ok, detail, endpoint)
        return response if ok else None

    async def read(self):
        url = self.random.choice(
            [
                "/api/v1/foundation-models/",
                "/api/v1/deployments/",
                "/api/v1/reviews/",
                "/api/v1/audit-events/",
                f"/api/v1/foundation-models/{self.random.choice(self.fixtures['models'])}/",
            ]
        )
        endpoint = url if url.endswith("s/") else "/api/v1/foundation-models/{id}/"
        await self._call("read", "GET", url, (200,), endpoint=endpoint)

    async def registry_write(self):
        self.counter += 1
        if self.deployments and self.random.random() < 0.4:
            deployment = self.random.choice(self.deployments)
            body = {"region": f"region-{self.index}-{self.counter}"}
            await self._call("registry_write", "PATCH", f"/api/v1/deployments/{deployment}/", (200,), json=body)
            return
        body = {
            "name": f"load-{self.index}-{self.counter}",
            "foundation_model": self.random.choice(self.fixtures["models"]),
            "environment": "staging",
            "region": "eu-west",
        }
        response = await self._call("registry_write", "POST", "/api/v1/deployments/", (201,), json=body)
        if response is not None:
            self.deployments.append(response.json()["id"])

    async def review_action(self):
        fresh = [d for d in self.deployments if d not in self.fixtures.setdefault("reviewed", set())]
        if fresh and (not self.reviews or self.random.random() < 0.5):
            deployment = fresh[0]
            self.fixtures["reviewed"].add(deployment)
            body = {"deployment": deployment, "title": f"load review {self.index}-{self.counter}"}
            response = await self._call("review_action", "POST", "/api/v1/reviews/", (201,), json=body)
            if response is not None:
                self.reviews.append(response.json()["id"])
            return
        if not self.reviews:
            await self._call("review_action", "GET", "/api/v1/reviews/", (200,))
            return
        body = {
            "category": self.random.choice(self.fixtures["categories"]),
            "description": "load-test risk item",
            "likelihood": 3,
            "severity": 4,
            "mitigation": "rate limits",
            "residual_likelihood": 2,
            "residual_severity": 3,
        }
        review = self.random.choice(self.reviews)
        await self._call("review_action", "POST", f"/api/v1/reviews/{review}/items/", (201,), json=body)

    async def report_request(self):
        body = {"kind": "period_summary", "period_start": "2026-01-01", "period_end": "2026-11-01"}
        await self._call("report_request", "POST", "/api/v1/reports/", (201, 202), json=body)

    async def baseline(self):
        await self._call("baseline", "GET", "/bench/baseline/", (200,))
