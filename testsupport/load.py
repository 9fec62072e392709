"""A small closed-loop HTTP load generator: N client threads, each with a keep-alive connection,
sending requests back to back for a fixed time or a fixed count. Standard library only.

Used by bench/run.py (latency and throughput) and tests/load, tests/faults (errors under load).
"""
from __future__ import annotations

import http.client
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from testsupport.harness import multipart


@dataclass(frozen=True)
class Call:
    """One kind of request and the statuses that count as a correct answer."""

    name: str
    method: str
    path: str
    body: bytes | None = None
    headers: dict = field(default_factory=dict)
    expect: frozenset = frozenset({200})
    weight: float = 1.0

    @classmethod
    def upload(cls, name: str, path: str, data: bytes, filename: str = "photo.jpg",
               expect=frozenset({200}), weight: float = 1.0) -> Call:
        body, content_type = multipart("image", filename, data)
        return cls(name, "POST", path, body, {"Content-Type": content_type}, frozenset(expect),
                   weight)


@dataclass
class Sample:
    name: str
    started: float      # seconds since the run started
    seconds: float
    status: int | None  # None: the connection failed
    ok: bool
    body: bytes = b""


@dataclass
class Run:
    samples: list[Sample]
    seconds: float
    clients: int

    def of(self, name: str | None = None) -> list[Sample]:
        return [s for s in self.samples if name is None or s.name == name]

    def errors(self, name: str | None = None) -> list[Sample]:
        return [s for s in self.of(name) if not s.ok]

    def statuses(self) -> Counter:
        return Counter((s.name, s.status) for s in self.samples)

    def latency_ms(self, name: str | None = None) -> dict:
        values = sorted(s.seconds * 1000 for s in self.of(name) if s.ok)
        return {
            "count": len(values),
            "p50": percentile(values, 50),
            "p95": percentile(values, 95),
            "p99": percentile(values, 99),
            "max": round(values[-1], 2) if values else None,
        }

    def throughput(self, name: str | None = None) -> float:
        """Correct answers a second over the whole run."""
        return round(sum(1 for s in self.of(name) if s.ok) / self.seconds, 2)


def percentile(sorted_values: list[float], pct: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return None
    rank = max(1, round(pct / 100 * len(sorted_values) + 0.5 - 1e-9))
    return round(sorted_values[min(rank, len(sorted_values)) - 1], 2)


def run(base_url: str, calls: list[Call], clients: int, seconds: float | None = None,
        requests_per_client: int | None = None, timeout: float = 30.0, keep_bodies: bool = False,
        seed: int = 0) -> Run:
    """Each client picks calls at random by weight (in order when there is one call) and sends
    them back to back until the time or the count is up."""
    if (seconds is None) == (requests_per_client is None):
        raise ValueError("give exactly one of seconds and requests_per_client")
    parts = urlsplit(base_url)
    samples: list[Sample] = []
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds if seconds is not None else None
    weights = [call.weight for call in calls]

    def client(index: int) -> None:
        rng = random.Random(seed * 1000 + index)
        connection = None
        done = 0
        while True:
            if deadline is not None and time.perf_counter() >= deadline:
                break
            if requests_per_client is not None and done >= requests_per_client:
                break
            call = calls[0] if len(calls) == 1 else rng.choices(calls, weights)[0]
            if connection is None:
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
            began = time.perf_counter()
            status, body = None, b""
            try:
                connection.request(call.method, call.path, body=call.body, headers=call.headers)
                response = connection.getresponse()
                body = response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = None
            ended = time.perf_counter()
            expected = status in call.expect
            sample = Sample(call.name, began - start, ended - began, status, expected,
                            body if keep_bodies or not expected else b"")
            with lock:
                samples.append(sample)
            done += 1
        if connection is not None:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Run(samples, time.perf_counter() - start, clients)
