"""Site pages that belong to no single app: home, about, and the error pages."""
import json
import re
from unittest import mock

import pytest
from django.test import Client

from species.models import Species

pytestmark = pytest.mark.django_db


def test_home_has_the_identify_call_to_action_and_featured_species(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    cta = '<a class="button button-primary" href="/identify/">Identify a cat from a photo</a>'
    assert cta in html
    featured = list(response.context["featured"])
    assert featured and all(s.featured for s in featured)
    for species in featured:
        assert f'href="{species.get_absolute_url()}"' in html
    wild = Species.objects.filter(kind="wild").count()
    assert f"all {wild} wild species" in html
    assert 'action="/species/"' in html  # the search box


def test_home_copes_with_an_empty_encyclopedia(client):
    Species.objects.all().delete()
    response = client.get("/")
    assert response.status_code == 200
    assert "No species yet" in response.content.decode()


def test_about(client):
    response = client.get("/about/")
    assert response.status_code == 200
    assert "<h1>About catsite</h1>" in response.content.decode()


@pytest.mark.parametrize("url", ["/", "/about/", "/species/", "/species/lion/"])
def test_pages_are_accessible_html(client, url):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert '<html lang="en">' in html
    assert 'name="viewport"' in html
    assert html.count("<h1") == 1
    # No page loads anything from another site (no CDN): every asset is a local path.
    assets = re.findall(r'<(?:script|link|img)\b[^>]*\b(?:src|href)="([^"]*)"', html)
    assert assets
    for asset in assets:
        assert asset.startswith("/") and not asset.startswith("//"), asset


def test_an_unknown_url_is_the_friendly_404_page(client, settings):
    settings.DEBUG = False
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "This page has wandered off" in html
    assert 'action="/species/"' in html  # a way on


def test_an_unknown_api_url_is_a_404_json_error(client, settings):
    settings.DEBUG = False
    response = client.get("/api/no-such-endpoint/")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


@pytest.mark.parametrize("path", ["/api/no-such-endpoint/", "/api/species/no-such-cat/x/"])
def test_an_unknown_api_url_is_json_with_debug_on_too(client, settings, path):
    # With DEBUG on Django answers with its HTML debug page instead of handler404.
    settings.DEBUG = True
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_an_api_url_without_its_slash_still_redirects(client, settings):
    settings.DEBUG = True
    response = client.get("/api/species")
    assert response.status_code == 301 and response["Location"] == "/api/species/"


def test_djangos_debug_page_may_style_itself_but_never_run_inline_script(client, settings):
    settings.DEBUG = True
    response = client.get("/no/such/page/")
    assert response.status_code == 404 and b"<style" in response.content
    policy = response["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy and "script-src" not in policy
    assert "'unsafe-inline'" not in client.get("/")["Content-Security-Policy"]


def test_the_favicon_is_the_logo(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].endswith(".svg") and "logo" in response["Location"]
    assert "max-age=" in response["Cache-Control"]
    assert client.get(response["Location"]).status_code == 200


def test_the_api_docs_show_no_locks_on_public_endpoints(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "securitySchemes" not in schema.get("components", {})
    operations = [op for path in schema["paths"].values() for op in path.values()]
    # [{}] is OpenAPI's "no credentials needed": Swagger UI draws no lock for it.
    assert operations and all(op.get("security", [{}]) == [{}] for op in operations)


def test_a_server_error_renders_the_500_page(settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    # Simulate a failure deep inside the home view.
    with mock.patch("catsite.views.featured_species", side_effect=RuntimeError("boom")):
        response = client.get("/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert "boom" not in html and "Traceback" not in html


def test_the_500_page_needs_no_database(rf, django_assert_num_queries):
    from catsite.views import server_error

    with django_assert_num_queries(0):
        response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert b"Something went wrong" in response.content


@pytest.mark.parametrize("path", ["/api/species/", "/species/"])
def test_an_unreachable_database_is_a_503_with_retry_after(rf, django_assert_num_queries, path):
    from django.db import OperationalError

    from catsite.views import server_error

    with django_assert_num_queries(0):
        try:
            raise OperationalError("connection refused")
        except OperationalError:  # Django calls handler500 while the exception is handled
            response = server_error(rf.get(path))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    if path.startswith("/api/"):
        assert json.loads(response.content) == {"error": {
            "code": "service_unavailable",
            "message": "The service is briefly unavailable. Please try again in a moment.",
        }}
    else:
        assert b"catsite is back in a moment" in response.content


def test_every_api_operation_documents_the_one_error_component(client):
    """One Error component (with details) for every endpoint: each operation's error statuses,
    or its default answer, refer to it; no endpoint declares an error shape of its own."""
    schema = client.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    assert [name for name in components if "error" in name.lower()] == ["Error", "ErrorBody"]
    assert set(components["ErrorBody"]["properties"]) == {"code", "message", "details"}
    operations = [(path, method, operation) for path, item in schema["paths"].items()
                  for method, operation in item.items()]
    assert len(operations) >= 5
    for path, method, operation in operations:
        errors = {status: response for status, response in operation["responses"].items()
                  if status[0] in "45" or status == "default"}
        assert errors, (path, method)
        for status, response in errors.items():
            schema_ref = response["content"]["application/json"]["schema"]["$ref"]
            assert schema_ref == "#/components/schemas/Error", (path, method, status)
