"""The admin's list of content clashes: fields an editor changed while the data files changed
them too (species/content.py). The editor's value stays until someone takes the files' value
here, with one action; a clash disappears once the values agree."""
from django.contrib import admin, messages
from django.db.models import Q
from django.urls import reverse
from django.utils.html import format_html

from core.readonly_admin import ReadOnlyAdmin
from species.content import ContentError, shorten, take_upstream
from species.models import ContentClash


@admin.register(ContentClash)
class ContentClashAdmin(ReadOnlyAdmin):
    list_display = ("entry_link", "field", "editors_value", "upstream_value", "checked_at")
    list_filter = ("entry__kind", "field")
    search_fields = ("entry__key", "field")
    actions = ["take_the_upstream_value"]
    list_display_links = None  # nothing to edit by hand: the entry's own page does that

    def get_queryset(self, request):
        # Clashes of entries deleted since are no one's to decide any more.
        still_here = (Q(entry__species__isnull=False) | Q(entry__taxon__isnull=False)
                      | Q(entry__label__isnull=False))
        return (super().get_queryset(request).filter(still_here, clash=True)
                .select_related("entry__species", "entry__taxon", "entry__label__species",
                                "entry__label__taxon"))

    def get_actions(self, request):
        # Taking upstream edits the entry: it needs the right to change entries, not clashes.
        actions = super().get_actions(request)
        if not request.user.has_perm("species.change_species"):
            actions.pop("take_the_upstream_value", None)
        return actions

    @admin.display(description="Entry")
    def entry_link(self, obj):
        row = obj.entry.row
        if row is None:
            return obj.entry.key
        url = reverse(f"admin:species_{row._meta.model_name}_change", args=[row.pk])
        return format_html('<a href="{}">{}</a>', url, obj.entry.key)

    @admin.display(description="Value here (kept)")
    def editors_value(self, obj):
        row = obj.entry.row
        if row is None:
            return "-"
        if obj.field == "owner":
            return shorten(getattr(row.owner, "slug", None))
        if obj.field == "resembles":
            return shorten(sorted(row.resembles.values_list("label", flat=True)))
        return shorten(getattr(row, row._meta.get_field(obj.field).attname))

    @admin.display(description="Value in the data files")
    def upstream_value(self, obj):
        return shorten(obj.upstream)

    @admin.action(description="Take the upstream value (the data files')")
    def take_the_upstream_value(self, request, queryset):
        try:
            taken = take_upstream(queryset)
        except ContentError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(request, f"Took the data files' value of {', '.join(taken)}.",
                          messages.SUCCESS)
