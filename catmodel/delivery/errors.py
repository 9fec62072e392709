"""Errors of model delivery. Each one is a single line that says what went wrong and what to do.

Management commands print ``str(error)`` as their only output on failure and exit non-zero.
Messages never carry a secret: they are built from names we choose (store description, blob
key, error code), and anything taken from an SDK exception goes through
``catmodel.redaction.redact`` first.
"""
from catmodel.errors import AppError


class DeliveryError(AppError):
    """Base class: publishing or fetching a model failed; the installed model is untouched.

    Operators meet these through management commands (``exit_code``), not through HTTP; the
    status is there because every AppError has one."""

    code = "delivery_failed"
    status = 500
    exit_code = 1

    def __init__(self, message: str):
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


class EvaluationFailed(DeliveryError):
    """The gate could not evaluate a package on its dataset (unreadable dataset, empty test
    split, a package that cannot be loaded)."""


class GateRefused(DeliveryError):
    """A candidate may not become champion: worse than the champion on the gate's dataset by
    more than the tolerance, or not evaluated; --force overrides (and the history says so)."""


# --- packages and installation --------------------------------------------------------------
class PackageInvalid(DeliveryError):
    """A manifest that is unreadable, of another format, or that the app could not serve."""


class PackageMismatch(DeliveryError):
    """A file whose size or sha256 differs from the manifest (tampered, truncated, mixed up),
    or one the manifest does not list (the rule of catmodel.inference.package.verify)."""


class SignatureRefused(DeliveryError):
    """With MODEL_TRUSTED_KEYS set: a version that is unsigned, signed by another key, or whose
    files differ from what was signed. ``reason`` as in inference.signatures.SignatureRefused."""

    def __init__(self, message: str, reason: str):
        self.reason = reason
        super().__init__(message)


class DowngradeRefused(DeliveryError):
    """A version below MODEL_MIN_VERSION, or an alias that moved below the installed version:
    a possible rollback by whoever can write the store (rollback.py); --allow-downgrade
    overrides."""


class InstallFailed(DeliveryError):
    """Writing the package to the model directory failed (disk full, permissions, I/O)."""


# --- messages -------------------------------------------------------------------------------
def first_line(text: str, limit: int = 200) -> str:
    """The first non-empty line of an SDK message, shortened: our errors are one line."""
    for line in str(text).splitlines():
        line = line.strip()
        if line:
            return line if len(line) <= limit else line[: limit - 3] + "..."
    return ""
