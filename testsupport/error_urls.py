"""A URLconf for the error mapping's tests: one view of each kind that raises what it is told
(``?error=<name>``), mounted beside the site's own URLs (the error page links to them)."""
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import include, path
from rest_framework import exceptions
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from catmodel.inference import FileTooLarge
from core.errors import AppError


class Teapot(AppError):
    code = "teapot"
    status = 418
    default_message = "This server brews tea, not coffee. Ask the kitchen instead."

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": "7"}


ERRORS = {
    "teapot": Teapot,
    "http404": lambda: Http404("No such cat."),
    "permission_denied": PermissionDenied,
    "django_validation": lambda: ValidationError({"name": ["Too long."]}),
    "drf_throttled": lambda: exceptions.Throttled(wait=12),
    # What the upload limit middleware answers with itself (catsite/tests/test_middleware.py).
    "file_too_large": lambda: FileTooLarge(limit=settings.UPLOAD_MAX_BYTES),
    "bug": lambda: RuntimeError("a bug, not an application error"),
}


def raise_requested(request):
    raise ERRORS[request.GET.get("error", "teapot")]()


class RaisingAPIView(APIView):
    permission_classes = [AllowAny]  # noqa: RUF012 - DRF's own convention

    def get(self, request):
        raise_requested(request)


# The site's own URLs, as settings name them when this module is first imported: a test marked
# @pytest.mark.urls(__name__) that imported it only then would include itself, forever.
assert settings.ROOT_URLCONF != __name__, f"import {__name__} before overriding ROOT_URLCONF"

urlpatterns = [
    path("api/raise/", RaisingAPIView.as_view()),  # DRF: the API's exception handler answers
    path("api/raise-plain/", raise_requested),    # plain Django under /api/: the middleware
    path("raise/", raise_requested),               # a page: the middleware, as a page
    path("", include(settings.ROOT_URLCONF)),
]
