"""Identifications (what the identifier answered, about which photo) and the feedback on them."""
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

# The label of a photo that shows no cat, as the dataset format defines it.
from classifier.evaluation.dataset import NOT_A_CAT
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
            return "not a cat"
        named = self.answer.get("species") or self.answer.get("taxon") or {}
        return named.get("name") or "a cat"

    @property
    def predicted_label(self) -> str:
        """The answer as a dataset label: a species slug, or not-a-cat (empty for an answer above
        species level, e.g. a genus)."""
        if not self.is_cat:
            return NOT_A_CAT
        return self.predicted_species.slug if self.predicted_species else ""


class FeedbackQuerySet(models.QuerySet):
    def with_photo(self):
        return self.exclude(photo="")

    def pending(self):
        return self.filter(status=Feedback.Status.PENDING)

    def accepted(self):
        return self.filter(status=Feedback.Status.ACCEPTED)


class Feedback(models.Model):
    """A visitor's verdict on one identification, and the photo if they chose to share it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending review"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"

    identification = models.OneToOneField(
        Identification, on_delete=models.CASCADE, related_name="feedback",
        help_text="One feedback per identification.",
    )
    correct = models.BooleanField(help_text="The visitor says the answer was right.")
    species = models.ForeignKey(
        Species, null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback",
        help_text="What the visitor says it is, when the answer was wrong.",
    )
    not_a_cat = models.BooleanField(default=False, help_text="The visitor says it is not a cat.")
    # The kept photo's name in the private feedback storage: photos/<sha256 of the file>.jpg
    # (content-addressed). Empty when the photo was not shared, or purged. A plain name, not a
    # FileField: nothing may ever build a public URL for it.
    photo = models.CharField(max_length=200, blank=True, db_index=True)
    photo_sha256 = models.CharField(max_length=64, blank=True,
                                    help_text="sha256 of the kept (re-encoded) photo.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING,
                              db_index=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = FeedbackQuerySet.as_manager()

    class Meta:
        ordering = ("-created_at",)
        verbose_name_plural = "feedback"
        constraints = (
            models.CheckConstraint(
                condition=~(models.Q(not_a_cat=True) & models.Q(species__isnull=False)),
                name="feedback_not_a_cat_has_no_species",
            ),
        )

    def __str__(self):
        # Short: it is the admin's breadcrumb and page title.
        return f"Feedback {self.pk}"

    @property
    def label(self) -> str:
        """The dataset label this feedback gives its photo: a species slug or not-a-cat; empty
        when it gives none (a correct answer above species level, or a deleted species)."""
        if self.not_a_cat:
            return NOT_A_CAT
        if self.species_id:
            return self.species.slug
        if self.correct:
            return self.identification.predicted_label
        return ""

    @property
    def verdict(self) -> str:
        """correct, corrected or not_a_cat: the metric's and the admin's one-word summary."""
        if self.correct:
            return "correct"
        return "not_a_cat" if self.not_a_cat else "corrected"
