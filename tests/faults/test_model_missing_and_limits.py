"""Under gunicorn: no model installed (the site works, identification answers 503, /readyz
fails when the model is required), and the web-server and Django upload limits."""
from __future__ import annotations

import json
import socket

import pytest

from testsupport.harness import GunicornServer, multipart, prepare_site, request
from testsupport.photos import small_jpeg

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return prepare_site(tmp_path_factory.mktemp("no-model-site"), model=False)


@pytest.fixture(scope="module")
def server(site):
    env = site.with_env(MODEL_REQUIRED=1, UPLOAD_MAX_BYTES=1_000_000, IDENTIFY_RATE_LIMIT="off")
    with GunicornServer(env, workers=1, threads=2) as running:
        yield running


def test_without_a_model_the_site_works_and_identification_answers_503(server):
    for path in ["/", "/species/", "/species/domestic-tabby/", "/api/species/", "/healthz"]:
        assert request("GET", server.url + path)[0] == 200, path
    status, _, html = request("GET", server.url + "/identify/")
    assert status == 200 and b"Identification is not available right now" in html
    body, content_type = multipart("image", "cat.jpg", small_jpeg())
    status, _, answer = request("POST", server.url + "/api/classify/", body,
                                {"Content-Type": content_type})
    assert status == 503
    assert json.loads(answer)["error"]["code"] == "model_unavailable"
    status, _, answer = request("GET", server.url + "/readyz")
    checks = json.loads(answer)["checks"]
    assert status == 503 and checks["model"] == {**checks["model"], "ok": False, "required": True}
    assert checks["database"]["ok"] is True


def test_readyz_passes_without_a_model_when_none_is_required(site):
    with GunicornServer(site.with_env(MODEL_REQUIRED=0), workers=1, threads=1) as running:
        assert request("GET", running.url + "/readyz")[0] == 200


def raw_exchange(server, head: bytes, body_chunks=()) -> bytes:
    """Send raw bytes (a request head, then body chunks) and return the whole answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head)
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed without reading the rest: fine
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass  # closed with our unread bytes pending: what arrived before is the answer
    return answer


def test_a_declared_oversized_upload_is_refused_before_its_body_is_sent(server):
    head = (b"POST /api/classify/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\n"
            b"Content-Length: 50000000\r\n\r\n")
    answer = raw_exchange(server, head)  # no body at all: the answer comes anyway
    assert answer.startswith(b"HTTP/1.1 413")
    assert b'"file_too_large"' in answer


def test_a_chunked_upload_without_length_is_not_read_into_memory(server):
    # gunicorn passes chunked bodies through; Django reads a body only up to CONTENT_LENGTH,
    # which is absent, so the 10 MB sent here is never parsed and the answer is "no photo".
    head = (b"POST /api/classify/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * 1_000_000
    chunks = [b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(10)] + [b"0\r\n\r\n"]
    answer = raw_exchange(server, head, chunks)
    assert answer.startswith(b"HTTP/1.1 400")
    assert b'"invalid_image"' in answer
    assert b"Internal Server Error" not in answer


def test_gunicorn_refuses_oversized_request_heads(server):
    too_many = b"".join(b"X-Filler-%d: y\r\n" % i for i in range(60))
    answer = raw_exchange(server, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + too_many + b"\r\n")
    assert answer.startswith(b"HTTP/1.1 4")  # limit_request_fields = 50
    long_line = b"GET /?" + b"a" * 5000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    assert raw_exchange(server, long_line).startswith(b"HTTP/1.1 4")  # limit_request_line
    big_header = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n"
    assert raw_exchange(server, big_header).startswith(b"HTTP/1.1 4")  # limit_request_field_size
