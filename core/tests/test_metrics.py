"""/metrics (core/metrics.py): readable from the cluster only, and HTTP metrics per view."""
from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("peer", ["127.0.0.1", "10.1.2.3", "172.20.0.5", "192.168.1.9", "::1",
                                  "fd00::5", "::ffff:10.0.0.7"])
def test_the_cluster_may_read_the_metrics(client, peer):
    response = client.get("/metrics", REMOTE_ADDR=peer)
    assert response.status_code == 200, peer
    assert b"catsite_http_requests_total" in response.content


@pytest.mark.parametrize("peer", ["8.8.8.8", "2001:db8::1", "172.32.0.1", "unknown", ""])
def test_the_public_may_not(client, peer):
    response = client.get("/metrics", REMOTE_ADDR=peer)
    assert response.status_code == 404 and b"catsite_" not in response.content


@pytest.mark.parametrize("header", [{"X-Forwarded-For": "10.0.0.1"},
                                    {"Forwarded": "for=10.0.0.1"}])
def test_a_request_through_a_proxy_may_not(client, header):
    """Behind the ingress a public request reaches the pod from a private address: what came
    through a proxy is refused whatever its peer."""
    response = client.get("/metrics", REMOTE_ADDR="10.0.0.2", headers=header)
    assert response.status_code == 404


def test_the_allow_list_is_a_setting(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["203.0.113.0/24"]
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.7").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 404


def test_requests_are_counted_and_timed_per_view(client):
    def count(view, status):
        return REGISTRY.get_sample_value(
            "catsite_http_requests_total", {"view": view, "method": "GET", "status": status}) or 0

    before = (count("species:detail", "200"), count("species:detail", "404"),
              count("<unmatched>", "404"))
    client.get("/species/lion/")
    client.get("/species/no-such-cat/")
    client.get("/no/such/page/")
    assert (count("species:detail", "200"), count("species:detail", "404"),
            count("<unmatched>", "404")) == (before[0] + 1, before[1] + 1, before[2] + 1)
    assert REGISTRY.get_sample_value("catsite_http_request_seconds_count",
                                     {"view": "species:detail", "method": "GET"}) >= 2
