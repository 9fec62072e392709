"""Operational endpoints for probes and humans: liveness, readiness, version. All JSON."""
import platform

import django
from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from catsite.revision import app_revision
from classifier import runtime
from core import shared_cache


@require_safe
@never_cache
def healthz(request):
    """The process is alive and answering. No I/O, so a slow database never restarts pods."""
    return JsonResponse({"status": "ok"})


@require_safe
@never_cache
def readyz(request):
    """Ready for traffic: the database answers with every migration applied, and the model is
    loaded when it is required, its warm-up inference run (and the challenger's, when one is
    set; 503 with ``checks.model.warming_up`` meanwhile). Why the model is not loaded (a path,
    a key file) is told only with HEALTH_SHOW_DETAILS; the logs always say it.

    The caches are reported, never a reason to be unready: without Redis the site serves
    every page (uncached) and counts limits per process, and taking every pod out of the
    Service for a cache outage would turn it into a site outage. A cache that does not answer
    makes the answer ``"degraded": true`` (still 200), with ``checks.cache`` saying which; so
    does a challenger that failed to load (``checks.challenger``)."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = {"ok": True}
    except DatabaseError as exc:
        checks["database"] = {"ok": False, "error": exc.__class__.__name__}
    else:
        checks["migrations"] = migrations_check()
    model = runtime.status()
    checks["model"] = {
        # Warming up is never ready, required or not: it ends in a moment, and a worker that
        # took traffic now would make its first visitors pay the cold start.
        "ok": (model["loaded"] or not settings.MODEL_REQUIRED) and not model.get("warming_up"),
        "loaded": model["loaded"],
        "required": settings.MODEL_REQUIRED,
    }
    if model.get("warming_up"):
        checks["model"]["warming_up"] = True
    if model.get("warm_up_ms") is not None:  # the warm-up inference this process ran
        checks["model"]["warm_up_ms"] = model["warm_up_ms"]
    if model.get("error"):
        checks["model"]["error"] = (model["error"] if settings.HEALTH_SHOW_DETAILS
                                    else model.get("reason", "the model failed to load"))
    if model.get("challenger"):
        checks["challenger"] = challenger_check(model["challenger"])
    ready = all(check["ok"] for check in checks.values())
    caches = {purpose: shared_cache.state(alias) for purpose, alias in
              (("pages", shared_cache.PAGES), ("counters", shared_cache.COUNTERS))}
    degraded = (not all(state["ok"] for state in caches.values())
                or not checks.get("challenger", {"loaded": True})["loaded"])
    checks["cache"] = {"ok": True, "degraded": degraded, **caches}
    return JsonResponse({"ready": ready, "degraded": degraded, "checks": checks},
                        status=200 if ready else 503)


def challenger_check(challenger: dict) -> dict:
    """The challenger set for shadow scoring (MODEL_CHALLENGER_DIR), once its load and warm-up
    are over (the process is not ready before: see runtime.status). A challenger that failed
    is reported, and makes the answer degraded, but never unready: it is scored off the
    response path, and a broken candidate must not take the champion's pods out of service
    (nor stall a rollout of the site). Shadow scoring is off in that process meanwhile."""
    check = {"ok": True, "loaded": challenger["loaded"]}
    if challenger.get("error"):
        check["error"] = (challenger["error"] if settings.HEALTH_SHOW_DETAILS
                          else "the challenger failed to load")
    return check


def migrations_check() -> dict:
    """Every migration of this code applied: a pod must not serve an empty or older schema
    (before the chart's migration Job has run, or after it failed). A few milliseconds."""
    try:
        executor = MigrationExecutor(connection)
        unapplied = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    if unapplied:
        return {"ok": False, "unapplied": len(unapplied)}
    return {"ok": True}


@require_safe
@never_cache
def version(request):
    """What is deployed: the app and the model. The versions of Python, Django and ONNX Runtime
    would tell an attacker which published vulnerabilities apply: only with HEALTH_SHOW_DETAILS."""
    model = runtime.status()
    answer = {
        "app": {"version": settings.APP_VERSION, "revision": app_revision() or None},
        # With INFERENCE_URL: the model service's model ("service": true), as it reports it.
        "model": {"name": model.get("name"), "version": model.get("version"),
                  "loaded": model["loaded"], "service": bool(model.get("service"))},
    }
    if settings.HEALTH_SHOW_DETAILS:
        answer["runtime"] = {
            "python": platform.python_version(),
            "django": django.get_version(),
            "onnxruntime": runtime.onnxruntime_version(),
        }
    return JsonResponse(answer)
