"""The upload size limit answers 413 before anything reads the request body."""
import pytest

from testsupport.error_urls import ERRORS

pytestmark = pytest.mark.django_db

LIMIT = 1000  # bytes, set small so a real oversized body stays small in the test


@pytest.fixture(autouse=True)
def small_limit(settings):
    settings.UPLOAD_MAX_BYTES = LIMIT


def oversized_body():
    from catsite.middleware import MULTIPART_OVERHEAD

    return b"x" * (LIMIT + MULTIPART_OVERHEAD + 1)


def test_an_oversized_api_upload_is_a_413_json_error(client):
    response = client.post(
        "/api/classify/", oversized_body(), content_type="application/octet-stream"
    )
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "file_too_large" and "smaller photo" in error["message"]


def test_an_oversized_page_upload_is_the_413_page(client):
    response = client.post("/identify/", oversized_body(), content_type="application/octet-stream")
    assert response.status_code == 413
    assert "That photo is too large" in response.content.decode()


def test_the_declared_length_is_enough_to_refuse(client):
    # A client announcing a huge body is refused without the body being read at all.
    response = client.post(
        "/api/classify/", b"", content_type="application/octet-stream",
        CONTENT_LENGTH=str(50 * 2**30),
    )
    assert response.status_code == 413


@pytest.mark.parametrize("length", ["", "not-a-number", "-5"])
def test_a_missing_or_odd_content_length_passes_through(client, length):
    response = client.get("/healthz", CONTENT_LENGTH=length)
    assert response.status_code == 200


def test_a_body_within_the_limit_reaches_the_view(client):
    # /healthz refuses POST with 405: that answer comes from the view, past the middleware.
    response = client.post("/healthz", b"x" * LIMIT, content_type="application/octet-stream")
    assert response.status_code == 405


@pytest.mark.urls("testsupport.error_urls")
def test_the_middleware_answers_as_a_view_raising_the_same_error_would(client):
    """One mapping: the 413 the middleware gives before any view runs is the answer a view
    raising FileTooLarge gets, on the API (JSON) and on a page (status and message)."""
    message = ERRORS["file_too_large"]().message
    api = client.post("/api/classify/", oversized_body(), content_type="application/octet-stream")
    raised = client.get("/api/raise/", {"error": "file_too_large"})
    assert api.status_code == raised.status_code == 413
    assert api.json() == raised.json() == {"error": {"code": "file_too_large", "message": message}}

    page = client.post("/identify/", oversized_body(), content_type="application/octet-stream")
    raised = client.get("/raise/", {"error": "file_too_large"})
    assert page.status_code == raised.status_code == 413
    for response in (page, raised):
        assert f"<p>{message}</p>" in response.content.decode()
