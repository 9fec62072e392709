"""The application's one error type. Every failure a user or an operator can act on is an
``AppError`` (or a subclass): a stable ``code`` for clients, the HTTP ``status`` the web layer
answers with (a plain int: this module never imports Django) and a one-line ``message`` that
says what went wrong and what to do.

One place maps it to HTTP (``core.http_errors``: ``{"error": {"code", "message"}}``) for the
API, the middleware and the pages; management commands print ``str(error)`` and exit non-zero.
"""


class AppError(Exception):
    code = "error"
    status = 500
    default_message = "Something went wrong. Please try again."
    # Structured detail some clients can use (e.g. which form field is wrong); None for most.
    details = None

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers the answer carries besides the body (e.g. Retry-After)."""
        return {}

    def as_json(self) -> dict:
        """The error body every client sees: {"error": {"code": ..., "message": ...}}, plus
        "details" when there are any. The one definition of that shape."""
        body = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class ServiceUnavailable(AppError):
    """A passing outage (the database is unreachable): come back in ``retry_after`` seconds."""

    code = "service_unavailable"
    status = 503
    default_message = "The service is briefly unavailable. Please try again in a moment."

    def __init__(self, retry_after: int, message: str | None = None):
        self.retry_after = retry_after
        super().__init__(message)

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
