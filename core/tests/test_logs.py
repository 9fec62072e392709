"""Request ids and JSON log lines (core/logs.py), in process."""
from __future__ import annotations

import io
import json
import logging

import pytest
from django.http import HttpResponse

from catmodel.redaction import RedactSecrets
from core.logs import JsonFormatter, RequestIdFilter, RequestLogMiddleware, annotate

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log():
    """The production handler (JSON, redaction, request id) on the root logger."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactSecrets())
    handler.addFilter(RequestIdFilter())
    root, requests = logging.getLogger(), logging.getLogger("catsite.request")
    levels = root.level, requests.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    requests.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(levels[0])
    requests.setLevel(levels[1])


def request_lines(lines):
    return [line for line in lines if line["logger"] == "catsite.request"]


def test_a_given_request_id_is_kept_and_returned(client, json_log):
    response = client.get("/species/lion/?q=x", headers={"X-Request-ID": "abc-123"})
    assert response["X-Request-ID"] == "abc-123"
    (line,) = request_lines(json_log())
    assert line["request_id"] == "abc-123" and line["level"] == "INFO"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/species/lion/", 200)
    assert line["time"].endswith("Z") and line["duration_ms"] >= 0


@pytest.mark.parametrize("given", [None, "", "x" * 129, "two words", "<script>"])
def test_a_missing_or_odd_request_id_is_replaced(client, json_log, given):
    headers = {"X-Request-ID": given} if given is not None else {}
    response = client.get("/healthz", headers=headers)
    new = response["X-Request-ID"]
    assert new != given and len(new) == 32
    assert request_lines(json_log())[0]["request_id"] == new


def test_records_during_a_request_carry_its_id_and_no_secret(rf, json_log):
    def view(request):
        logging.getLogger("catsite.test").warning(
            "fetched https://acct.blob.core.windows.net/m?sv=1&sig=SeCrEt123 for you")
        annotate(model_version="1.0.0", answer="lion")
        return HttpResponse("ok")

    response = RequestLogMiddleware(view)(rf.get("/x", HTTP_X_REQUEST_ID="req-9"))
    assert response["X-Request-ID"] == "req-9"
    lines = json_log()
    (warning,) = [line for line in lines if line["logger"] == "catsite.test"]
    assert warning["request_id"] == "req-9" and "sig=***" in warning["message"]
    assert "SeCrEt123" not in json.dumps(lines)
    (line,) = request_lines(lines)
    assert (line["model_version"], line["answer"]) == ("1.0.0", "lion")
    logging.getLogger("catsite.test").warning("after the request")
    assert "request_id" not in json_log()[-1]
