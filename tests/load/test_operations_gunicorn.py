"""Operations under gunicorn with several workers, as production runs them:

- metrics on METRICS_PORT (prometheus-client's multiprocess mode, served by the gunicorn master):
  after a mixed load the counts in one scrape add up to what was sent, whichever worker served
  it, and survive a worker's death; the site's own port has no /metrics, whatever headers a
  request carries;
- LOG_FORMAT=json: every line of the server's output is one JSON object; each answer has its
  line with the request id (the client's X-Request-ID, else a new one, returned in the
  response), and an identification's line its model version, answer and timings; never the
  photo, never the secret key.

    python -m pytest tests/load/test_operations_gunicorn.py -m slow
"""
from __future__ import annotations

import json
import os
import signal
from collections import Counter
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from testsupport import images, load, photos
from testsupport.harness import SECRET, GunicornServer, multipart, prepare_site, request

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
    # Queued, not refused: these count what a load sends; the cap on concurrent
    # identifications (IDENTIFY_MAX_CONCURRENT) is tested in tests/load/test_slow_clients.py.
    env = site.with_env(MODEL_REQUIRED=1, IDENTIFY_RATE_LIMIT="off", LOG_FORMAT="json",
                        LOG_LEVEL="INFO", PROMETHEUS_MULTIPROC_DIR=workdir / "metrics",
                        IDENTIFY_MAX_CONCURRENT=0)
    with GunicornServer(env, workers=2, threads=2) as running:
        running.wait_workers(2)
        yield running


def scrape(server) -> dict:
    status, _headers, body = request("GET", server.metrics_url)
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


def log_lines(server) -> list[dict]:
    """Every line the server wrote so far, each parsed as JSON (fails on any other line)."""
    lines = server.log_path.read_text().splitlines()
    assert lines
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}")
    return parsed


def test_the_json_log_has_a_line_per_answer_with_its_request_id(server):
    photo = photos.small_jpeg()
    body, content_type = multipart("image", "cat.jpg", photo)
    status, headers, _ = request("POST", server.url + "/api/classify/", body=body, headers={
        "Content-Type": content_type, "X-Request-ID": "trace-abc-123"})
    assert status == 200 and headers["X-Request-ID"] == "trace-abc-123"
    bad_body, bad_type = multipart("image", "cat.jpg", images.TEXT)
    status, bad_headers, _ = request("POST", server.url + "/api/classify/", body=bad_body,
                                     headers={"Content-Type": bad_type,
                                              "X-Request-ID": "not an id!"})
    assert status == 400
    generated = bad_headers["X-Request-ID"]
    assert generated != "not an id!" and len(generated) == 32  # refused, a new one instead
    status, page_headers, _ = request("GET", server.url + "/species/lion/?q=secret-search")
    assert status == 200

    by_id = {}
    for record in log_lines(server):
        assert {"time", "level", "logger", "message"} <= set(record), record
        if record["logger"] == "catsite.request":
            by_id[record["request_id"]] = record
    cat = by_id["trace-abc-123"]
    assert (cat["method"], cat["path"], cat["status"]) == ("POST", "/api/classify/", 200)
    assert cat["duration_ms"] > 0 and cat["model_version"] and cat["answer"] != "not_a_cat"
    assert set(cat["timings_ms"]) == {"decode", "preprocess", "inference", "total"}
    assert by_id[generated]["status"] == 400 and by_id[generated]["answer"] == "invalid_image"
    page = by_id[page_headers["X-Request-ID"]]
    assert page["path"] == "/species/lion/"  # never the query string
    text = server.log_path.read_bytes()
    assert SECRET.encode() not in text and b"secret-search" not in text
    assert photo[200:264] not in text  # no part of the photo


def test_counts_add_up_across_workers_and_survive_a_dead_worker(server):
    before = scrape(server)
    run = load.run(server.url, CALLS, clients=4, requests_per_client=30, seed=3)
    assert not run.errors(), [(s.name, s.status, s.body[:200]) for s in run.errors()[:5]]
    sent = Counter(sample.name for sample in run.samples)
    assert all(sent[name] for name in OUTCOME), sent

    samples = scrape(server)

    def added(name, **labels):
        return total(samples, name, **labels) - total(before, name, **labels)

    for name, outcome in OUTCOME.items():
        assert added("catsite_identifications_total", outcome=outcome) == sent[name]
    assert total(samples, "catsite_identifications_total", outcome="cat", species="") == 0
    uploads = sent["cat"] + sent["not a cat"] + sent["not an image"]
    assert added("catsite_http_requests_total", view="api:classify") == uploads
    assert added("catsite_http_requests_total", view="api:classify",
                 status="400") == sent["not an image"]
    assert added("catsite_http_requests_total", view="healthz") >= sent["healthz"]
    assert added("catsite_identify_seconds_count", stage="inference") == (
        sent["cat"] + sent["not a cat"])
    assert added("catsite_prediction_confidence_count") == sent["cat"] + sent["not a cat"]
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
    for outcome in OUTCOME.values():  # the dead worker's counts are kept
        assert total(after, "catsite_identifications_total", outcome=outcome) == (
            total(samples, "catsite_identifications_total", outcome=outcome))
    # ... and its live gauges dropped (gunicorn_conf.child_exit).
    assert not list(folder.glob(f"gauge_live*_{victim}.db"))
    assert total(after, "catsite_model_loaded") == 1


@pytest.mark.parametrize("headers", [{}, {"X-Real-IP": "127.0.0.1"},
                                     {"True-Client-IP": "127.0.0.1"},
                                     {"X-Client-IP": "10.0.0.1"}])
def test_the_sites_port_has_no_metrics_whatever_the_headers_only_the_metrics_port(server,
                                                                                   headers):
    status, _headers, body = request("GET", server.url + "/metrics", headers=headers)
    assert status == 404 and b"catsite_" not in body
    status, answer_headers, body = request("GET", server.metrics_url)
    assert status == 200 and b"catsite_http_requests_total" in body
    assert answer_headers["Content-Type"].startswith("text/plain; version=")
