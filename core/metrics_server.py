"""Prometheus metrics on a port of their own (METRICS_PORT), never on the site's port.

Why a port and not a token or an address check on the site's ``/metrics``: the public reaches
the pods only through the ingress, which routes the Service's ``http`` port; what it forwards
carries headers (X-Forwarded-For, X-Real-IP, True-Client-IP, ...) that the app cannot tell from
a client's own, so deciding "internal" from them let anyone behind a proxy that sets only one
of them read the metrics. A port the ingress never routes needs no such judgement and no secret
to hand to Prometheus and rotate; the chart's NetworkPolicy admits it only from Prometheus's
namespace. A scrape is also answered without a gunicorn worker thread, so slow uploads that
hold every thread do not blind the monitoring.

gunicorn's master runs it (catsite/gunicorn_conf.py, ``when_ready``): prometheus-client's own
HTTP server in a thread, serving what every worker wrote to PROMETHEUS_MULTIPROC_DIR, added up
(multiprocess mode). The master runs no application code, and the workers it forks get no copy
of the thread. No Django here: the master never imports it.
"""
from __future__ import annotations

import os

from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server


def registry():
    """Every worker's metrics added up under gunicorn (PROMETHEUS_MULTIPROC_DIR set), else this
    process's own."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        collected = CollectorRegistry()
        multiprocess.MultiProcessCollector(collected)
        return collected
    return REGISTRY


def serve_metrics(host: str, port: int):
    """Serve ``/metrics`` on host:port from a daemon thread; returns the HTTP server."""
    server, _thread = start_http_server(port, addr=host, registry=registry())
    return server
