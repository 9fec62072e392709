"""Taking feedback: the verdict rules, the photo only with consent and a matching hash, its
metadata removed, one feedback per id, ids that cannot be guessed, deletion and retention."""
import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from catmodel.evaluation.dataset import NOT_A_CAT
from classifier.models import Identification
from feedback import photos, services
from feedback.errors import (
    FeedbackAlreadyGiven,
    IdentificationNotFound,
    InvalidFeedback,
    PhotoMismatch,
    PhotoMissing,
    UnknownSpecies,
)
from feedback.models import Feedback
from testsupport import images
from testsupport.feedback import has_location, identify, jpeg_with_gps

pytestmark = pytest.mark.django_db
PHOTO = jpeg_with_gps()


@pytest.fixture
def tabby(make_species):
    return make_species(common_name="Tabby test", slug="tabby-test", kind="breed")


@pytest.fixture
def lynx(make_species):
    return make_species(common_name="Lynx test", slug="lynx-test")


def give(identification, **fields):
    fields.setdefault("correct", False)
    if fields.get("share_photo") and "photo" not in fields:
        fields["photo"] = io.BytesIO(PHOTO)
    return services.feedback_create(identification_id=identification.id, **fields)


def test_an_identification_keeps_the_hash_of_the_photo_and_the_answer_not_the_photo(tabby):
    identification = identify(PHOTO, tabby)
    assert identification.photo_sha256 == photos.sha256_of(PHOTO)
    assert identification.predicted_species == tabby
    assert identification.answer["species"]["slug"] == "tabby-test"
    assert identification.expires_at - identification.created_at == datetime.timedelta(hours=24)
    assert not photos.storage().exists("photos")  # nothing stored at all


