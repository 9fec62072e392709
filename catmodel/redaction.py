"""Keeping secrets out of text and logs: SAS signatures, account keys and given secrets.

``redact`` cleans a message before it reaches an error or a log; ``RedactSecrets`` is the logging
filter (settings.LOGGING) that applies it to every record the site writes.
"""
import logging
import re

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
