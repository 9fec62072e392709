"""The feedback on identifications (the record of each answer: classifier.models.Identification)."""
from django.conf import settings
from django.db import models
from django.utils import timezone

from classifier.answer import NOT_A_CAT_KEY, NOT_A_CAT_LABEL
from classifier.models import Identification
from species.models import Species


class FeedbackQuerySet(models.QuerySet):
    def with_photo(self):
        return self.exclude(photo="")

    def pending(self):
        return self.filter(status=Feedback.Status.PENDING)

    def without_photo(self):
        return self.filter(status=Feedback.Status.NO_PHOTO)

    def accepted(self):
        return self.filter(status=Feedback.Status.ACCEPTED)


class Feedback(models.Model):
    """A visitor's verdict on one identification, and the photo if they chose to share it."""

    class Status(models.TextChoices):
        # Review is of the photo (may it train the next model?): a verdict without one has
        # nothing to review. It is NO_PHOTO from the start, or once the retention purge takes
        # the photo; every status but NO_PHOTO has a photo (the constraint below).
        PENDING = "pending", "Pending review"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        NO_PHOTO = "no_photo", "No photo: nothing to review"

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
            models.CheckConstraint(
                condition=models.Q(photo="", status="no_photo")
                | (~models.Q(photo="") & ~models.Q(status="no_photo")),
                name="feedback_no_photo_status_iff_no_photo",
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
            return NOT_A_CAT_LABEL
        if self.species_id:
            return self.species.slug
        if self.correct:
            return self.identification.predicted_label
        return ""

    @property
    def has_photo(self) -> bool:
        return bool(self.photo)

    @property
    def verdict(self) -> str:
        """correct, corrected or not_a_cat: the metric's and the admin's one-word summary."""
        if self.correct:
            return "correct"
        return NOT_A_CAT_KEY if self.not_a_cat else "corrected"


class ModelInProduction(Identification):
    """The admin's page "Models in production" (feedback/admin_models.py): the answers of each
    model version and the verdicts on them. A proxy: no table of its own, only the entry on the
    admin's index (and its view permission)."""

    class Meta:
        proxy = True
        verbose_name = "model in production"
        verbose_name_plural = "models in production"
