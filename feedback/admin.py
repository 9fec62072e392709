"""The editors' review queue: feedback with its photo (staff only), filters, bulk accept or reject,
and how many accepted photos each label has (what the next model could learn). The page "Models
in production" (live accuracy per model version) is feedback/admin_models.py."""
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html

from classifier.answer import NOT_A_CAT_TEXT
from core.wording import with_article
from feedback import (
    admin_models,  # noqa: F401 - registers the page "Models in production"
    photos,
    services,
)
from feedback.models import Feedback
from feedback.selectors import accepted_photo_counts

# Feedback.verdict -> the list's column and filter.
VERDICT_WORDS = {"correct": "Right", "corrected": "Wrong: another cat",
                 "not_a_cat": "Wrong: not a cat"}


class VerdictFilter(admin.SimpleListFilter):
    """What the visitor said, in the words the list's verdict column uses."""

    title = "verdict"
    parameter_name = "verdict"

    def lookups(self, request, model_admin):
        return tuple(VERDICT_WORDS.items())

    def queryset(self, request, queryset):
        return {
            "correct": lambda: queryset.filter(correct=True),
            "corrected": lambda: queryset.filter(correct=False, not_a_cat=False),
            "not_a_cat": lambda: queryset.filter(correct=False, not_a_cat=True),
        }.get(self.value(), lambda: queryset)()


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    class Media:
        css = {"all": ("css/admin.css",)}

    change_list_template = "admin/feedback/feedback/change_list.html"
    # Fits a 1280 px window beside the filters: the photo right after the date, where a wide
    # table cannot push it behind the list's scroll bar, and the model by its version only
    # (the change page names it in full).
    list_display = ("created_at", "has_photo", "status", "verdict_text", "stated", "predicted",
                    "version")
    # The status says whether there is a photo: "No photo: nothing to review" has none.
    list_filter = (
        "status",
        VerdictFilter,
        "identification__model_version",
        ("identification__predicted_species", admin.RelatedOnlyFieldListFilter),
        ("species", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("species", "identification__predicted_species")
    date_hierarchy = "created_at"
    actions = ("accept", "reject")
    # "visitor_said", not the field "correct": a read-only boolean is drawn as an icon beside
    # the field's help text, which describes the True case ("The visitor says the answer was
    # right" beside a red cross).
    fields = ("photo_preview", "status", "visitor_said", "species", "not_a_cat", "predicted",
              "answer_summary", "model_version", "photo_sha256", "created_at", "reviewed_at",
              "reviewed_by")
    readonly_fields = ("photo_preview", "visitor_said", "predicted", "answer_summary",
                       "model_version", "photo_sha256", "created_at", "reviewed_at",
                       "reviewed_by")

    # Feedback comes from visitors only.
    def has_add_permission(self, request):
        return False

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        # Without a photo there is nothing to review: the status stays "No photo".
        return (*readonly, "status") if obj is not None and not obj.has_photo else readonly

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "status":
            # "No photo" follows from the photo, it is not an editor's choice.
            kwargs["choices"] = [(s.value, s.label) for s in services.REVIEW_STATUSES]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    # Columns ---------------------------------------------------------------------------------
    @admin.display(description="verdict", ordering="correct")
    def verdict_text(self, obj):
        return VERDICT_WORDS[obj.verdict]

    @admin.display(description="The visitor said")
    def visitor_said(self, obj):
        """The verdict in words, and an icon that agrees with them (a tick only for "right")."""
        if obj.correct:
            words = "The answer was right."
        elif obj.not_a_cat:
            words = "The answer was wrong: it is not a cat."
        elif obj.species is not None:
            words = f"The answer was wrong: it is {with_article(obj.species.common_name)}."
        else:
            words = "The answer was wrong: it is an entry deleted since."
        icon = "admin/img/icon-yes.svg" if obj.correct else "admin/img/icon-no.svg"
        # alt="": the words say it; the icon only repeats them.
        return format_html('<img src="{}" alt="" class="verdict-icon"> {}', static(icon), words)

    @admin.display(description="stated label")
    def stated(self, obj):
        return obj.label or "-"

    @admin.display(description="answered")
    def predicted(self, obj):
        return obj.identification.predicted_label or obj.identification.answer_text

    @admin.display(description="version", ordering="identification__model_version")
    def version(self, obj):
        return obj.identification.model_version

    @admin.display(description="model", ordering="identification__model_version")
    def model_version(self, obj):
        return f"{obj.identification.model_name} {obj.identification.model_version}"

    @admin.display(description="photo", boolean=True)
    def has_photo(self, obj):
        return bool(obj.photo)

    @admin.display(description="answer")
    def answer_summary(self, obj):
        answer = obj.identification.answer
        best = (answer.get("predictions") or [{}])[0]
        return (f"{'a cat' if answer.get('is_cat') else NOT_A_CAT_TEXT}; best guess "
                f"{best.get('label', '?')} ({100 * best.get('probability', 0):.1f}%)")

    @admin.display(description="photo")
    def photo_preview(self, obj):
        if not obj.photo:
            return "No photo: not shared, or deleted by the retention period."
        url = reverse("admin:feedback_feedback_photo", args=[obj.pk])
        return format_html('<a href="{}"><img class="feedback-photo" src="{}" alt="The photo '
                           'the visitor shared, labelled {}"></a>', url, url, obj.label or "-")

    # Review ----------------------------------------------------------------------------------
    @admin.action(description="Accept the selected feedback", permissions=["change"])
    def accept(self, request, queryset):
        self._review(request, queryset, Feedback.Status.ACCEPTED)

    @admin.action(description="Reject the selected feedback", permissions=["change"])
    def reject(self, request, queryset):
        self._review(request, queryset, Feedback.Status.REJECTED)

    def _review(self, request, queryset, status):
        without_photo = queryset.without_photo().count()
        changed = services.feedback_review(queryset, status, request.user)
        self.message_user(request, f"{changed} feedback marked {status}.", messages.SUCCESS)
        if without_photo:
            self.message_user(request, f"{without_photo} without a photo left as they are: "
                                       "there is nothing to review.", messages.WARNING)

    def save_model(self, request, obj, form, change):
        if "status" in form.changed_data:
            for field, value in services.review_values(obj.status, request.user).items():
                setattr(obj, field, value)
        super().save_model(request, obj, form, change)

    # The photo, for staff only ---------------------------------------------------------------
    def get_urls(self):
        return [
            path("<int:pk>/photo/", self.admin_site.admin_view(self.photo_view),
                 name="feedback_feedback_photo"),
            *super().get_urls(),
        ]

    def photo_view(self, request, pk):
        """Streams a kept photo. admin_view() already requires an active staff login; the view
        permission on feedback is needed too."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        feedback = Feedback.objects.filter(pk=pk).exclude(photo="").first()
        if feedback is None:
            raise Http404("No photo for this feedback.")
        response = FileResponse(photos.storage().open(feedback.photo, "rb"),
                                content_type="image/jpeg")
        response["Cache-Control"] = "private, no-store"
        return response

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "accepted_counts": accepted_photo_counts()}
        return super().changelist_view(request, extra_context=extra_context)
