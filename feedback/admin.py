"""The editors' review queue: feedback with its photo (staff only), filters, bulk accept or reject,
and how many accepted photos each label has (what the next model could learn)."""
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.urls import path, reverse
from django.utils.html import format_html

from classifier.answer import NOT_A_CAT_KEY, NOT_A_CAT_TEXT
from feedback import photos, services
from feedback.models import Feedback
from feedback.selectors import accepted_photo_counts


class HasPhotoFilter(admin.SimpleListFilter):
    title = "photo"
    parameter_name = "photo"

    def lookups(self, request, model_admin):
        return (("yes", "Shared"), ("no", "Not shared or purged"))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.with_photo()
        if self.value() == "no":
            return queryset.filter(photo="")
        return queryset


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    class Media:
        css = {"all": ("css/admin.css",)}

    change_list_template = "admin/feedback/feedback/change_list.html"
    list_display = ("created_at", "status", "verdict_text", "stated", "predicted",
                    "model_version", "has_photo")
    list_filter = (
        "status",
        ("correct", admin.BooleanFieldListFilter),
        HasPhotoFilter,
        "identification__model_version",
        ("identification__predicted_species", admin.RelatedOnlyFieldListFilter),
        ("species", admin.RelatedOnlyFieldListFilter),
        "not_a_cat",
    )
    list_select_related = ("species", "identification__predicted_species")
    date_hierarchy = "created_at"
    actions = ("accept", "reject")
    fields = ("photo_preview", "status", "correct", "species", "not_a_cat", "predicted",
              "answer_summary", "model_version", "photo_sha256", "created_at", "reviewed_at",
              "reviewed_by")
    readonly_fields = ("photo_preview", "correct", "predicted", "answer_summary",
                       "model_version", "photo_sha256", "created_at", "reviewed_at",
                       "reviewed_by")

    # Feedback comes from visitors only.
    def has_add_permission(self, request):
        return False

    # Columns ---------------------------------------------------------------------------------
    @admin.display(description="verdict", ordering="correct")
    def verdict_text(self, obj):
        words = {"correct": "Right", "corrected": "Wrong",
                 NOT_A_CAT_KEY: f"Wrong: {NOT_A_CAT_TEXT}"}
        return words[obj.verdict]

    @admin.display(description="stated label")
    def stated(self, obj):
        return obj.label or "-"

    @admin.display(description="answered")
    def predicted(self, obj):
        return obj.identification.predicted_label or obj.identification.answer_text

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
        changed = services.feedback_review(queryset, status, request.user)
        self.message_user(request, f"{changed} feedback marked {status}.", messages.SUCCESS)

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
