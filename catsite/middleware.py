"""Request-level guards that must run before anything reads the request body."""
from django.conf import settings

from catmodel.inference import FileTooLarge
from core.http_errors import error_response

# Room for the multipart envelope and the other form fields around the file itself.
MULTIPART_OVERHEAD = 64 * 1024


class UploadSizeLimitMiddleware:
    """Answer 413 at once when the declared body is larger than an upload may be.

    It sits before CsrfViewMiddleware, which reads the body of every POST: without it, a huge
    upload would be streamed to a temp file before any view could refuse it.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > settings.UPLOAD_MAX_BYTES + MULTIPART_OVERHEAD:
            error = FileTooLarge(size=declared, limit=settings.UPLOAD_MAX_BYTES)
            return error_response(request, error, "413.html")
        return self.get_response(request)
