"""Request-level guards that must run before anything reads the request body."""
import threading

from django.conf import settings
from django.urls import reverse

from catmodel.inference import FileTooLarge
from core.errors import ServiceUnavailable
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


class IdentificationsBusy(ServiceUnavailable):
    code = "busy"

    def __init__(self, retry_after: int):
        super().__init__(retry_after, "Many photos are being identified right now. Please try "
                                      f"again in {retry_after} seconds.")


class IdentifyConcurrencyLimitMiddleware:
    """At most IDENTIFY_MAX_CONCURRENT identifications (the page's and the API's POSTs) at once
    in this process; one more is answered 503 with Retry-After at once, before its body is
    read. The body is read by the thread that serves the request: without the cap, slow
    uploads (a client sending a few bytes a second) could hold every thread of a worker, and
    /healthz would wait behind them until the liveness probe restarts the pod. The cap keeps
    threads free for pages and probes; the ingress, which buffers whole request bodies before
    passing them on, keeps slow clients off the threads altogether (docs/deploying.md). 0: no
    cap. A refused request's connection is closed, not drained (catsite/gunicorn_conf.py).
    """

    RETRY_AFTER_SECONDS = 2

    def __init__(self, get_response):
        self.get_response = get_response
        self.limit = settings.IDENTIFY_MAX_CONCURRENT
        self.slots = threading.BoundedSemaphore(self.limit) if self.limit > 0 else None
        self._paths = None

    def _identifies(self, request) -> bool:
        if request.method != "POST" or self.slots is None:
            return False
        if self._paths is None:  # URLs are only resolvable once the URLconf is loaded
            self._paths = {reverse("classifier:identify"), reverse("api:classify")}
        return request.path in self._paths

    def __call__(self, request):
        if not self._identifies(request):
            return self.get_response(request)
        if not self.slots.acquire(blocking=False):
            error = IdentificationsBusy(self.RETRY_AFTER_SECONDS)
            return error_response(request, error)
        try:
            return self.get_response(request)
        finally:
            self.slots.release()
