"""The application's one error type. Every failure a user or an operator can act on is an
``AppError`` (or a subclass): a stable ``code`` for clients, the HTTP ``status`` the web layer
answers with (a plain int: this module never imports Django) and a one-line ``message`` that
says what went wrong and what to do.

One place maps it to HTTP (``{"error": {"code", "message"}}``) for the API, the middleware and
the pages; management commands print ``str(error)`` and exit non-zero.
"""


class AppError(Exception):
    code = "error"
    status = 500
    default_message = "Something went wrong. Please try again."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)

    def as_json(self) -> dict:
        """The error body every client sees: {"error": {"code": ..., "message": ...}}."""
        return {"error": {"code": self.code, "message": self.message}}
