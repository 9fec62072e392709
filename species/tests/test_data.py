"""The content that ships with the site (species/data/*.json, loaded by manage.py load_species)."""
import pytest

from species import content
from species.models import ModelLabel, Species

pytestmark = pytest.mark.django_db

# ImageNet-1k classes 281-293: the labels of the first model that mean a cat.
IMAGENET_CAT_LABELS = [
    "tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat", "cougar", "lynx",
    "leopard", "snow leopard", "jaguar", "lion", "tiger", "cheetah",
]


def all_species():
    return list(Species.objects.prefetch_related("labels"))


@pytest.fixture(autouse=True)
def current_content(db):
    """What a deployment has after `migrate` and `load_species`."""
    content.load()


def test_every_entry_of_the_data_files_is_loaded():
    entries = content.read_entries()
    assert Species.objects.count() == len(entries)
    assert set(Species.objects.values_list("slug", flat=True)) == {e["slug"] for e in entries}


def test_the_encyclopedia_covers_the_wild_family_and_many_breeds():
    assert Species.objects.filter(kind=Species.Kind.WILD).count() >= 38
    assert Species.objects.filter(kind=Species.Kind.BREED).count() >= 15


@pytest.mark.parametrize("label", IMAGENET_CAT_LABELS)
def test_every_imagenet_cat_label_is_owned_by_exactly_one_entry(label):
    owners = Species.objects.filter(labels__label=label)
    assert owners.count() == 1, f"{label!r} is owned by {list(owners)}"


def test_the_tabby_breed_owns_both_tabby_labels():
    tabby = Species.objects.get(labels__label="tabby")
    assert set(tabby.labels.values_list("label", flat=True)) == {"tabby", "tiger cat"}
    assert tabby.kind == Species.Kind.BREED


def test_every_entry_passes_model_validation():
    problems = {}
    for species in all_species():
        try:
            species.full_clean()
        except Exception as exc:  # noqa: BLE001 - collect every entry's problem
            problems[species.slug] = exc
    assert not problems


def test_every_entry_has_its_names_and_taxonomy():
    for s in all_species():
        assert s.common_name.strip() and s.slug, s
        genus, _, epithet = s.scientific_name.partition(" ")
        assert genus[:1].isupper() and epithet and epithet.islower(), s.scientific_name
        assert s.subfamily in {"Felinae", "Pantherinae"}, s
        assert s.genus and s.genus[0].isupper(), s
        if s.kind == Species.Kind.WILD:
            # The binomial's first word is the genus.
            assert genus == s.genus, s
        else:
            assert s.scientific_name == "Felis catus", s


def test_every_entry_has_a_summary_and_a_three_paragraph_description():
    for s in all_species():
        assert 20 <= len(s.summary) <= 300, s
        assert len(s.paragraphs) == 3, f"{s}: {len(s.paragraphs)} paragraphs"
        assert all(len(p) >= 80 for p in s.paragraphs), s
        assert s.native_range.strip(), s


@pytest.mark.parametrize(
    "low,high",
    [
        ("weight_min_kg", "weight_max_kg"),
        ("length_min_cm", "length_max_cm"),
        ("lifespan_min_years", "lifespan_max_years"),
    ],
)
def test_every_entry_has_size_and_lifespan_ranges_in_order(low, high):
    for s in all_species():
        lo, hi = getattr(s, low), getattr(s, high)
        assert lo is not None and hi is not None, f"{s} lacks {low}/{high}"
        assert 0 < lo <= hi, f"{s}: {low}={lo} {high}={hi}"


def test_wild_species_have_an_iucn_status_and_breeds_none():
    statuses = set(Species.Conservation.values)
    for s in all_species():
        if s.kind == Species.Kind.WILD:
            assert s.conservation_status in statuses, s
        else:
            assert s.conservation_status == "", s


def test_breeds_have_temperament_and_care_notes():
    for s in Species.objects.filter(kind=Species.Kind.BREED):
        assert len(s.temperament) >= 40 and len(s.care_notes) >= 40, s


def test_names_are_unique_and_plausible():
    wild = Species.objects.filter(kind=Species.Kind.WILD)
    names = list(wild.values_list("scientific_name", flat=True))
    assert len(names) == len(set(names))
    # A few facts a reader would check first.
    assert Species.objects.get(slug="lion").scientific_name == "Panthera leo"
    assert Species.objects.get(slug="snow-leopard").scientific_name == "Panthera uncia"
    assert Species.objects.get(slug="cheetah").genus == "Acinonyx"


def test_some_entries_are_featured_for_the_home_page():
    assert Species.objects.filter(featured=True).count() >= 4


def test_no_label_is_left_without_an_owner():
    assert not ModelLabel.objects.filter(species__isnull=True).exists()
