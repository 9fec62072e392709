"""Species model rules: validation, the database constraint, label ownership, derived values."""
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from species.models import ModelLabel, Species

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind, status", [(Species.Kind.WILD, "LC"), (Species.Kind.BREED, "")])
def test_a_valid_entry_of_either_kind_is_stored_as_given(make_species, kind, status):
    # make_species has already passed full_clean: check what the database kept, and that the
    # stored entry is still valid (its unique fields do not clash with itself).
    species = make_species(kind=kind, scientific_name="Felis catus", weight_min_kg="2.5")
    stored = Species.objects.get(pk=species.pk)
    assert (stored.kind, stored.conservation_status) == (kind, status)
    assert str(stored.weight_min_kg) == "2.5"
    stored.full_clean()


def test_a_wild_species_needs_an_iucn_status(make_species):
    species = make_species()
    species.conservation_status = ""
    with pytest.raises(ValidationError) as err:
        species.full_clean()
    assert "conservation_status" in err.value.message_dict


def test_a_breed_must_not_have_an_iucn_status(make_species):
    breed = make_species(kind=Species.Kind.BREED, scientific_name="Felis catus")
    breed.conservation_status = "EN"
    with pytest.raises(ValidationError) as err:
        breed.full_clean()
    assert err.value.message_dict["conservation_status"] == ["Breeds have no IUCN category."]


def test_the_database_refuses_a_breed_with_a_status_even_without_clean(make_species):
    breed = make_species(kind=Species.Kind.BREED)
    breed.conservation_status = "VU"
    with pytest.raises(IntegrityError), transaction.atomic():
        breed.save()


@pytest.mark.parametrize(
    "low,high,lo_value,hi_value",
    [
        ("weight_min_kg", "weight_max_kg", "5.0", "4.9"),
        ("length_min_cm", "length_max_cm", 61, 60),
        ("lifespan_min_years", "lifespan_max_years", 20, 12),
    ],
)
def test_a_range_maximum_below_its_minimum_is_rejected(make_species, low, high, lo_value, hi_value):
    species = make_species()
    setattr(species, low, lo_value)
    setattr(species, high, hi_value)
    with pytest.raises(ValidationError) as err:
        species.full_clean()
    assert high in err.value.message_dict


def test_equal_ends_of_a_range_and_open_ranges_are_fine(make_species):
    species = make_species(weight_min_kg="3.0", weight_max_kg="3.0", length_max_cm=None)
    species.full_clean()


@pytest.mark.parametrize("colour", ["red", "#12345", "#gggggg", "123456"])
def test_coat_colours_must_be_hex(make_species, colour):
    species = make_species()
    species.coat_colour = colour
    with pytest.raises(ValidationError) as err:
        species.full_clean()
    assert "coat_colour" in err.value.message_dict


def test_a_label_belongs_to_one_species_only(make_species):
    first, second = make_species(), make_species()
    ModelLabel.objects.create(label="test label", species=first)
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelLabel.objects.create(label="test label", species=second)


def test_deleting_a_species_frees_its_labels(make_species):
    species = make_species()
    ModelLabel.objects.create(label="freed", species=species)
    species.delete()
    assert not ModelLabel.objects.filter(label="freed").exists()


def test_without_a_photo_the_picture_is_the_generated_illustration(make_species):
    species = make_species(slug="no-photo")
    url = species.picture_url
    assert url.startswith("/species/no-photo/illustration.svg?v=")
    # The URL changes with what the picture is drawn from, so caches may keep each one forever.
    species.coat_colour = "#123456"
    assert species.picture_url.startswith("/species/no-photo/illustration.svg?v=")
    assert species.picture_url != url
    species.summary = "Not drawn."
    species.coat_colour = Species._meta.get_field("coat_colour").default
    assert species.picture_url == url
    assert species.picture_alt == f"Illustration of a {species.common_name}"


def test_with_a_photo_the_picture_is_the_photo(make_species, png_upload):
    species = make_species(image_alt="")
    species.image.save("cat.png", png_upload())
    assert species.picture_url.startswith("/media/species/")
    assert species.picture_alt == f"Photo of a {species.common_name}"
    species.image_alt = "A cat on a wall"
    assert species.picture_alt == "A cat on a wall"


def test_paragraphs_split_on_blank_lines_and_drop_empty_ones(make_species):
    species = make_species(description="One.\n\n\n\n  Two.  \n\nThree\nstill three.\n\n")
    assert species.paragraphs == ["One.", "Two.", "Three\nstill three."]


def test_absolute_url_and_str(make_species):
    species = make_species(common_name="Zebra cat", slug="zebra-cat")
    assert species.get_absolute_url() == "/species/zebra-cat/"
    assert str(species) == "Zebra cat"


def test_alt_texts_take_the_right_article(make_species, png_upload):
    abyssinian = make_species(common_name="Abyssinian test", image_alt="")
    assert abyssinian.picture_alt == "Illustration of an Abyssinian test"
    abyssinian.image.save("cat.png", png_upload())
    assert abyssinian.picture_alt == "Photo of an Abyssinian test"
    assert make_species(common_name="European test").picture_alt == (
        "Illustration of a European test")
