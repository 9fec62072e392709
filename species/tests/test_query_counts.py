"""Pages and the API run a fixed number of queries, however many species a page shows."""
import pytest

pytestmark = pytest.mark.django_db

# Measured: list page 3 (genus choices, count, page); detail 3 (species, related, the
# identifier's labels when a model is installed);
# API list 3 (count, page, labels prefetch). One spare for the session/auth middleware.
MAX_QUERIES = 4


@pytest.mark.parametrize(
    "url",
    [
        "/species/",
        "/species/?page=5",
        "/species/?kind=wild&status=VU&genus=Panthera",
        "/species/?q=cat",
        "/species/?q=snow+leopard&kind=wild",
    ],
)
def test_the_list_page(client, django_assert_max_num_queries, url):
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get(url).status_code == 200


@pytest.mark.parametrize("slug", ["lion", "domestic-tabby", "sand-cat"])
def test_a_species_page(client, django_assert_max_num_queries, slug):
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get(f"/species/{slug}/").status_code == 200


def test_the_home_page(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get("/").status_code == 200


@pytest.mark.parametrize("page_size", [1, 20, 100])
def test_the_api_list_whatever_the_page_size(client, django_assert_max_num_queries, page_size):
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get("/api/species/", {"page_size": page_size})
    assert response.status_code == 200
    assert len(response.json()["results"]) == min(page_size, response.json()["count"])


def test_the_api_search(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get("/api/species/", {"q": "cat", "page_size": 100}).status_code == 200


def test_an_api_species(client, django_assert_max_num_queries):
    with django_assert_max_num_queries(MAX_QUERIES):
        assert client.get("/api/species/domestic-tabby/").status_code == 200