def test_ids_are_128_random_bits_and_never_repeat(tabby):
    ids = [identify(PHOTO, tabby).id for _ in range(200)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    # Random, not a counter or a timestamp: every hex digit takes many values at every place.
    for place in range(32):
        assert len({i[place] for i in ids}) > 8, place


def test_a_correction_with_the_photo_keeps_it_without_metadata(tabby, lynx):
    feedback = give(identify(PHOTO, tabby), species="lynx-test", share_photo=True)

    assert (feedback.correct, feedback.species, feedback.label) == (False, lynx, "lynx-test")
    assert feedback.status == Feedback.Status.PENDING
    kept = photos.read(feedback.photo)
    assert has_location(PHOTO) and not has_location(kept)
    assert feedback.photo == f"photos/{feedback.photo_sha256[:2]}/{feedback.photo_sha256}.jpg"
    assert photos.sha256_of(kept) == feedback.photo_sha256  # content-addressed


def test_a_photo_sent_without_consent_is_not_kept(tabby, lynx):
    feedback = give(identify(PHOTO, tabby), species="lynx-test", photo=io.BytesIO(PHOTO))
    assert feedback.photo == "" and not photos.storage().exists("photos")
    assert feedback.status == Feedback.Status.NO_PHOTO  # not left pending: nothing to review


def test_a_confirmation_labels_the_photo_with_the_answer(tabby):
    assert give(identify(PHOTO, tabby), correct=True).label == "tabby-test"
    assert give(identify(PHOTO, None), correct=True).label == NOT_A_CAT


def test_not_a_cat(tabby):
    feedback = give(identify(PHOTO, tabby), not_a_cat=True)
    assert (feedback.label, feedback.verdict) == (NOT_A_CAT, "not_a_cat")


@pytest.mark.parametrize("fields, message", [
    ({"correct": False}, "Say what it is"),
    ({"correct": True, "species": "lynx-test"}, "needs no species"),
    ({"correct": True, "not_a_cat": True}, "needs no species"),
    ({"correct": False, "species": "lynx-test", "not_a_cat": True}, "not both"),
    ({"correct": False, "species": "tabby-test"}, "already was Tabby test"),
])
def test_contradictory_or_incomplete_verdicts_are_refused(tabby, lynx, fields, message):
    identification = identify(PHOTO, tabby)
    with pytest.raises(InvalidFeedback, match=message) as error:
        give(identification, **fields)
    assert error.value.status == 400
    assert not Feedback.objects.exists()


def test_not_a_cat_cannot_correct_an_answer_that_said_not_a_cat():
    with pytest.raises(InvalidFeedback, match="already said it is not a cat"):
        give(identify(PHOTO, None), not_a_cat=True)


def test_an_unknown_species_is_refused(tabby):
    with pytest.raises(UnknownSpecies, match="no species or breed 'unicorn'") as error:
        give(identify(PHOTO, tabby), species="unicorn")
    assert error.value.status == 400


def test_sharing_needs_the_same_photo(tabby, lynx):
    identification = identify(PHOTO, tabby)
    with pytest.raises(PhotoMissing):
        give(identification, species="lynx-test", share_photo=True, photo=None)
    other = images.jpeg(images.coffee())
    with pytest.raises(PhotoMismatch) as error:
        give(identification, species="lynx-test", share_photo=True, photo=io.BytesIO(other))
    assert error.value.status == 400
    # One changed byte is another photo.
    tampered = bytearray(PHOTO)
    tampered[-3] ^= 1
    with pytest.raises(PhotoMismatch):
        give(identification, species="lynx-test", share_photo=True,
             photo=io.BytesIO(bytes(tampered)))
    assert not Feedback.objects.exists() and not photos.storage().exists("photos")
    # The refusals used nothing up: the right photo still works.
    assert give(identification, species="lynx-test", share_photo=True).photo


def test_unknown_and_expired_ids_are_not_found(tabby):
    with pytest.raises(IdentificationNotFound) as error:
        services.feedback_create(identification_id="0" * 32, correct=True)
    assert error.value.status == 404
    old = identify(PHOTO, tabby, now=timezone.now() - datetime.timedelta(hours=25))
    with pytest.raises(IdentificationNotFound):
        give(old, correct=True)


def test_feedback_is_given_once(tabby, lynx):
    identification = identify(PHOTO, tabby)
    give(identification, correct=True)
    with pytest.raises(FeedbackAlreadyGiven) as error:
        give(identification, species="lynx-test", share_photo=True)
    assert error.value.status == 409
    assert Feedback.objects.get().correct is True


def test_deleting_a_feedback_deletes_its_photo_unless_another_shares_it(tabby, lynx,
                                                                        django_capture_on_commit_callbacks):
    first = give(identify(PHOTO, tabby), species="lynx-test", share_photo=True)
    second = give(identify(PHOTO, tabby), not_a_cat=True, share_photo=True)
    assert first.photo == second.photo  # the same photo, stored once

    with django_capture_on_commit_callbacks(execute=True):
        first.delete()
    assert photos.storage().exists(second.photo)
    with django_capture_on_commit_callbacks(execute=True):
        Feedback.objects.all().delete()  # the admin's bulk delete
    assert not photos.storage().exists(second.photo)


def test_purge_deletes_old_unreviewed_photos_and_expired_hashes(tabby, lynx):
    now = timezone.now()
    old = give(identify(PHOTO, tabby), species="lynx-test", share_photo=True)
    Feedback.objects.filter(pk=old.pk).update(created_at=now - datetime.timedelta(days=31))
    accepted = give(identify(images.jpeg(images.chelsea(), size=(200, 133)), tabby,
                             ), correct=True, share_photo=True,
                    photo=io.BytesIO(images.jpeg(images.chelsea(), size=(200, 133))))
    Feedback.objects.filter(pk=accepted.pk).update(
        created_at=now - datetime.timedelta(days=31), status=Feedback.Status.ACCEPTED)
    recent = give(identify(images.jpeg(images.coffee()), tabby), not_a_cat=True,
                  share_photo=True, photo=io.BytesIO(images.jpeg(images.coffee())))
    unused = identify(PHOTO, tabby, now=now - datetime.timedelta(days=2))  # expired, no feedback

    assert services.feedback_purge(older_than_days=30, dry_run=True) == {
        "photos": 1, "identifications": 1}
    assert photos.storage().exists(old.photo)
    assert services.feedback_purge(older_than_days=30) == {"photos": 1, "identifications": 1}

    old.refresh_from_db()
    assert old.photo == "" and old.label == "lynx-test"  # the verdict stays
    assert old.status == Feedback.Status.NO_PHOTO  # nothing left to review
    assert not photos.storage().exists(photos.name_for(photos.sha256_of(photos.reencode(PHOTO))))
    assert photos.storage().exists(accepted.photo) and photos.storage().exists(recent.photo)
    assert not Identification.objects.filter(pk=unused.pk).exists()


def test_the_purge_command_says_what_it_deleted(tabby, lynx):
    feedback = give(identify(PHOTO, tabby), species="lynx-test", share_photo=True)
    Feedback.objects.filter(pk=feedback.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=8))
    out = io.StringIO()
    call_command("purge_feedback", "--older-than", "7", "--dry-run", stdout=out)
    assert "Would delete 1 photo(s) pending review for more than 7 day(s)" in out.getvalue()
    assert photos.storage().exists(feedback.photo)
    call_command("purge_feedback", "--older-than", "7", stdout=out)
    assert "Deleted 1 photo(s)" in out.getvalue()
    assert not photos.storage().exists(feedback.photo)
    with pytest.raises(CommandError, match="number of days"):
        call_command("purge_feedback", "--older-than", "-1")


def test_the_answer_in_words(tabby):
    assert identify(PHOTO, tabby).answer_text == "Tabby test"
    assert identify(PHOTO, None).answer_text == "not a cat"
    group = identify(PHOTO, None, is_cat=True)
    group.answer["taxon"] = {"rank": "genus", "name": "lynx", "scientific_name": "Lynx"}
    assert group.answer_text == "lynx" and group.predicted_label == ""
