"""The encyclopedia snapshot answers read (species.answer_data): kept by the process between
identifications while no edit was made, read again at once after any edit an answer depends
on, and never kept when the page cache (whose tags carry the edits) is off or down."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catmodel.taxonomy import Node
from species import answer_data
from species.answer_levels import label_owners, resolve
from species.models import ModelLabel, Species, Taxon
from testsupport.harness import free_port

pytestmark = pytest.mark.django_db

LABELS = ["tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat", "lynx", "lion",
          "banana"]


@pytest.fixture
def page_cache_on(settings):
    # Each test starts with an empty cache (conftest.py): its tags start at a new version, so
    # a snapshot an earlier test's process kept is never this test's.
    settings.PAGE_CACHE_SECONDS = 600


def answer_reads() -> int:
    """The queries of what an identification's answer reads of the encyclopedia."""
    with CaptureQueriesContext(connection) as queries:
        data = answer_data.current()
        owners = label_owners(LABELS, data)
        resolve(Node("species", "Felis catus"), owners, evidence=["tabby"], data=data)
        resolve(Node("genus", "Lynx"), owners, evidence=["lynx"], data=data)
    return len(queries)


def test_kept_between_answers_while_nothing_is_edited(page_cache_on):
    # At most one query per part of the snapshot (entries, groups, labels, resemblances)
    assert 1 <= answer_reads() <= 4
    assert answer_reads() == 0
    assert answer_data.current() is answer_data.current()


def test_read_per_answer_when_the_page_cache_is_off(settings):
    settings.PAGE_CACHE_SECONDS = 0
    first = answer_reads()
    assert 1 <= first <= 4
    assert answer_reads() == first


def test_read_per_answer_when_the_cache_is_down(settings, page_cache_on):
    from core import shared_cache

    nowhere = f"redis://127.0.0.1:{free_port()}/0"
    settings.CACHES = {**settings.CACHES, "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": nowhere,
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}}
    shared_cache.forget_state()
    try:
        first = answer_reads()
        assert 1 <= first <= 4
        assert answer_reads() == first
    finally:
        shared_cache.forget_state()


def owner_of(label: str):
    return label_owners([label])[label]


def test_every_edit_an_answer_reads_is_seen_at_once(page_cache_on):
    assert "banana" not in label_owners(LABELS)
    lion = Species.objects.get(slug="lion")

    # A label given an owner, and taken away again.
    row = ModelLabel.objects.create(label="banana", species=lion)
    assert owner_of("banana") == lion
    row.delete()
    assert "banana" not in label_owners(LABELS)

    # An entry renamed: the answer names it as edited.
    lion.common_name = "Lion (edited)"
    lion.save()
    assert owner_of("lion").common_name == "Lion (edited)"

    # A group renamed.
    lynx = Taxon.objects.get(slug="lynx")
    lynx.common_name = "lynxes (edited)"
    lynx.save()
    assert resolve(Node("genus", "Lynx")).name == "lynxes (edited)"

    # A resemblance added, and cleared from the label's side.
    persian = Species.objects.get(slug="persian")
    persian.resembles.add(ModelLabel.objects.get(label="lynx"))
    level = resolve(Node("genus", "Lynx"), label_owners(["lynx"]), evidence=["lynx"])
    assert "persian" in [entry.slug for entry in level.candidates]
    ModelLabel.objects.get(label="lynx").resembled_by.remove(persian)
    level = resolve(Node("genus", "Lynx"), label_owners(["lynx"]), evidence=["lynx"])
    assert "persian" not in [entry.slug for entry in level.candidates]

    # An entry deleted.
    Species.objects.get(slug="iberian-lynx").delete()
    assert "iberian-lynx" not in [entry.slug for entry in resolve(Node("genus", "Lynx"))
                                  .candidates]


def test_an_edit_inside_a_transaction_is_not_kept_stale(
        page_cache_on, django_capture_on_commit_callbacks):
    """A snapshot read while an edit is being made (bumped at once, and again on commit) is
    read again after the commit, as a page rendered during an edit is."""
    from django.db import transaction

    lion = Species.objects.get(slug="lion")
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            lion.common_name = "Lion (in a transaction)"
            lion.save()
            during = answer_data.current()
    assert answer_data.current() is not during
    assert owner_of("lion").common_name == "Lion (in a transaction)"


def test_the_snapshot_gives_what_the_queries_gave():
    data = answer_data.AnswerData()
    for taxon in Taxon.objects.all():
        assert [entry.pk for entry in data.entries_under(taxon.rank, taxon.scientific_name)] == [
            entry.pk for entry in taxon.members()]
        assert data.taxon(taxon.rank, taxon.scientific_name) == taxon
    assert [entry.pk for entry in data.entries_under("family", "Felidae")] == list(
        Species.objects.order_by("common_name").values_list("pk", flat=True))
    for row in ModelLabel.objects.all():
        assert data.label_rows[row.label] == row.owner
