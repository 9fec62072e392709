"""Identification metrics (classifier/metrics.py): every outcome counted with its model, the
stage timings, the confidence, the model served; read back as the metrics port serves them.
Feedback is counted through its API: feedback/tests/test_api.py."""
from __future__ import annotations

import pytest
from django.urls import reverse
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from classifier import runtime
from core import metrics_server
from testsupport import images
from testsupport.web_fixtures import (  # noqa: F401 (fixtures)
    cat_jpeg,
    coffee_jpeg,
    installed_model,
    no_model,
    upload,
)

pytestmark = pytest.mark.django_db
API = reverse("api:classify")


def value(metric, **labels) -> float:
    return REGISTRY.get_sample_value(metric, labels) or 0.0


def identify(client, data, name="photo.jpg"):
    return client.post(API, {"image": upload(data, name)})


@pytest.mark.usefixtures("installed_model")
def test_a_cat_and_not_a_cat_are_counted_with_the_model_and_species(client):
    served = runtime.load()
    model = {"model": served.name, "version": served.version}
    # The tabby photo's answer: "domestic cat" (Felis catus), the level the model supports.
    cat_labels = {**model, "outcome": "cat", "species": "Felis catus"}
    before = {
        "cat": value("catsite_identifications_total", **cat_labels),
        "not": value("catsite_identifications_total", **model, outcome="not_a_cat", species=""),
        "total": value("catsite_identify_seconds_count", stage="total"),
        "decode": value("catsite_identify_seconds_count", stage="decode"),
        "confidence": value("catsite_prediction_confidence_count"),
    }
    assert identify(client, cat_jpeg()).json()["is_cat"]
    assert not identify(client, coffee_jpeg()).json()["is_cat"]
    assert value("catsite_identifications_total", **cat_labels) == before["cat"] + 1
    assert value("catsite_identifications_total", **model, outcome="not_a_cat",
                 species="") == before["not"] + 1
    assert value("catsite_identify_seconds_count", stage="total") == before["total"] + 2
    assert value("catsite_identify_seconds_count", stage="decode") == before["decode"] + 2
    assert value("catsite_prediction_confidence_count") == before["confidence"] + 2
    assert value("catsite_model_info", name=served.name, version=served.version) == 1
    assert value("catsite_model_loaded") == 1


@pytest.mark.usefixtures("installed_model")
def test_errors_are_counted_by_their_code(client):
    served = runtime.load()
    model = {"model": served.name, "version": served.version, "species": ""}
    before = value("catsite_identifications_total", **model, outcome="invalid_image")
    assert identify(client, images.TEXT, "cat.jpg").status_code == 400
    assert value("catsite_identifications_total", **model, outcome="invalid_image") == before + 1


@pytest.mark.usefixtures("no_model")
@pytest.mark.usefixtures("no_model")
def test_no_model_is_counted_and_shown(client):
    labels = {"model": "", "version": "", "outcome": "model_unavailable", "species": ""}
    before = value("catsite_identifications_total", **labels)
    assert identify(client, cat_jpeg()).status_code == 503
    assert value("catsite_identifications_total", **labels) == before + 1
    assert value("catsite_model_loaded") == 0


@pytest.mark.usefixtures("installed_model")
def test_the_scrape_shows_the_identification_metrics(client):
    identify(client, cat_jpeg())
    # What the metrics port serves (core/metrics_server.py), read in this process.
    exposition = generate_latest(metrics_server.registry()).decode()
    families = {f.name: f for f in text_string_to_metric_families(exposition)}
    for name in ("catsite_identifications", "catsite_identify_seconds",
                 "catsite_prediction_confidence", "catsite_model_info", "catsite_model_loaded",
                 "catsite_http_requests", "catsite_http_request_seconds"):
        assert name in families, name
    stages = {s.labels["stage"] for s in families["catsite_identify_seconds"].samples}
    assert stages == {"decode", "preprocess", "inference", "total"}
