"""The admin: staff only, and what an editor saves there is what the public pages show."""
import pytest
from django.core.files.storage import default_storage
from django.db.models.fields.files import FieldFile

from species.models import ModelLabel, Species, Taxon

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/species/species/"


def change_url(species):
    return f"{CHANGELIST}{species.pk}/change/"


def form_data(response) -> dict:
    """The POST data the browser would send back for an admin change form, as rendered:
    every field of the main form and of each inline, with the formsets' management data."""
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(value, FieldFile) or value is None:
                continue
            if isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif isinstance(value, (list, tuple)):
                data[key] = [str(v) for v in value]
            else:
                data[key] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context.get("inline_admin_formsets", []):  # none on a revert form
        formset = inline.formset
        add(formset.management_form)
        for form in formset.forms:
            add(form)
    return data


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    for url in (CHANGELIST, f"{CHANGELIST}add/", "/admin/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_a_logged_in_non_staff_user_is_refused(client, django_user_model):
    user = django_user_model.objects.create_user(username="reader", password="a-long-password-1")
    client.force_login(user)
    response = client.get(CHANGELIST)
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")


def test_staff_can_open_the_changelist_with_search_and_filters(staff_client):
    response = staff_client.get(CHANGELIST)
    assert response.status_code == 200
    assert response.context["cl"].result_count == Species.objects.count()
    found = staff_client.get(CHANGELIST, {"q": "cougar"})  # a label
    slugs = [s.slug for s in found.context["cl"].result_list]
    assert slugs == ["puma"]
    breeds = staff_client.get(CHANGELIST, {"kind__exact": "breed"})
    assert breeds.context["cl"].result_count == Species.objects.filter(kind="breed").count()


def test_staff_can_open_the_change_and_add_forms(staff_client):
    lion = Species.objects.get(slug="lion")
    response = staff_client.get(change_url(lion))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Lion"' in html
    assert "Classifier labels" in html and 'value="lion"' in html
    assert 'src="/species/lion/illustration.svg?v=' in html  # the preview
    assert staff_client.get(f"{CHANGELIST}add/").status_code == 200


def test_a_change_saved_in_the_admin_shows_on_the_public_page(staff_client, client):
    lion = Species.objects.get(slug="lion")
    data = form_data(staff_client.get(change_url(lion)))
    data["summary"] = "Edited in the admin: the lion is the only truly social cat."
    data["common_name"] = "African lion"
    # A second label, added through the empty extra inline form.
    extra = int(data["labels-TOTAL_FORMS"]) - 1
    data[f"labels-{extra}-label"] = "test lion label"
    response = staff_client.post(change_url(lion), data)
    assert response.status_code == 302, response.context and response.context["errors"]

    page = client.get("/species/lion/").content.decode()
    assert "<h1>African lion</h1>" in page
    assert "Edited in the admin: the lion is the only truly social cat." in page
    assert ModelLabel.objects.get(label="test lion label").species == lion


def test_invalid_changes_are_refused_with_a_message(staff_client):
    persian = Species.objects.get(slug="persian")
    data = form_data(staff_client.get(change_url(persian)))
    data["conservation_status"] = "EN"  # not a field of a breed's form: ignored
    data["weight_min_kg"], data["weight_max_kg"] = "9.0", "3.0"
    response = staff_client.post(change_url(persian), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "weight_max_kg" in errors
    persian.refresh_from_db()
    assert persian.conservation_status == "" and persian.weight_max_kg != 3


def test_a_wild_species_needs_its_red_list_category(staff_client):
    lion = Species.objects.get(slug="lion")
    data = form_data(staff_client.get(change_url(lion)))
    data["conservation_status"] = ""
    response = staff_client.post(change_url(lion), data)
    assert response.status_code == 200
    assert "A wild species needs its IUCN category." in response.content.decode()


def test_a_label_owned_elsewhere_cannot_be_taken_twice(staff_client):
    tiger = Species.objects.get(slug="tiger")
    data = form_data(staff_client.get(change_url(tiger)))
    extra = int(data["labels-TOTAL_FORMS"]) - 1
    data[f"labels-{extra}-label"] = "lion"
    response = staff_client.post(change_url(tiger), data)
    assert response.status_code == 200
    assert "The label “lion” already belongs to Lion; remove it there first" in (
        response.content.decode().replace("&#x27;", "'"))
    assert ModelLabel.objects.get(label="lion").species.slug == "lion"


TAXA = "/admin/species/taxon/"
LABELS = "/admin/species/modellabel/"


def test_staff_edit_a_groups_labels_and_see_its_entries(staff_client):
    lynx = Taxon.objects.get(slug="lynx")
    url = f"{TAXA}{lynx.pk}/change/"
    response = staff_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="lynx"' in html
    assert "Bobcat, Canada lynx, Eurasian lynx, Iberian lynx" in html
    data = form_data(response)
    extra = int(data["labels-TOTAL_FORMS"]) - 1
    data[f"labels-{extra}-label"] = "test lynx label"
    assert staff_client.post(url, data).status_code == 302
    assert ModelLabel.objects.get(label="test lynx label").taxon == lynx

    # The rule holds from this side too: a label owned by a species is not taken.
    data = form_data(staff_client.get(url))
    extra = int(data["labels-TOTAL_FORMS"]) - 1
    data[f"labels-{extra}-label"] = "cheetah"
    response = staff_client.post(url, data)
    assert response.status_code == 200
    assert "already belongs to Cheetah" in response.content.decode()
    assert ModelLabel.objects.get(label="cheetah").species.slug == "cheetah"


@pytest.mark.parametrize("owners", ["both", "neither"])
def test_a_label_needs_exactly_one_owner_in_the_label_list(staff_client, owners):
    response = staff_client.get(f"{LABELS}add/")
    assert response.status_code == 200
    data = {"label": "test owner label", "species": "", "taxon": ""}
    if owners == "both":
        data["species"] = str(Species.objects.get(slug="bobcat").pk)
        data["taxon"] = str(Taxon.objects.get(slug="lynx").pk)
    response = staff_client.post(f"{LABELS}add/", data)
    assert response.status_code == 200
    assert "A label belongs to exactly one owner" in response.content.decode()
    assert not ModelLabel.objects.filter(label="test owner label").exists()


def test_the_label_list_moves_a_label_to_another_owner(staff_client):
    row = ModelLabel.objects.get(label="lynx")
    response = staff_client.post(f"{LABELS}{row.pk}/change/", {
        "label": "lynx", "species": str(Species.objects.get(slug="bobcat").pk), "taxon": ""})
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.species.slug == "bobcat" and row.taxon is None
    listing = staff_client.get(LABELS).content.decode()
    assert "Bobcat" in listing


def test_the_database_refuses_a_label_with_two_owners_or_none():
    from django.db import IntegrityError, transaction

    bobcat, lynx = Species.objects.get(slug="bobcat"), Taxon.objects.get(slug="lynx")
    for owners in ({"species": bobcat, "taxon": lynx}, {}):
        with pytest.raises(IntegrityError), transaction.atomic():
            ModelLabel.objects.create(label="test two owners", **owners)


def test_an_image_uploaded_in_the_admin_shows_on_the_public_page(
    staff_client, client, png_upload, media_root
):
    cheetah = Species.objects.get(slug="cheetah")
    data = form_data(staff_client.get(change_url(cheetah)))
    data["image"] = png_upload("cheetah-photo.png")
    data["image_alt"] = "A cheetah resting on a termite mound"
    data["image_credit"] = "Test Photographer"
    response = staff_client.post(change_url(cheetah), data)
    assert response.status_code == 302

    cheetah.refresh_from_db()
    assert cheetah.image.name.startswith("species/cheetah-photo")
    assert default_storage.exists(cheetah.image.name)
    assert (media_root / cheetah.image.name).is_file()  # in the test's own media folder

    page = client.get("/species/cheetah/").content.decode()
    assert f'<img src="{cheetah.image.url}" alt="A cheetah resting on a termite mound"' in page
    photo = client.get(cheetah.image.url)  # served by the site when no object store is set
    assert photo.status_code == 200
    assert b"".join(photo.streaming_content) == (media_root / cheetah.image.name).read_bytes()
    assert "Photo: Test Photographer" in page
    # The list card and the API use the photo too.
    assert cheetah.image.url in client.get("/species/", {"q": "cheetah"}).content.decode()
    assert client.get("/api/species/cheetah/").json()["picture_url"].endswith(cheetah.image.url)


def test_an_upload_that_is_not_an_image_is_refused(staff_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    cheetah = Species.objects.get(slug="cheetah")
    data = form_data(staff_client.get(change_url(cheetah)))
    data["image"] = SimpleUploadedFile("fake.png", b"not a picture", content_type="image/png")
    response = staff_client.post(change_url(cheetah), data)
    assert response.status_code == 200
    assert "image" in response.context["adminform"].form.errors
    cheetah.refresh_from_db()
    assert not cheetah.image


def test_staff_can_add_a_species(staff_client, client):
    # The form of the add link; posted to the bare add URL, the data's kind decides.
    response = staff_client.get(f"{CHANGELIST}add/?kind=breed")
    data = form_data(response)
    data.update({
        "common_name": "Test cat", "slug": "test-cat", "kind": "breed",
        "scientific_name": "Felis catus", "subfamily": "Felinae", "genus": "Felis",
        "summary": "A breed added in a test.", "description": "One.\n\nTwo.\n\nThree.",
        "native_range": "Testland", "temperament": "Calm.", "care_notes": "Easy.",
        "coat_pattern": "tabby", "coat_colour": "#aa8844", "marking_colour": "#332211",
    })
    assert staff_client.post(f"{CHANGELIST}add/", data).status_code == 302
    assert client.get("/species/test-cat/").status_code == 200


# Forms per kind (issue 19) ---------------------------------------------------------------------
def form_fields(response) -> set[str]:
    return set(response.context["adminform"].form.fields)


def fieldset_names(response) -> list[str]:
    return [fieldset.name for fieldset in response.context["adminform"]]


def test_a_wild_species_form_has_no_temperament_and_a_breed_form_no_red_list(staff_client):
    snow_leopard = staff_client.get(change_url(Species.objects.get(slug="snow-leopard")))
    fields = form_fields(snow_leopard)
    assert {"conservation_status", "conservation_note", "ears", "tail"} <= fields
    assert not fields & {"temperament", "care_notes", "kind"}  # the kind is shown, not edited
    html = snow_leopard.content.decode()
    assert "Temperament" not in html and "Care notes" not in html
    assert "Wild species" in fieldset_names(snow_leopard)

    persian = staff_client.get(change_url(Species.objects.get(slug="persian")))
    fields = form_fields(persian)
    assert {"temperament", "care_notes", "resembles"} <= fields
    assert not fields & {"conservation_status", "conservation_note", "ears", "tail", "kind"}
    assert "Conservation status" not in persian.content.decode()
    assert "Breed" in fieldset_names(persian)


def test_the_list_adds_either_kind_and_the_bare_add_page_asks_which(staff_client):
    listing = staff_client.get(CHANGELIST).content.decode()
    assert f'href="{CHANGELIST}add/?kind=wild"' in listing
    assert f'href="{CHANGELIST}add/?kind=breed"' in listing
    chooser = staff_client.get(f"{CHANGELIST}add/", {"_popup": "1", "_to_field": "id"})
    assert chooser.status_code == 200
    html = chooser.content.decode()
    # A popup opened beside a label stays a popup whichever kind is chosen.
    assert 'href="?_popup=1&amp;_to_field=id&amp;kind=wild"' in html
    assert 'href="?_popup=1&amp;_to_field=id&amp;kind=breed"' in html


def test_the_chooser_needs_the_add_permission(client, django_user_model):
    viewer = django_user_model.objects.create_user("viewer", password="a-long-password-1",
                                                   is_staff=True)
    client.force_login(viewer)
    assert client.get(f"{CHANGELIST}add/").status_code == 403


def new_entry(response, **fields) -> dict:
    data = form_data(response)
    data.update({
        "summary": "An entry added in a test.", "description": "One.\n\nTwo.\n\nThree.",
        "native_range": "Testland", "coat_pattern": "plain", "coat_colour": "#aa8844",
        "marking_colour": "#332211", **fields,
    })
    return data


def test_adding_a_breed_sets_its_kind_and_fills_in_the_domestic_cat(staff_client, client):
    url = f"{CHANGELIST}add/?kind=breed"
    response = staff_client.get(url)
    assert response.context["title"] == "Add domestic breed"
    fields = form_fields(response)
    assert "kind" not in fields and "conservation_status" not in fields
    assert "temperament" in fields
    data = new_entry(response, common_name="Test breed", slug="test-breed",
                     temperament="Calm and curious.", care_notes="Brush it weekly.")
    # What every breed is, already filled in.
    assert (data["scientific_name"], data["subfamily"], data["genus"]) == (
        "Felis catus", "Felinae", "Felis")
    response = staff_client.post(url, data)
    assert response.status_code == 302, response.context and response.context["errors"]
    breed = Species.objects.get(slug="test-breed")
    assert breed.kind == "breed" and breed.temperament == "Calm and curious."
    assert client.get("/species/test-breed/").status_code == 200


def test_adding_a_wild_species_sets_its_kind_and_asks_its_category(staff_client):
    url = f"{CHANGELIST}add/?kind=wild"
    response = staff_client.get(url)
    assert response.context["title"] == "Add wild species"
    assert "temperament" not in form_fields(response)
    data = new_entry(response, common_name="Test wildcat", slug="test-wildcat",
                     scientific_name="Felis testis", subfamily="Felinae", genus="Felis")
    refused = staff_client.post(url, data)
    assert refused.status_code == 200
    assert "A wild species needs its IUCN category." in refused.content.decode()
    data["conservation_status"] = "LC"
    assert staff_client.post(url, data).status_code == 302
    wild = Species.objects.get(slug="test-wildcat")
    assert (wild.kind, wild.conservation_status, wild.temperament) == ("wild", "LC", "")


def test_the_index_tells_login_groups_from_taxonomic_groups(staff_client):
    index = staff_client.get("/admin/")
    names = {model["name"] for app in index.context["app_list"] for model in app["models"]}
    assert {"Login groups", "Taxonomic groups"} <= names
    assert "Groups" not in names
    html = index.content.decode()
    assert ">Login groups</a>" in html and ">Taxonomic groups</a>" in html
