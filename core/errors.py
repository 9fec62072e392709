"""The errors of the apps: the one ``AppError`` (defined in the model library,
``catmodel.errors``, so that its errors are the same class) and the web's own.

One place maps them to HTTP (``core.http_errors``: ``{"error": {"code", "message"}}``) for the
API, the middleware and the pages; management commands print ``str(error)`` and exit non-zero.
"""
from catmodel.errors import AppError

__all__ = ["AppError", "ServiceUnavailable"]


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
