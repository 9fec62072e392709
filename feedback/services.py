"""Writes: taking feedback, reviewing it, purging old photos (identifications are recorded by
the classifier: classifier/records.py).

Views, the API and the admin call these; they hold no business rules of their own.
"""
from __future__ import annotations

import datetime
import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from classifier import metrics
from classifier.models import Identification
from feedback import photos
from feedback.errors import (
    FeedbackAlreadyGiven,
    FeedbackWithdrawn,
    IdentificationNotFound,
    InvalidFeedback,
    PhotoMismatch,
    PhotoMissing,
    UnknownSpecies,
)
from feedback.models import Feedback
from species.models import Species

logger = logging.getLogger(__name__)


def identification_get(identification_id: str) -> Identification:
    """The identification under this id, if it has not expired; else IdentificationNotFound.
    FeedbackWithdrawn when its feedback was withdrawn (none is taken again)."""
    identification = (Identification.objects.select_related("predicted_species")
                      .filter(pk=str(identification_id)).first())
    if identification is None or identification.expired:
        raise IdentificationNotFound()
    if identification.withdrawn_at is not None:
        raise FeedbackWithdrawn()
    return identification


def _check_verdict(identification: Identification, *, correct: bool, species: Species | None,
                   not_a_cat: bool) -> None:
    if species is not None and not_a_cat:
        raise InvalidFeedback("Give either a species or not_a_cat, not both.")
    if correct:
        if species is not None or not_a_cat:
            raise InvalidFeedback("A correct answer needs no species or not_a_cat; to correct "
                                  "the answer, send correct=false.")
        return
    if species is None and not not_a_cat:
        raise InvalidFeedback("Say what it is: an encyclopedia entry's slug in 'species', or "
                              "not_a_cat=true.")
    if not_a_cat and not identification.is_cat:
        raise InvalidFeedback("The answer already said it is not a cat: send correct=true to "
                              "confirm it.")
    if species is not None and species == identification.predicted_species:
        raise InvalidFeedback(f"The answer already was {species.common_name}: send correct=true "
                              "to confirm it.")


def _species(slug: str | None) -> Species | None:
    if not slug:
        return None
    species = Species.objects.filter(slug=slug).first()
    if species is None:
        raise UnknownSpecies(slug)
    return species


def feedback_create(*, identification_id: str, correct: bool, species: str | None = None,
                    not_a_cat: bool = False, share_photo: bool = False,
                    photo=None) -> Feedback:
    """Take a visitor's verdict on an identification, and keep the photo when they consent and
    send back the very photo that was identified (its sha256 must match).

    Raises IdentificationNotFound (404), FeedbackAlreadyGiven (409), FeedbackWithdrawn (410),
    InvalidFeedback,
    UnknownSpecies, PhotoMissing or PhotoMismatch (400). A photo sent without share_photo is
    never kept.
    """
    identification = identification_get(identification_id)
    if Feedback.objects.filter(identification=identification).exists():
        raise FeedbackAlreadyGiven()
    stated = _species(species)
    _check_verdict(identification, correct=correct, species=stated, not_a_cat=not_a_cat)

    name = sha256 = ""
    if share_photo:
        if photo is None or getattr(photo, "size", 1) == 0:
            raise PhotoMissing()
        if photos.sha256_of(photo) != identification.photo_sha256:
            raise PhotoMismatch()
        name, sha256 = photos.keep(photo)
    try:
        with transaction.atomic():
            feedback = Feedback.objects.create(
                identification=identification, correct=correct, species=stated,
                not_a_cat=not_a_cat, photo=name, photo_sha256=sha256,
                status=Feedback.Status.PENDING if name else Feedback.Status.NO_PHOTO,
            )
    except IntegrityError:
        # Another request gave feedback on the same id in the meantime.
        delete_photo_if_unused(name)
        raise FeedbackAlreadyGiven() from None
    # catsite_feedback_total{verdict, model, version}: the model that gave this answer.
    metrics.count_feedback(feedback.verdict, identification.model_name,
                           identification.model_version)
    return feedback


def delete_photo_if_unused(name: str) -> bool:
    """Delete a kept photo unless another feedback still refers to it (photos are content-
    addressed, so two visitors sharing the same photo share one file)."""
    if not name or Feedback.objects.filter(photo=name).exists():
        return False
    photos.delete(name)
    return True


# What an editor can set: a verdict without a photo stays NO_PHOTO (nothing to review).
REVIEW_STATUSES = (Feedback.Status.PENDING, Feedback.Status.ACCEPTED, Feedback.Status.REJECTED)


def review_values(status: str, user=None) -> dict:
    """The fields a review sets: the status, and who reviewed it when (cleared for pending)."""
    if status not in REVIEW_STATUSES:
        raise ValueError(f"not a review status: {status!r}")
    pending = status == Feedback.Status.PENDING
    return {"status": status, "reviewed_at": None if pending else timezone.now(),
            "reviewed_by": None if pending else user}


def feedback_review(feedbacks, status: str, user=None) -> int:
    """Mark feedbacks accepted or rejected (or back to pending); returns how many changed.
    Those without a photo are left as they are: there is nothing to review."""
    values = review_values(status, user)
    return feedbacks.with_photo().exclude(status=status).update(**values)


def feedback_purge(*, older_than_days: int, now: datetime.datetime | None = None,
                   dry_run: bool = False) -> dict:
    """Retention: delete the photos of feedback still pending review after ``older_than_days``
    (the verdict stays, without its photo), and every expired identification that received no
    feedback (its photo hash is of no more use). Returns the counts."""
    if older_than_days < 0:
        raise ValueError("the number of days must not be negative")
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=older_than_days)
    stale = Feedback.objects.pending().with_photo().filter(created_at__lt=cutoff)
    expired = Identification.objects.filter(expires_at__lt=now, feedback__isnull=True)
    counts = {"photos": stale.count(), "identifications": expired.count()}
    if dry_run:
        return counts
    names = set(stale.values_list("photo", flat=True))
    with transaction.atomic():
        stale.update(photo="", photo_sha256="", status=Feedback.Status.NO_PHOTO)
        expired.delete()
    # Files go after the rows are committed: a failure leaves an orphan file, never a row
    # pointing at nothing.
    for name in names:
        delete_photo_if_unused(name)
    return counts


def feedback_withdraw(identification_id: str) -> bool:
    """Delete the feedback given under this id, and its photo (the visitor's request: the id
    is the proof). The identification forgets the photo's hash and takes no feedback again
    (its row stays until the purge, so the id cannot be given feedback anew). True when there
    was something to delete."""
    with transaction.atomic():
        feedback = (Feedback.objects.select_for_update()
                    .filter(identification_id=str(identification_id)).first())
        if feedback is None:
            return False
        Identification.objects.filter(pk=feedback.identification_id).update(
            photo_sha256="", withdrawn_at=timezone.now())
        feedback.delete()  # the photo follows once committed (feedback/signals.py)
    return True
