"""The drift gauges on METRICS_PORT under gunicorn with two workers, as production serves them:
``catsite_drift_psi{model, version, signal}`` computed from the database by one worker at a
time (classifier/drift.py), published to PROMETHEUS_MULTIPROC_DIR and served by the master
(core/metrics_server.py), which never imports Django.

The tiny colour model (testsupport/tiny_package.py), "red" owned by the lion, its reference
recorded by ``manage.py evaluate_model`` on a test split of two red photos and one blue; then
live answers through POST /api/classify/ with more blue photos than the split had.

    python -m pytest tests/load/test_drift_gauges_gunicorn.py -m slow
"""
from __future__ import annotations

import json
import math
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from catmodel.evaluation import drift as profiles
from testsupport import datasets, tiny_package
from testsupport.harness import GunicornServer, install_model, manage, multipart, prepare_site
from testsupport.harness import request as http
from testsupport.tiny_package import BLUE, RED, colour_photo

pytestmark = pytest.mark.slow
TEST_SPLIT = [(colour_photo(RED), "lion"), (colour_photo(RED, 3), "lion"),
              (colour_photo(BLUE), "not-a-cat")]
LIVE = [data for data, _ in TEST_SPLIT] + [colour_photo(BLUE, s) for s in (2, 4, 6)]


def drift_samples(server) -> dict:
    status, _headers, body = http("GET", server.metrics_url)
    assert status == 200, body[:300]
    return {(s.labels["model"], s.labels["version"], s.labels["signal"]): s.value
            for family in text_string_to_metric_families(body.decode())
            for s in family.samples if s.name == "catsite_drift_psi"}


def test_drift_gauges_on_the_metrics_port(tmp_path):
    site = prepare_site(tmp_path, model=False)
    manage(site.env, "shell", "-c",
           "from species.models import ModelLabel, Species; "
           "ModelLabel.objects.create(label='red', species=Species.objects.get(slug='lion'))")
    package = tiny_package.write_package(tmp_path / "package")
    dataset = datasets.write_dataset(tmp_path / "dataset",
                                     [(data, label, "test") for data, label in TEST_SPLIT])
    output = manage(site.env, "evaluate_model", str(package), "--data", str(dataset))
    assert "Recorded the reference profile (test split, 3 photo(s))" in output
    reference = profiles.reference_of(json.loads((package / "manifest.json").read_text()))
    install_model(package, tmp_path / "model", version="0.0.1")
    env = site.with_env(MODEL_REQUIRED=1, IDENTIFY_RATE_LIMIT="off",
                        PROMETHEUS_MULTIPROC_DIR=tmp_path / "metrics", DRIFT_REFRESH_SECONDS=1,
                        DRIFT_MIN_IDENTIFICATIONS=1)
    with GunicornServer(env, workers=2, threads=2) as server:
        server.wait_workers(2)
        assert drift_samples(server) == {}  # no answers yet: no version to measure
        confidences = []
        for data in LIVE:
            body, content_type = multipart("image", "photo.jpg", data)
            status, _headers, answer = http("POST", server.url + "/api/classify/", body=body,
                                            headers={"Content-Type": content_type})
            assert status == 200, answer[:300]
            confidences.append(json.loads(answer)["predictions"][0]["probability"])
        # Reference: lion 2/3, not a cat 1/3; live: lion 2/6, not a cat 4/6.
        answers = (1 / 3 - 2 / 3) * math.log(1 / 2) + (2 / 3 - 1 / 3) * math.log(2)
        confidence = profiles.psi(reference.confidence_shares,
                                  profiles.confidence_shares(confidences))
        deadline = time.monotonic() + 20
        samples = drift_samples(server)
        while samples.get(("tiny-colours", "0.0.1", "answers")) != pytest.approx(answers):
            assert time.monotonic() < deadline, f"no fresh drift gauges: {samples}"
            time.sleep(0.5)
            samples = drift_samples(server)
        assert samples == {("tiny-colours", "0.0.1", "answers"): pytest.approx(answers),
                           ("tiny-colours", "0.0.1", "confidence"): pytest.approx(confidence)}
        assert answers > profiles.PSI_MAJOR and confidence > 0
        assert "Computing the drift gauges failed" not in server.logs()
