"""The one error mapping: an AppError answers with the same code, status, message and headers
whether a DRF view or a plain view raises it; JSON on the API, a page elsewhere. (A middleware
that answers with an error: catsite/tests/test_middleware.py.)"""
import html
import re

import pytest

from testsupport.error_urls import Teapot

pytestmark = [pytest.mark.urls("testsupport.error_urls"), pytest.mark.django_db]


def page_message(response) -> str:
    """The error message a page shows: the paragraph after its heading."""
    found = re.search(r'<section class="error-page">.*?<p>(.*?)</p>', response.content.decode(),
                      re.DOTALL)
    assert found, response.content.decode()[:500]
    return html.unescape(found.group(1)).strip()


@pytest.mark.parametrize("url", ["/api/raise/", "/api/raise-plain/"])
def test_an_app_error_in_an_api_view_is_its_json(client, url):
    response = client.get(url)
    assert response.status_code == 418
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": {"code": "teapot", "message": Teapot.default_message}}
    assert response["Retry-After"] == "7"


def test_an_app_error_in_a_page_view_is_a_page_with_its_status_and_message(client):
    response = client.get("/raise/")
    assert response.status_code == 418
    assert response["Content-Type"].startswith("text/html")
    assert page_message(response) == Teapot.default_message
    assert response["Retry-After"] == "7"


@pytest.mark.parametrize("name,status,code,message", [
    ("http404", 404, "not_found", "No such cat."),
    ("permission_denied", 403, "permission_denied",
     "You do not have permission to perform this action."),
    ("django_validation", 400, "invalid_request", "The request is not valid."),
    ("drf_throttled", 429, "throttled", None),
])
def test_framework_errors_on_the_api_take_the_one_shape(client, name, status, code, message):
    response = client.get("/api/raise/", {"error": name})
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"] == message if message else error["message"]
    if name == "django_validation":
        assert error["details"] == {"name": ["Too long."]}
    if name == "drf_throttled":
        assert response["Retry-After"] == "12"


def test_an_unexpected_error_is_left_to_djangos_500_handling(client):
    client.raise_request_exception = True
    with pytest.raises(RuntimeError):
        client.get("/api/raise/", {"error": "bug"})
    with pytest.raises(RuntimeError):
        client.get("/raise/", {"error": "bug"})
