"""/metrics under gunicorn with several workers (prometheus-client's multiprocess mode): after a
mixed load the counts in one scrape add up to what was sent, whichever worker served it, and
survive a worker's death.

    python -m pytest tests/load/test_metrics_gunicorn.py -m slow
"""
from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from testsupport import images, load, photos
from testsupport.harness import GunicornServer, prepare_site, request

pytestmark = pytest.mark.slow

CALLS = [
    load.Call.upload("cat", "/api/classify/", photos.small_jpeg(), weight=3),
    load.Call.upload("not a cat", "/api/classify/", images.jpeg(images.coffee()), weight=2),
    load.Call.upload("not an image", "/api/classify/", images.TEXT, expect={400}, weight=1),
    load.Call("species page", "GET", "/species/lion/", weight=2),
    load.Call("healthz", "GET", "/healthz", weight=2),
]
OUTCOME = {"cat": "cat", "not a cat": "not_a_cat", "not an image": "invalid_image"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("metrics-site")
    site = prepare_site(workdir)
    env = site.with_env(MODEL_REQUIRED=1, IDENTIFY_RATE_LIMIT="off", GUNICORN_ACCESS_LOG="",
                        PROMETHEUS_MULTIPROC_DIR=workdir / "metrics")
    with GunicornServer(env, workers=2, threads=2) as running:
        running.wait_workers(2)
        yield running


def scrape(server) -> dict:
    status, _headers, body = request("GET", server.url + "/metrics")
    assert status == 200, body[:300]
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(samples, name, **labels) -> float:
    return sum(value for (sample, sample_labels), value in samples.items()
               if sample == name and all(dict(sample_labels).get(k) == v
                                         for k, v in labels.items()))


def test_counts_add_up_across_workers_and_survive_a_dead_worker(server):
    run = load.run(server.url, CALLS, clients=4, requests_per_client=30, seed=3)
    assert not run.errors(), [(s.name, s.status, s.body[:200]) for s in run.errors()[:5]]
    sent = Counter(sample.name for sample in run.samples)
    assert all(sent[name] for name in OUTCOME), sent

    samples = scrape(server)
    for name, outcome in OUTCOME.items():
        assert total(samples, "catsite_identifications_total", outcome=outcome) == sent[name]
    assert total(samples, "catsite_identifications_total", outcome="cat", species="") == 0
    uploads = sent["cat"] + sent["not a cat"] + sent["not an image"]
    assert total(samples, "catsite_http_requests_total", view="api:classify") == uploads
    assert total(samples, "catsite_http_requests_total", view="api:classify",
                 status="400") == sent["not an image"]
    assert total(samples, "catsite_http_requests_total", view="healthz") >= sent["healthz"]
    assert total(samples, "catsite_identify_seconds_count", stage="inference") == (
        sent["cat"] + sent["not a cat"])
    assert total(samples, "catsite_prediction_confidence_count") == (
        sent["cat"] + sent["not a cat"])
    assert total(samples, "catsite_model_loaded") == 1
    assert [labels for (name, labels), value in samples.items()
            if name == "catsite_model_info" and value == 1]
    # Both workers served: each wrote its own counts, and the scrape added them up.
    folder = Path(server.env["PROMETHEUS_MULTIPROC_DIR"])
    assert len(list(folder.glob("counter_*.db"))) >= 2

    victim = server.worker_pids()[0]
    os.kill(victim, signal.SIGKILL)
    server.wait_workers(2, exclude={victim})
    after = scrape(server)
    for name, outcome in OUTCOME.items():  # the dead worker's counts are kept
        assert total(after, "catsite_identifications_total", outcome=outcome) == sent[name]
    # ... and its live gauges dropped (gunicorn_conf.child_exit).
    assert not list(folder.glob(f"gauge_live*_{victim}.db"))
    assert total(after, "catsite_model_loaded") == 1
