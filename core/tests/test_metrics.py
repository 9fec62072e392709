"""The site has no /metrics (they are on METRICS_PORT, core/metrics_server.py: tested under
gunicorn in tests/load/test_operations_gunicorn.py), and HTTP metrics per view."""
from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("headers", [
    {},
    # What a proxy in front may set, or a client may send: none of it makes a request internal.
    {"X-Real-IP": "127.0.0.1"}, {"True-Client-IP": "10.0.0.1"}, {"X-Client-IP": "10.0.0.1"},
    {"CF-Connecting-IP": "10.0.0.1"}, {"X-Cluster-Client-IP": "10.0.0.1"},
    {"X-Forwarded-For": "10.0.0.1"}, {"Forwarded": "for=10.0.0.1"},
])
@pytest.mark.parametrize("peer", ["127.0.0.1", "10.1.2.3", "8.8.8.8"])
def test_the_site_serves_no_metrics_whoever_asks(client, peer, headers):
    response = client.get("/metrics", REMOTE_ADDR=peer, headers=headers)
    assert response.status_code == 404 and b"catsite_" not in response.content


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
