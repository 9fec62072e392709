"""The application's one error type, defined here, in the model library, so that the library
and the apps share it without the library importing Django or an app. Every failure a user or
an operator can act on is an ``AppError`` (or a subclass): a stable ``code`` for clients, the
HTTP ``status`` the web layer answers with (a plain int: nothing here imports Django) and a
one-line ``message`` that says what went wrong and what to do.

``core.errors`` re-exports it for the apps (and adds the web's own errors); one place maps it to
HTTP (``core.http_errors``: ``{"error": {"code", "message", "details"?}}``) for the API, the
middleware and the pages; management commands print ``str(error)`` and exit non-zero.
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
