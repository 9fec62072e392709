"""Logs a machine can read: one JSON object per line (python-json-logger) with the request id.

- ``RequestLogMiddleware`` gives every request an id (``X-Request-ID`` when the client or the
  ingress sent a sane one, else a new one), returns it in the response's ``X-Request-ID``, and
  writes one line per answer on the ``catsite.request`` logger: method, path (never the query
  string or the body: no photo, no search text), status, duration, and whatever the code
  handling the request added with ``annotate`` (an identification's model version, answer and
  timings).
- ``RequestIdFilter`` puts the current request's id on every record logged while it runs, so an
  error's traceback can be found from the id a visitor reports.
- ``JsonFormatter`` writes ``time``, ``level``, ``logger``, ``message`` and the extras.

Imports nothing from Django at module level: gunicorn's master (catsite/gunicorn_conf.py) uses
the formatter before any Django setting exists. The secret redaction filter
(catmodel.redaction.RedactSecrets) runs on the same handlers (settings.LOGGING).
"""
from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from pythonjsonlogger.json import JsonFormatter as _PythonJsonFormatter

REQUEST_ID_HEADER = "X-Request-ID"
# Ids from a client or a proxy are kept when they look like ids (a UUID, a trace id), never
# when they could smuggle anything into a log line.
_SANE_ID = re.compile(r"^[A-Za-z0-9._:+=/-]{1,128}$")

_request = contextvars.ContextVar("catsite_request", default=None)
request_logger = logging.getLogger("catsite.request")


class JsonFormatter(_PythonJsonFormatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, extras."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("fmt", "%(asctime)s %(levelname)s %(name)s %(message)s")
        kwargs.setdefault("rename_fields", {"asctime": "time", "levelname": "level",
                                            "name": "logger"})
        super().__init__(*args, **kwargs)

    def formatTime(self, record, datefmt=None):
        seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{seconds}.{int(record.msecs):03d}Z"


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to records logged while a request is being answered."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = _request.get()
        if current is not None and not hasattr(record, "request_id"):
            record.request_id = current["request_id"]
        return True


def annotate(**fields) -> None:
    """Add fields to the current request's log line (nothing outside a request)."""
    current = _request.get()
    if current is not None:
        current["fields"].update(fields)


def request_id() -> str | None:
    current = _request.get()
    return current["request_id"] if current is not None else None


def _incoming_id(request) -> str:
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    return given if _SANE_ID.match(given) else uuid.uuid4().hex


class RequestLogMiddleware:
    """The request id, and one log line per answer (outermost: it times what the client waits)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        token = _request.set({"request_id": _incoming_id(request), "fields": {}})
        try:
            response = self.get_response(request)
            current = _request.get()
            response.headers[REQUEST_ID_HEADER] = current["request_id"]
            request_logger.info(
                "%s %s %s", request.method, request.path, response.status_code,
                extra={"method": request.method, "path": request.path,
                       "status": response.status_code,
                       "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                       **current["fields"]})
            return response
        finally:
            _request.reset(token)
