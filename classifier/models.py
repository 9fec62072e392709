"""The record of each answer of the identifier (its id is what feedback refers to). It lives
where identification happens; the feedback app builds on it (feedback.models.Feedback)."""
import secrets

from django.db import models
from django.utils import timezone

from classifier.answer import NOT_A_CAT_LABEL, NOT_A_CAT_TEXT
from species.models import Species


def new_identification_id() -> str:
    """128 random bits from the operating system's CSPRNG, as 32 hex digits: the id is the only
    thing that lets someone give feedback on an identification, so it must not be guessable."""
    return secrets.token_hex(16)


class Identification(models.Model):
    """One answer of the identifier. The photo itself is never kept here: only its sha256, so
    that feedback can prove it sends the same photo back."""

    id = models.CharField(primary_key=True, max_length=32, default=new_identification_id,
                          editable=False)
    # Emptied when the visitor withdraws their feedback: the hash identifies their photo.
    photo_sha256 = models.CharField(max_length=64, blank=True,
                                    help_text="sha256 of the uploaded bytes.")
    model_name = models.CharField(max_length=100)
    model_version = models.CharField(max_length=100, db_index=True)
    # The answer as the API gave it (without timings): what the visitor saw, kept whatever
    # shape later answers take.
    answer = models.JSONField()
    is_cat = models.BooleanField()
    predicted_species = models.ForeignKey(
        Species, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The species answered, if any.",
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    expires_at = models.DateTimeField(db_index=True, help_text="Feedback is refused after this.")
    # The visitor withdrew their feedback: none is taken again under this id (the id is the
    # only credential, and a withdrawal is a request to be forgotten, not to start over).
    withdrawn_at = models.DateTimeField(null=True, blank=True,
                                        help_text="Feedback was withdrawn; no more is taken.")

    class Meta:
        ordering = ("-created_at",)
        # The table the feedback app created, kept when the model moved here (no data moved:
        # classifier/migrations/0001 and feedback/migrations/0002 change Django's state only).
        db_table = "feedback_identification"

    def __str__(self):
        return f"identification {self.id[:8]}… ({self.predicted_label})"

    @property
    def expired(self) -> bool:
        return timezone.now() >= self.expires_at

    @property
    def answer_text(self) -> str:
        """What the visitor was told, in words: the species, else the group (a genus, "domestic
        cat") when the answer names one, else "a cat" or "not a cat"."""
        if not self.is_cat:
            return NOT_A_CAT_TEXT
        named = self.answer.get("species") or self.answer.get("taxon") or {}
        return named.get("name") or "a cat"

    @property
    def predicted_label(self) -> str:
        """The answer as a dataset label: a species slug, or not-a-cat (empty for an answer above
        species level, e.g. a genus)."""
        if not self.is_cat:
            return NOT_A_CAT_LABEL
        return self.predicted_species.slug if self.predicted_species else ""
