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

Gauges computed from the database (the drift of each model version: classifier/drift.py) cannot
be computed here, then, nor kept by the workers' multiprocess gauges (a label set that goes away
would stay). One worker at a time computes them now and then and publishes them whole to a file
in PROMETHEUS_MULTIPROC_DIR (``publish_gauges``); a scrape reads the file
(``PublishedGauges``), and gauges past their expiry (no worker renewed them) are not served.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server
from prometheus_client.core import GaugeMetricFamily

PUBLISHED_FILE = "published-gauges.json"


def registry():
    """Every worker's metrics added up under gunicorn (PROMETHEUS_MULTIPROC_DIR set), else this
    process's own."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        collected = CollectorRegistry()
        multiprocess.MultiProcessCollector(collected)
        collected.register(PublishedGauges(os.environ["PROMETHEUS_MULTIPROC_DIR"]))
        return collected
    return REGISTRY


def serve_metrics(host: str, port: int):
    """Serve ``/metrics`` on host:port from a daemon thread; returns the HTTP server."""
    server, _thread = start_http_server(port, addr=host, registry=registry())
    return server


def published_path(folder=None) -> Path:
    return Path(folder or os.environ["PROMETHEUS_MULTIPROC_DIR"]) / PUBLISHED_FILE


def publish_gauges(families: list[dict], *, expires_in: float, folder=None) -> None:
    """Replace the published gauges: each family ``{"name", "documentation", "labels": [...],
    "samples": [[label values..., value], ...]}``, served until ``expires_in`` seconds from now.
    Written beside and renamed over the old file: a scrape reads one or the other, whole."""
    path = published_path(folder)
    now = time.time()
    document = {"published_at": now, "expires_at": now + expires_in, "families": families}
    handle, temporary = tempfile.mkstemp(prefix=f".{PUBLISHED_FILE}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as stream:
            json.dump(document, stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def published_at(folder=None) -> float | None:
    """When the gauges were last published (seconds since the epoch), or None."""
    document = _read_published(published_path(folder))
    return document.get("published_at") if document else None


def _read_published(path: Path) -> dict | None:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return document if isinstance(document, dict) else None


class PublishedGauges:
    """A collector serving the gauges of ``publish_gauges`` (nothing once they expired)."""

    def __init__(self, folder):
        self.path = published_path(folder)

    def collect(self):
        document = _read_published(self.path)
        if not document or document.get("expires_at", 0) < time.time():
            return
        for family in document.get("families", []):
            gauge = GaugeMetricFamily(family["name"], family["documentation"],
                                      labels=family["labels"])
            for *values, value in family["samples"]:
                gauge.add_metric([str(v) for v in values], float(value))
            yield gauge
