"""Slow uploads against the real gunicorn (catsite/gunicorn_conf.py), as a client without the
buffering ingress in front would send them (issue 24, item 8): eight clients send the head of
an identification and then a few bytes of the photo now and then. The liveness probe
(/healthz, timeoutSeconds 3 in the chart) must still be answered, and identifications past
IDENTIFY_MAX_CONCURRENT are refused at once with 503, Retry-After and the JSON error.

    python -m pytest tests/load/test_slow_clients.py -m slow
"""
from __future__ import annotations

import json
import re
import socket
import time

import pytest

from testsupport.harness import GunicornServer, prepare_site, request

pytestmark = pytest.mark.slow

SLOW_CLIENTS = 8
LIVENESS_TIMEOUT_SECONDS = 3  # deploy/helm/catsite/values.yaml: probes.liveness.timeoutSeconds
BODY_BYTES = 1024 * 1024
CAP = 3  # IDENTIFY_MAX_CONCURRENT under gunicorn with four threads: all but one


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    site = prepare_site(tmp_path_factory.mktemp("slow-clients-site"))
    # One worker with the chart's four threads: the cap derived from them is 3.
    env = site.with_env(IDENTIFY_RATE_LIMIT="off")
    with GunicornServer(env, workers=1, threads=4) as running:
        running.wait_workers(1)
        yield running


def start_slow_upload(server) -> socket.socket:
    """The head of an identification and the first bytes of its body; the rest never comes."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    boundary = "slowclientboundary"
    head = (f"POST /api/classify/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {BODY_BYTES}\r\n\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; "
            f"filename=\"cat.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n\xff\xd8").encode("latin-1")
    sock.sendall(head)
    return sock


def answer_of(sock: socket.socket, wait: float) -> bytes:
    """What the server has answered within ``wait`` seconds (b"" when nothing)."""
    sock.settimeout(wait)
    try:
        return sock.recv(65536)
    except TimeoutError:
        return b""


def answered(clients, count: int, seconds: float) -> dict[int, bytes]:
    """The first answers of ``clients`` by index, once ``count`` have one (or ``seconds``)."""
    answers = {}
    deadline = time.monotonic() + seconds
    while len(answers) < count and time.monotonic() < deadline:
        for index, sock in enumerate(clients):
            if index not in answers and (answer := answer_of(sock, 0.05)):
                answers[index] = answer
    return answers


def test_healthz_answers_and_the_cap_refuses_past_it(server):
    clients = [start_slow_upload(server) for _ in range(SLOW_CLIENTS)]
    try:
        answers = answered(clients, count=SLOW_CLIENTS - CAP, seconds=10)
        refused = [answer for answer in answers.values() if answer.startswith(b"HTTP/1.1 503")]
        waiting = [sock for index, sock in enumerate(clients) if index not in answers]
        # CAP of them are being read; the rest were refused before their bodies were read.
        assert len(refused) == SLOW_CLIENTS - CAP, answers
        assert [answer_of(sock, 0.5) for sock in waiting] == [b""] * CAP
        head, _, body = refused[0].partition(b"\r\n\r\n")
        assert b"\r\nRetry-After: 2\r\n" in head
        assert json.loads(re.search(rb"\{.*\}", body).group())["error"]["code"] == "busy"

        for sock in waiting:
            sock.sendall(b"\x00" * 16)  # still sending, slowly
        # Within the liveness probe's timeout, as the kubelet asks.
        status, _, body = request("GET", server.url + "/healthz",
                                  timeout=LIVENESS_TIMEOUT_SECONDS)
        assert status == 200 and json.loads(body) == {"status": "ok"}
        # Pages too, and again: the refused uploads hold no thread either.
        for _ in range(3):
            assert request("GET", server.url + "/species/lion/",
                           timeout=LIVENESS_TIMEOUT_SECONDS)[0] == 200
    finally:
        for sock in clients:
            sock.close()
    assert server.process.poll() is None
