"""The species pages name the served model's labels through the classifier (the model_naming
template tag; species imports no classifier), and the page cache keeps one page per served
model (ClassifierConfig.ready registers the variant)."""
import pytest
from django.core.cache import cache

from classifier import runtime

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_cache(settings):
    settings.PAGE_CACHE_SECONDS = 600
    cache.clear()
    yield
    cache.clear()


def is_hit(client, url) -> bool:
    response = client.get(url)
    assert response.status_code == 200
    return response["X-Cache"] == "hit"


def test_each_model_has_its_own_species_pages(client, page_cache, monkeypatch):
    assert not is_hit(client, "/species/lion/")
    assert is_hit(client, "/species/lion/")
    monkeypatch.setattr(runtime, "served_model", lambda: ("another-model", "9.9.9"))
    assert not is_hit(client, "/species/lion/")  # rendered for that model
    assert is_hit(client, "/species/lion/")


def test_without_a_model_the_page_says_nothing_about_the_identifier(client, no_model):
    html = client.get("/species/lion/").content.decode()
    assert 'id="identifier-note"' not in html
