"""Secrets never reach an error message or a log."""
import io
import logging

from catmodel.redaction import RedactSecrets, redact


def test_redact_removes_sas_signatures_and_account_keys():
    text = ("GET https://a.blob.core.windows.net/c/b?sv=2024&sig=AbC%2Bd%3D&se=1 failed; "
            "AccountKey=c2VjcmV0a2V5==;BlobEndpoint=x; token mysecret")
    cleaned = redact(text, ["mysecret"])
    assert "AbC%2Bd" not in cleaned and "c2VjcmV0a2V5" not in cleaned
    assert "mysecret" not in cleaned
    assert "sig=***" in cleaned and "AccountKey=***" in cleaned


def test_log_records_lose_sas_signatures_and_account_keys():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactSecrets())
    logger = logging.getLogger("test.core.redaction")
    logger.addHandler(handler)
    try:
        logger.warning('"GET /c/b?sv=2024&sig=%s HTTP/1.1" 403', "S1gn4ture%3D")
        try:
            raise ValueError("AccountKey=c2VjcmV0a2V5==;")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert "S1gn4ture" not in text and "c2VjcmV0a2V5" not in text
    assert "sig=***" in text and "AccountKey=***" in text
