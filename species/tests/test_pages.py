"""The encyclopedia's pages: the species list (search, filters, pagination), a species page,
its generated illustration."""
import re
from xml.etree import ElementTree

import pytest

from species.models import Species
from species.views import PAGE_SIZE

pytestmark = pytest.mark.django_db

SVG_NS = "{http://www.w3.org/2000/svg}"


def listed(response):
    """Slugs of the species cards on a list page, in order."""
    return [s.slug for s in response.context["page"].object_list]


def test_the_list_shows_the_first_page_of_every_species(client):
    response = client.get("/species/")
    assert response.status_code == 200
    assert response.context["page"].paginator.count == Species.objects.count()
    assert len(listed(response)) == PAGE_SIZE
    html = response.content.decode()
    assert "<h1>Species and breeds</h1>" in html
    assert f"{Species.objects.count()} matches" in html
    assert 'href="/species/abyssinian/"' in html  # the first by name
    assert 'rel="next" href="?page=2"' in html


@pytest.mark.parametrize(
    "params,expected",
    [
        ({"q": "Snow leopard"}, "snow-leopard"),
        ({"q": "Panthera uncia"}, "snow-leopard"),
        ({"q": "Scotland"}, "scottish-fold"),
    ],
)
def test_search_by_name_scientific_name_and_text(client, params, expected):
    response = client.get("/species/", params)
    assert response.status_code == 200
    assert expected in listed(response)
    assert f"for “{params['q']}”" in response.content.decode()


def test_filters_by_kind_status_and_genus(client):
    breeds = client.get("/species/", {"kind": "breed"})
    assert breeds.context["page"].paginator.count == Species.objects.filter(kind="breed").count()
    assert {s.kind for s in breeds.context["page"].object_list} == {"breed"}

    endangered = client.get("/species/", {"status": "EN"})
    assert {s.conservation_status for s in endangered.context["page"].object_list} == {"EN"}

    panthera = client.get("/species/", {"genus": "Panthera"})
    assert sorted(listed(panthera)) == ["jaguar", "leopard", "lion", "snow-leopard", "tiger"]
    assert 'href="/species/">Clear</a>' in panthera.content.decode()


def test_pagination_keeps_the_filters_in_its_links(client):
    response = client.get("/species/", {"kind": "wild", "page": "2"})
    page = response.context["page"]
    assert page.number == 2
    wild = list(Species.objects.filter(kind="wild").values_list("slug", flat=True))
    assert listed(response) == wild[PAGE_SIZE : 2 * PAGE_SIZE]
    html = response.content.decode()
    assert 'href="?kind=wild&amp;page=1"' in html and 'href="?kind=wild&amp;page=3"' in html


def test_the_pages_together_list_every_species_once(client):
    first = client.get("/species/")
    seen = []
    for number in range(1, first.context["page"].paginator.num_pages + 1):
        seen += listed(client.get("/species/", {"page": number}))
    assert sorted(seen) == sorted(Species.objects.values_list("slug", flat=True))


