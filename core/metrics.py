"""Prometheus metrics: the ``/metrics`` endpoint, who may read it, and the HTTP request
metrics of every view (prometheus-client).

Under gunicorn every worker is its own process with its own counters: the gunicorn config
(catsite/gunicorn_conf.py) points ``PROMETHEUS_MULTIPROC_DIR`` at an empty folder before the
workers start, each worker writes its values there, and a scrape adds them up across workers
(prometheus-client's multiprocess mode). Without it (runserver, tests) the process's own
registry is served.

``/metrics`` is for the cluster, not the public: it answers only a peer in
``METRICS_ALLOWED_NETWORKS`` (loopback and private networks by default) whose request did not
come through a proxy. Anything else gets the same 404 as an unknown address. The peer is
REMOTE_ADDR, not the client address of the rate limits: behind the ingress every public request
reaches us from the ingress's private address, so a request that carries X-Forwarded-For (or
Forwarded) is refused whatever its peer.
"""
from __future__ import annotations

import ipaddress
import os
import time
from functools import cache

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from core.http_errors import HttpError, error_response

# Seconds: from a cached page (~1 ms) to a 12 MP photo on a busy machine.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

http_requests = Counter(
    "catsite_http_requests", "HTTP requests answered, by view, method and status.",
    ["view", "method", "status"])
http_request_seconds = Histogram(
    "catsite_http_request_seconds", "Time to answer an HTTP request, by view and method.",
    ["view", "method"], buckets=LATENCY_BUCKETS)


def multiprocess_dir() -> str:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")


@cache
def _allowed_networks(networks: tuple[str, ...]):
    return [ipaddress.ip_network(network, strict=False) for network in networks]


def may_read_metrics(request) -> bool:
    if "HTTP_X_FORWARDED_FOR" in request.META or "HTTP_FORWARDED" in request.META:
        return False  # came through a proxy (the public ingress)
    try:
        peer = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if peer.version == 6 and peer.ipv4_mapped:
        peer = peer.ipv4_mapped
    return any(peer in network
               for network in _allowed_networks(tuple(settings.METRICS_ALLOWED_NETWORKS)))


def exposition() -> bytes:
    """Every metric in the text format; under gunicorn, added up across the workers."""
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


@require_safe
@never_cache
def metrics_view(request):
    if not may_read_metrics(request):
        return error_response(request, HttpError("not_found", 404, "Not found."), "404.html")
    return HttpResponse(exposition(), content_type=CONTENT_TYPE_LATEST)


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
