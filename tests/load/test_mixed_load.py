"""Many clients at once for a fixed time against gunicorn with the real model: page views and
photo uploads mixed. Zero errors, latency percentiles reported, worker memory stable.

    python -m pytest tests/load -m slow -s      # -s shows the percentiles
"""
from __future__ import annotations

import pytest

from testsupport import images, load, photos
from testsupport.harness import GunicornServer, prepare_site

pytestmark = pytest.mark.slow

CLIENTS = 12
SECONDS_PER_HALF = 12
# Memory may grow while the allocator settles on the first large photos (the first half);
# after that, another half of the same load must not add more than this to any worker.
RSS_GROWTH_LIMIT_MB = 40


def mixed_calls() -> list[load.Call]:
    small, large = photos.small_jpeg(), photos.large_jpeg()
    return [
        load.Call("home", "GET", "/", weight=3),
        load.Call("species list", "GET", "/species/", weight=2),
        load.Call("search", "GET", "/species/?q=tiger", weight=1),
        load.Call("species detail", "GET", "/species/domestic-tabby/", weight=2),
        load.Call("identify page", "GET", "/identify/", weight=1),
        load.Call("api species", "GET", "/api/species/?kind=breed", weight=1),
        load.Call.upload("upload 0.3 MP", "/api/classify/", small, weight=2),
        load.Call.upload("upload 12 MP", "/api/classify/", large, weight=0.5),
        load.Call.upload("upload not an image", "/api/classify/", images.TEXT,
                         expect={400}, weight=0.5),
    ]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    site = prepare_site(tmp_path_factory.mktemp("load-site"))
    env = site.with_env(MODEL_REQUIRED=1, IDENTIFY_RATE_LIMIT="off", GUNICORN_ACCESS_LOG="")
    with GunicornServer(env, workers=2, threads=4) as running:
        running.wait_workers(2)
        yield running


def report(run: load.Run, title: str) -> None:
    print(f"\n{title}: {len(run.samples)} requests in {run.seconds:.1f} s from {run.clients} "
          f"clients, {run.throughput():.1f}/s, errors {len(run.errors())}")
    for name in sorted({s.name for s in run.samples}):
        stats = run.latency_ms(name)
        print(f"  {name:22} n={stats['count']:5}  p50 {stats['p50']:8} ms  p95 {stats['p95']:8} ms"
              f"  p99 {stats['p99']:8} ms")


def test_mixed_load_has_no_errors_and_stable_memory(server):
    calls = mixed_calls()
    load.run(server.url, calls, clients=4, requests_per_client=10)  # warm every worker
    first = load.run(server.url, calls, clients=CLIENTS, seconds=SECONDS_PER_HALF, seed=1)
    rss_first = server.worker_rss_mb()
    second = load.run(server.url, calls, clients=CLIENTS, seconds=SECONDS_PER_HALF, seed=2)
    rss_second = server.worker_rss_mb()
    report(first, "first half")
    report(second, "second half")
    print(f"  worker RSS MB after the first half {rss_first}, after the second {rss_second}")

    for run in (first, second):
        assert not run.errors(), [(s.name, s.status, s.body[:200]) for s in run.errors()[:5]]
        names = {s.name for s in run.samples}
        assert {"upload 0.3 MP", "upload 12 MP", "home"} <= names  # the mix really ran
    # The same worker processes served both halves (none crashed and was replaced) ...
    assert set(rss_first) == set(rss_second)
    # ... and their memory did not keep growing.
    for pid, rss in rss_second.items():
        assert rss - rss_first[pid] < RSS_GROWTH_LIMIT_MB, (pid, rss_first[pid], rss)