@pytest.mark.parametrize(
    "page,expected",
    [("abc", "first"), ("2.5", "first"), ("", "first"), ("0", "last"), ("-3", "last"),
     ("999", "last"), ("9" * 40, "last")],
)
def test_odd_page_numbers_show_a_real_page(client, page, expected):
    # Nonsense shows the first page; a number out of range shows the last (Paginator.get_page).
    last = -(-Species.objects.count() // PAGE_SIZE)
    response = client.get("/species/", {"page": page})
    assert response.status_code == 200
    assert response.context["page"].number == (1 if expected == "first" else last)


@pytest.mark.parametrize(
    "params",
    [
        {"kind": "dragon"},
        {"status": "XX"},
        {"genus": "Canis"},
        {"genus": "x" * 5000},
        {"kind": "", "status": "", "genus": ""},
    ],
)
def test_invalid_filter_values_are_ignored(client, params):
    response = client.get("/species/", params)
    assert response.status_code == 200
    assert response.context["page"].paginator.count == Species.objects.count()


@pytest.mark.parametrize(
    "query",
    [
        "x" * 10_000,
        "snow\x00leopard",
        "'; DROP TABLE species_species; --",
        "<script>alert(1)</script>",
        "🐈‍⬛ 🐆 кошка 猫",
        '"snow leopard" -lion',
        '"unclosed',
        "%",
        "   ",
    ],
)
def test_unusual_and_very_long_searches_are_a_normal_page(client, query):
    response = client.get("/species/", {"q": query})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Species and breeds</h1>" in html
    assert "<script>alert(1)</script>" not in html  # escaped when echoed back


def test_a_search_with_no_result_says_so(client):
    response = client.get("/species/", {"q": "qwzxv"})
    assert response.status_code == 200
    assert "No cats match “qwzxv”" in response.content.decode()


def test_the_list_only_answers_reads(client):
    assert client.post("/species/").status_code == 405
    assert client.head("/species/").status_code == 200


def test_a_species_page_has_facts_description_and_related_species(client):
    response = client.get("/species/snow-leopard/")
    assert response.status_code == 200
    html = response.content.decode()
    snow = Species.objects.get(slug="snow-leopard")
    assert "<h1>Snow leopard</h1>" in html
    for row in ("Scientific name", "Subfamily", "Genus", "Range", "Weight", "Head and body",
                "Lifespan", "IUCN status"):
        assert f'<th scope="row">{row}</th>' in html
    assert "<i>Panthera uncia</i>" in html and "Vulnerable" in html
    assert f"{snow.length_min_cm}–{snow.length_max_cm} cm" in html
    for paragraph in snow.paragraphs:
        assert f"<p>{paragraph}</p>" in html.replace("&#x27;", "'")
    look_alikes = html.split('id="look-alikes-heading"')[1].split('id="related-heading"')[0]
    related = html.split('id="related-heading"')[1]
    assert "Also in the genus <i>Panthera</i>" in html
    for other in ("lion", "tiger", "leopard", "jaguar"):
        assert f'href="/species/{other}/"' in related
    assert 'href="/species/cheetah/"' in look_alikes
    assert 'href="/species/snow-leopard/"' not in look_alikes + related
    assert f'src="{snow.picture_url}"' in html and "/snow-leopard/illustration.svg?v=" in html


def test_a_lifespan_nobody_has_measured_says_not_known(client):
    html = client.get("/species/andean-cat/").content.decode()
    assert '<th scope="row">Lifespan</th><td>not known</td>' in html


def test_a_status_that_covers_more_than_this_species_says_so(client):
    html = client.get("/species/sunda-leopard-cat/").content.decode()
    assert "Not Evaluated" in html and "Not assessed separately since the 2017 split" in html


def test_corrected_facts_appear_on_their_pages(client):
    assert "8–30 kg" in client.get("/species/eurasian-lynx/").content.decode()
    assert "85–110 cm" in client.get("/species/iberian-lynx/").content.decode()
    assert "Leopardus pardinoides" in client.get("/species/northern-tiger-cat/").content.decode()


def test_a_breed_page_states_no_head_and_body_length(client):
    html = client.get("/species/maine-coon/").content.decode()
    assert '<th scope="row">Head and body</th>' not in html
    assert '<th scope="row">Weight</th>' in html


def test_a_breed_page_shows_origin_temperament_and_care_but_no_status(client):
    html = client.get("/species/persian/").content.decode()
    persian = Species.objects.get(slug="persian")
    assert '<th scope="row">Origin</th>' in html
    # (Its wild relatives' cards below the entry have theirs.)
    assert "IUCN" not in html.split("</article>")[0]
    assert "<h2>Temperament</h2>" in html and "<h2>Care</h2>" in html
    assert persian.temperament[:40].replace("'", "&#x27;") in html


@pytest.mark.parametrize("slug", ["no-such-cat", "lion-king", "x" * 300])
def test_an_unknown_species_is_the_friendly_404_page(client, settings, slug):
    settings.DEBUG = False
    response = client.get(f"/species/{slug}/")
    assert response.status_code == 404
    assert "This page has wandered off" in response.content.decode()


def test_a_slug_with_odd_characters_is_a_404_not_an_error(client):
    assert client.get("/species/%00lion/").status_code == 404
    assert client.get("/species/li%27on/").status_code == 404


def test_the_illustration_is_valid_deterministic_svg(client):
    first = client.get(Species.objects.get(slug="tiger").picture_url)
    assert first.status_code == 200
    assert first["Content-Type"] == "image/svg+xml"
    # The versioned URL is kept for a year; the bare one is revalidated (an ETag) each time.
    assert first["Cache-Control"] == "public, max-age=31536000, immutable"
    bare = client.get("/species/tiger/illustration.svg")
    assert bare["Cache-Control"] == "public, no-cache" and bare.content == first.content
    root = ElementTree.fromstring(first.content)
    assert root.tag == f"{SVG_NS}svg"
    assert root.find(f"{SVG_NS}title").text == "Illustration of a Tiger"
    assert root.get("role") == "img"
    again = client.get("/species/tiger/illustration.svg")
    assert again.content == first.content
    assert client.get("/species/lion/illustration.svg").content != first.content


def test_every_species_has_a_parseable_illustration(client):
    for slug in Species.objects.values_list("slug", flat=True):
        response = client.get(f"/species/{slug}/illustration.svg")
        assert response.status_code == 200, slug
        assert response["Content-Type"].startswith("image/svg+xml"), slug
        root = ElementTree.fromstring(response.content)
        assert root.tag == "{http://www.w3.org/2000/svg}svg", slug  # raises on malformed XML


def test_an_unknown_species_has_no_illustration(client):
    assert client.get("/species/no-such-cat/illustration.svg").status_code == 404


def test_a_photo_replaces_the_illustration_on_the_page(client, make_species, png_upload):
    species = make_species(image_alt="A test cat in the sun", image_credit="A. Photographer")
    species.image.save("sunny.png", png_upload())
    html = client.get(species.get_absolute_url()).content.decode()
    match = re.search(r'<img src="(/media/species/[^"]+\.png)" alt="A test cat in the sun"', html)
    assert match, html
    assert "Photo: A. Photographer" in html
    assert "illustration.svg" not in html.split('class="species-figure"')[1].split("</figure>")[0]


def test_search_results_show_the_passage_that_matched(client):
    html = client.get("/species/?q=siamese").content.decode()
    assert html.count('class="card-summary card-snippet"') >= 2
    assert re.search(r"<mark>siamese</mark>", html, re.IGNORECASE)
    # Without a search the cards show their summaries.
    assert "<mark>" not in client.get("/species/").content.decode()
