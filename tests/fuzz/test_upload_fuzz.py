"""Fuzzing the upload path for a fixed budget (a fixed number of examples, derandomised so CI
runs the same cases): the decoder, then the page and the API with the real model. Never an
unexpected exception or a 500, never a hang, memory bounded.

    python -m pytest tests/fuzz -m slow
"""
from __future__ import annotations

import resource
import signal
from contextlib import contextmanager

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from catmodel.inference import DEFAULT_MAX_PIXELS, ClassifierError, decode_image
from tests.fuzz.mutations import hostile_images, random_bytes
from testsupport.web_fixtures import upload

pytestmark = [
    pytest.mark.slow,
    # Pillow warns about the corrupt metadata it skips over; that is the fuzzing working.
    pytest.mark.filterwarnings("ignore::UserWarning:PIL"),
]

# A decode that takes longer than this is a hang (a healthy one takes milliseconds); it is a
# guard against an endless loop, not a speed check.
HANG_SECONDS = 20
# Peak memory the whole fuzz run may add to this process. A 50-megapixel photo (the largest
# accepted) decodes to 150 MB of RGB; a bomb decoded by mistake would need gigabytes.
PEAK_GROWTH_LIMIT_MB = 800
BUDGET = settings(max_examples=1500, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
WEB_BUDGET = settings(BUDGET, max_examples=150,
                      suppress_health_check=[*BUDGET.suppress_health_check,
                                             HealthCheck.function_scoped_fixture])
WEB_ANSWERS = {200, 400, 413, 415}


@contextmanager
def hang_guard(seconds=HANG_SECONDS):
    def fail(signum, frame):
        raise TimeoutError(f"no answer after {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.fixture(scope="module")
def memory_bound():
    before = peak_rss_mb()
    yield
    assert peak_rss_mb() - before < PEAK_GROWTH_LIMIT_MB


def check_decode(data: bytes) -> None:
    with hang_guard():
        try:
            image = decode_image(data, min_side=256)
        except ClassifierError as error:
            assert 400 <= error.status < 500, error
            return
    assert image.mode == "RGB"
    assert image.width * image.height <= DEFAULT_MAX_PIXELS
    image.close()


@BUDGET
@given(hostile_images())
def test_decoder_on_mutated_images(memory_bound, data):
    check_decode(data)


@settings(BUDGET, max_examples=300)
@given(random_bytes())
def test_decoder_on_random_bytes(memory_bound, data):
    check_decode(data)


@pytest.mark.django_db
@WEB_BUDGET
@given(data=hostile_images(), name=st.sampled_from(["cat.jpg", "x.png", "", "../../etc/passwd",
                                                   "ü.gif", "a" * 300]))
def test_api_answers_every_upload_without_a_server_error(client, installed_model, memory_bound,
                                                         data, name):
    with hang_guard():
        response = client.post(reverse("api:classify"), {"image": upload(data, name=name or "x")})
    assert response.status_code in WEB_ANSWERS, response.content[:300]
    if response.status_code != 200:
        assert set(response.json()["error"]) >= {"code", "message"}


@pytest.mark.django_db
@WEB_BUDGET
@given(data=hostile_images())
def test_page_answers_every_upload_without_a_server_error(client, installed_model, memory_bound,
                                                          data):
    with hang_guard():
        response = client.post(reverse("classifier:identify"), {"image": upload(data)})
    assert response.status_code in WEB_ANSWERS
    assert b'id="identify-form"' in response.content
