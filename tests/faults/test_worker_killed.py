"""A gunicorn worker killed (SIGKILL) under load: the master replaces it, and only the requests
in flight at that moment may fail."""
from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from testsupport import load, photos
from testsupport.harness import GunicornServer, prepare_site

pytestmark = pytest.mark.slow

CLIENTS = 6
LOAD_SECONDS = 10
KILL_AFTER_SECONDS = 3


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    site = prepare_site(tmp_path_factory.mktemp("kill-site"))
    # Queued, not refused: these measure throughput under load; the cap on concurrent
    # identifications (IDENTIFY_MAX_CONCURRENT) is tested in tests/load/test_slow_clients.py.
    env = site.with_env(IDENTIFY_RATE_LIMIT="off", GUNICORN_ACCESS_LOG="",
                        IDENTIFY_MAX_CONCURRENT=0)
    with GunicornServer(env, workers=2, threads=4) as running:
        running.wait_workers(2)
        yield running


def test_killed_worker_is_replaced_and_only_in_flight_requests_fail(server):
    # A fresh connection per request ("Connection: close"), as many clients behave: a request
    # that fails is then one that the killed worker had accepted, not one sent later on a
    # kept-alive connection to a process that no longer exists.
    close = {"Connection": "close"}
    small = load.Call.upload("upload", "/api/classify/", photos.small_jpeg())
    calls = [
        load.Call("home", "GET", "/", headers=close, weight=2),
        load.Call("species", "GET", "/species/domestic-tabby/", headers=close),
        load.Call(small.name, small.method, small.path, small.body,
                  {**small.headers, **close}, weight=2),
    ]
    victim = server.worker_pids()[0]
    killed_at: dict[str, float] = {}
    run_started = time.perf_counter()

    def kill():
        time.sleep(KILL_AFTER_SECONDS)
        os.kill(victim, signal.SIGKILL)
        killed_at["t"] = time.perf_counter() - run_started

    killer = threading.Thread(target=kill)
    killer.start()
    run = load.run(server.url, calls, clients=CLIENTS, seconds=LOAD_SECONDS)
    killer.join()
    failures = run.errors()
    print(f"\n{len(run.samples)} requests, {len(failures)} failed, worker {victim} killed at "
          f"{killed_at['t']:.2f} s: {[(round(s.started, 2), s.name, s.status) for s in failures]}")

    # Replaced: two workers again, the killed one gone, and they answer.
    replacement = server.wait_workers(2, exclude={victim})
    assert victim not in replacement
    # Only requests in flight when the worker died failed: at most one per client, each one
    # started before the kill, and none was a wrong answer (only dropped connections).
    assert len(failures) <= CLIENTS
    assert all(s.status is None for s in failures)
    assert all(s.started <= killed_at["t"] + 0.05 for s in failures)
    # Work went on during and after the kill...
    assert any(s.ok and s.started > killed_at["t"] + 1 for s in run.samples)
    # ... and afterwards everything succeeds.
    after = load.run(server.url, calls, clients=CLIENTS, requests_per_client=5)
    assert not after.errors()
