"""The species API: fields, search, filters, pagination, read-only access, the error shape,
and the OpenAPI schema with its browsable UI."""
import json

import pytest

from species.models import Species

pytestmark = pytest.mark.django_db

LIST = "/api/species/"
FIELDS = {
    "slug", "common_name", "scientific_name", "kind", "kind_display", "subfamily", "genus",
    "summary", "description", "native_range", "weight_min_kg", "weight_max_kg",
    "length_min_cm", "length_max_cm", "lifespan_min_years", "lifespan_max_years",
    "conservation_status", "conservation_status_display", "conservation_note",
    "temperament", "care_notes", "url", "api_url", "picture_url", "image_alt", "image_credit",
    "labels", "created_at", "updated_at",
}


def assert_error(response, status, code):
    """Every API error has one shape: {"error": {"code", "message", "details"?}}."""
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) <= {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    return body["error"]


def slugs(response):
    return [item["slug"] for item in response.json()["results"]]


def test_the_list_is_paginated_with_every_field(client):
    response = client.get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == Species.objects.count()
    assert len(body["results"]) == 20
    assert body["previous"] is None and body["next"].endswith("/api/species/?page=2")
    first = body["results"][0]
    assert set(first) == FIELDS
    assert first["slug"] == "abyssinian"


def test_a_species_by_slug(client):
    response = client.get(f"{LIST}domestic-tabby/")
    assert response.status_code == 200
    tabby = response.json()
    assert tabby["common_name"] == "Domestic tabby"
    assert tabby["kind"] == "breed" and tabby["kind_display"] == "Domestic breed"
    assert tabby["labels"] == []  # "tabby" means any house cat: the domestic cat group owns it
    assert client.get(f"{LIST}siamese/").json()["labels"] == ["Siamese cat"]
    assert tabby["url"] == "http://testserver/species/domestic-tabby/"
    assert tabby["api_url"] == "http://testserver/api/species/domestic-tabby/"
    assert tabby["picture_url"].startswith(
        "http://testserver/species/domestic-tabby/illustration.svg?v=")
    assert tabby["conservation_status"] == "" and tabby["conservation_status_display"] == ""

    lion = client.get(f"{LIST}lion/").json()
    stored = Species.objects.get(slug="lion")
    assert lion["conservation_status_display"] == "Vulnerable"
    assert lion["weight_max_kg"] == str(stored.weight_max_kg)  # decimals as exact strings
    assert lion["lifespan_max_years"] == stored.lifespan_max_years


def test_corrected_facts_and_what_is_not_known_in_the_api(client):
    lynx = client.get(f"{LIST}eurasian-lynx/").json()
    assert lynx["weight_min_kg"] == "8.0"
    bay_cat = client.get(f"{LIST}bay-cat/").json()
    assert bay_cat["lifespan_min_years"] is None and bay_cat["lifespan_max_years"] is None
    sunda = client.get(f"{LIST}sunda-leopard-cat/").json()
    assert sunda["conservation_status"] == "NE"
    assert sunda["conservation_status_display"] == "Not Evaluated"
    assert sunda["conservation_note"].startswith("Not assessed separately")
    persian = client.get(f"{LIST}persian/").json()
    assert persian["length_min_cm"] is None and persian["weight_min_kg"] is not None


@pytest.mark.parametrize(
    "query,expected", [("snow leopard", "snow-leopard"), ("Panthera uncia", "snow-leopard"),
                       ("Scotland", "scottish-fold"), ("Siamese cat", "siamese")]
)
def test_search_with_q(client, query, expected):
    response = client.get(LIST, {"q": query})
    assert response.status_code == 200
    assert expected in slugs(response)
    assert "persian" not in slugs(response)


@pytest.mark.parametrize(
    "query", ["x" * 10_000, "🐈 кошка", '"snow leopard" -lion', "' OR 1=1 --", "%_\\"]
)
def test_unusual_searches_are_answered(client, query):
    response = client.get(LIST, {"q": query})
    assert response.status_code == 200
    assert response.json()["count"] < Species.objects.count()


def test_a_nul_byte_in_the_search_is_a_400_json_error(client):
    # The API validates its parameters (the pages are forgiving instead).
    error = assert_error(client.get(LIST, {"q": "snow\x00leopard"}), 400, "invalid_request")
    assert "q" in error["details"]


def test_filters(client):
    breeds = client.get(LIST, {"kind": "breed", "page_size": 100}).json()
    assert breeds["count"] == Species.objects.filter(kind="breed").count()
    assert {item["kind"] for item in breeds["results"]} == {"breed"}
    endangered = client.get(LIST, {"conservation_status": "EN", "page_size": 100}).json()
    assert endangered["count"]
    assert {item["conservation_status"] for item in endangered["results"]} == {"EN"}
    panthera = client.get(LIST, {"genus": "panthera"})  # any case
    assert sorted(slugs(panthera)) == ["jaguar", "leopard", "lion", "snow-leopard", "tiger"]
    combined = client.get(LIST, {"q": "cat", "kind": "wild", "genus": "Prionailurus",
                                 "conservation_status": "EN"})
    assert slugs(combined) == ["flat-headed-cat"]


def test_page_size_and_pages_cover_everything_once(client):
    seen, url = [], f"{LIST}?page_size=7"
    while url:
        body = client.get(url).json()
        assert len(body["results"]) <= 7
        seen += [item["slug"] for item in body["results"]]
        url = body["next"]
    assert sorted(seen) == sorted(Species.objects.values_list("slug", flat=True))
    assert len(seen) == len(set(seen))


def test_page_size_is_capped(client, make_species):
    for _ in range(101 - Species.objects.count()):
        make_species()
    body = client.get(LIST, {"page_size": 1000}).json()
    assert body["count"] == 101 and len(body["results"]) == 100


@pytest.mark.parametrize("page", ["999", "0", "-1", "abc", "1.5"])
def test_an_invalid_page_is_a_404_json_error(client, page):
    error = assert_error(client.get(LIST, {"page": page}), 404, "not_found")
    assert "page" in error["message"].lower()


@pytest.mark.parametrize(
    "params,field",
    [({"kind": "dragon"}, "kind"), ({"conservation_status": "XX"}, "conservation_status"),
     ({"conservation_status": "lc"}, "conservation_status")],
)
def test_an_invalid_filter_is_a_400_json_error(client, params, field):
    error = assert_error(client.get(LIST, params), 400, "invalid_request")
    assert field in error["details"]


def test_an_unknown_slug_is_a_404_json_error(client):
    assert_error(client.get(f"{LIST}no-such-cat/"), 404, "not_found")


@pytest.mark.parametrize(
    "method,url",
    [("post", LIST), ("put", f"{LIST}lion/"), ("patch", f"{LIST}lion/"),
     ("delete", f"{LIST}lion/")],
)
def test_anonymous_visitors_cannot_write(client, method, url):
    before = Species.objects.get(slug="lion").summary, Species.objects.count()
    response = getattr(client, method)(
        url, data=json.dumps({"slug": "x", "summary": "vandal"}), content_type="application/json"
    )
    assert response.status_code in (403, 405)
    assert_error(response, response.status_code, response.json()["error"]["code"])
    assert (Species.objects.get(slug="lion").summary, Species.objects.count()) == before


def test_the_api_is_read_only_even_for_staff(staff_client):
    response = staff_client.delete(f"{LIST}lion/")
    error = assert_error(response, 405, "method_not_allowed")
    assert "DELETE" in error["message"]
    assert "GET" in response["Allow"]
    assert Species.objects.filter(slug="lion").exists()


def test_the_openapi_schema_describes_species_and_classify(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    paths = schema["paths"]
    assert {"/api/species/", "/api/species/{slug}/", "/api/classify/"} <= set(paths)
    assert "get" in paths["/api/species/"] and "post" not in paths["/api/species/"]
    assert "post" in paths["/api/classify/"]
    parameters = {p["name"] for p in paths["/api/species/"]["get"]["parameters"]}
    assert {"q", "kind", "conservation_status", "genus", "page", "page_size"} <= parameters


def test_the_schema_is_also_served_as_yaml(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    assert b"/api/species/{slug}/:" in response.content


def test_the_browsable_api_docs_render_without_a_cdn(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html.lower()
    # Swagger UI's start-up script is served from a URL (no inline script under the CSP).
    assert '<script src="/api/docs/?script="></script>' in html
    assert "/api/schema/" in client.get("/api/docs/", {"script": ""}).content.decode()
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html


def test_api_search_returns_the_best_match_first(client):
    results = client.get("/api/species/", {"q": "tiger"}).json()["results"]
    assert results[0]["slug"] == "tiger"
