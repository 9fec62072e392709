"""Prometheus metrics: the HTTP request metrics of every view (prometheus-client). They are read
on a port of their own (METRICS_PORT, core/metrics_server.py), never through the site: the site
has no ``/metrics`` (a 404 like any unknown address, whatever the request's headers say).

Under gunicorn every worker is its own process with its own counters: the gunicorn config
(catsite/gunicorn_conf.py) points ``PROMETHEUS_MULTIPROC_DIR`` at an empty folder before the
workers start, each worker writes its values there, and a scrape adds them up across workers
(prometheus-client's multiprocess mode).
"""
from __future__ import annotations

import time

from django.conf import settings
from prometheus_client import Counter, Histogram

# Seconds: from a cached page (~1 ms) to a 12 MP photo on a busy machine.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

http_requests = Counter(
    "catsite_http_requests", "HTTP requests answered, by view, method and status.",
    ["view", "method", "status"])
http_request_seconds = Histogram(
    "catsite_http_request_seconds", "Time to answer an HTTP request, by view and method.",
    ["view", "method"], buckets=LATENCY_BUCKETS)


def _view_label(request) -> str:
    # Names of routes, never raw paths: a label value per URL would grow without bound.
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return match.view_name or match._func_path
    if request.path_info.startswith("/" + settings.STATIC_URL.lstrip("/")):
        return "<static>"
    return "<unmatched>"


class RequestMetricsMiddleware:
    """Counts and times every answer, by view name (outermost: what the client waited for)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        view = _view_label(request)
        method = request.method if request.method in _METHODS else "other"
        http_requests.labels(view, method, str(response.status_code)).inc()
        http_request_seconds.labels(view, method).observe(time.perf_counter() - started)
        return response
