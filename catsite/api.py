"""API conventions shared by every app: pagination and one JSON error shape.

Every error leaves the API as {"error": {"code": "...", "message": "...", "details": ...}}
with the right status, so clients handle one shape (details only where there are any).
"""
from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100


def error_response(code: str, message: str, http_status: int, details=None, headers=None):
    body = {"code": code, "message": message}
    if details:
        body["details"] = details
    return Response({"error": body}, status=http_status, headers=headers)


def exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's 500 handling and logging take over
    if isinstance(exc, exceptions.ValidationError):
        code, message, details = "invalid_request", "The request is not valid.", exc.detail
    else:
        detail = getattr(exc, "detail", "")
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        message, details = str(detail) or str(exc), None
    wrapped = error_response(code, message, response.status_code, details)
    for header in ("Retry-After", "WWW-Authenticate", "Allow"):
        if header in response:
            wrapped[header] = response[header]
    return wrapped
