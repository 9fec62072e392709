"""The one mapping from errors to HTTP answers, for the API, the middleware and the pages.

Every error a client sees is first an ``AppError`` (``as_app_error`` translates Django's and
DRF's exceptions), then one of two answers: on the API (paths under /api/) the JSON body
``AppError.as_json()`` builds, ``{"error": {"code", "message", "details"?}}``; on a page, a
template rendered with the error (its message) and its status. Both carry the error's headers
(Retry-After when rate limited or briefly unavailable).

Three entry points use it: ``api_exception_handler`` (settings.REST_FRAMEWORK), the
``AppErrorMiddleware`` (an AppError raised in any view outside DRF), and ``error_response`` /
``error_page`` for views and middleware that answer with an error themselves.
"""
from __future__ import annotations

import math

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.template import loader
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.errors import AppError

API_PREFIX = "/api/"
ERROR_PAGE = "core/error.html"


class HttpError(AppError):
    """A framework's exception (Django's, DRF's) in the application's vocabulary."""

    def __init__(self, code: str, status: int, message: str, details=None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.code, self.status, self.details = code, status, details
        self._headers = headers or {}

    @property
    def headers(self) -> dict[str, str]:
        return self._headers


def as_app_error(exc: Exception) -> AppError | None:
    """``exc`` as an AppError; None for an unexpected error (a bug: Django's 500 handling and
    logging take over)."""
    if isinstance(exc, AppError):
        return exc
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, ValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    if isinstance(exc, exceptions.ValidationError):
        return HttpError("invalid_request", exc.status_code, "The request is not valid.",
                         details=exc.detail)
    if isinstance(exc, exceptions.APIException):
        detail = exc.detail
        headers = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(math.ceil(exc.wait))
        return HttpError(getattr(detail, "code", None) or exc.default_code, exc.status_code,
                         str(detail) or str(exc), headers=headers)
    return None


def not_found() -> HttpError:
    """The 404 of the site and the API. Never str(exception): for an unknown URL that lists
    the URL patterns tried."""
    return HttpError("not_found", 404, "Not found.")


def is_api_request(request) -> bool:
    return request.path.startswith(API_PREFIX)


def error_json(error: AppError) -> JsonResponse:
    return JsonResponse(error.as_json(), status=error.status, headers=error.headers)


def error_page(error: AppError, template: str = ERROR_PAGE, context: dict | None = None,
               request=None) -> HttpResponse:
    """``template`` rendered with ``error`` (and ``context``), with the error's status and
    headers. Without ``request`` the page is rendered without a request context, for answers
    given while the database or a context processor may be what failed."""
    html = loader.get_template(template).render({**(context or {}), "error": error}, request)
    return HttpResponse(html, status=error.status, headers=error.headers)


def error_response(request, error: AppError, template: str = ERROR_PAGE,
                   context: dict | None = None, request_context: bool = True) -> HttpResponse:
    """The answer to ``error``: JSON on the API, ``template`` on a page."""
    if is_api_request(request):
        return error_json(error)
    return error_page(error, template, context, request if request_context else None)


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every API error in the one JSON shape."""
    error = as_app_error(exc)
    if error is None:
        return None
    set_rollback()  # as DRF's own handler does, for ATOMIC_REQUESTS
    return Response(error.as_json(), status=error.status, headers=error.headers)


def _is_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


class AppErrorMiddleware:
    """Answers an AppError raised in any view outside DRF (DRF views answer through
    ``api_exception_handler`` before this sees them): JSON on the API, the error page
    elsewhere. Anything else goes on to Django's own handling (404 page, 500 page, logging)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 404 and is_api_request(request) and not _is_json(response):
            # With DEBUG on, Django answers an unknown URL (and an Http404 outside DRF) with its
            # HTML debug page instead of calling handler404: the API's clients get its JSON in
            # every mode. (CommonMiddleware, outside this, still redirects to the URL with a
            # slash when that one exists.)
            return error_json(not_found())
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, AppError):
            return error_response(request, exception)
        return None
