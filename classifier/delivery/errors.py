"""Errors of model delivery. Each one is a single line that says what went wrong and what to do.

Management commands print ``str(error)`` as their only output on failure and exit non-zero.
Messages never carry a secret: they are built from names we choose (store description, blob
key, error code), and anything taken from an SDK exception goes through ``redact`` first.
"""
import logging
import re


class DeliveryError(Exception):
    """Base class: publishing or fetching a model failed; the installed model is untouched."""

    exit_code = 1

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


# --- the store itself -----------------------------------------------------------------------
class StoreNotConfigured(DeliveryError):
    """Settings do not name a store, or name one without what it needs (e.g. credentials)."""


class StoreMissing(DeliveryError):
    """The container (Azure) or the root directory (local store) does not exist."""


class NotFound(DeliveryError):
    """A blob or file is not in the store. ``key`` is its path inside the store."""

    def __init__(self, message: str, key: str = ""):
        self.key = key
        super().__init__(message)


class AccessDenied(DeliveryError):
    """The store refused the credentials for this operation (HTTP 401/403, file permissions)."""


class StoreUnreachable(DeliveryError):
    """Network down, connection refused, timed out: after the configured retries."""


class AlreadyExists(DeliveryError):
    """A write that must not overwrite found something already there."""


class Conflict(DeliveryError):
    """A conditional write lost: somebody else changed the blob since we read it."""


class StoreFailure(DeliveryError):
    """Any other error the store answered with."""


# --- packages and installation --------------------------------------------------------------
class PackageInvalid(DeliveryError):
    """A manifest that is unreadable, of another format, or that the app could not serve."""


class PackageMismatch(DeliveryError):
    """A file whose size or sha256 differs from the manifest (tampered, truncated, mixed up),
    or one the manifest does not list (the rule of classifier.inference.package.verify)."""


class InstallFailed(DeliveryError):
    """Writing the package to the model directory failed (disk full, permissions, I/O)."""


# --- redaction ------------------------------------------------------------------------------
# Query parameters of a SAS that must not reach a log: the signature, and for good measure
# everything after it. Account keys appear in connection strings as AccountKey=...;
_SAS_SIGNATURE = re.compile(r"(?i)\b(sig|signature)=[^&\s'\"]+")
_ACCOUNT_KEY = re.compile(r"(?i)\b(AccountKey|SharedAccessSignature)=[^;\s'\"]+")


def redact(text: str, secrets=()) -> str:
    """Text with SAS signatures, account keys and each of ``secrets`` replaced by '***'."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    text = _SAS_SIGNATURE.sub(r"\1=***", text)
    return _ACCOUNT_KEY.sub(r"\1=***", text)


def first_line(text: str, limit: int = 200) -> str:
    """The first non-empty line of an SDK message, shortened: our errors are one line."""
    for line in str(text).splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= limit else line[: limit - 3] + "..."
    return ""


class RedactSecrets(logging.Filter):
    """A logging filter (settings.LOGGING) that removes SAS signatures and account keys from
    every record. Libraries log URLs with their query strings: urllib3 at DEBUG prints each
    request line, SAS signature included."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True
