"""Django admin for the encyclopedia: staff edit species, breeds, the groups above them (a genus,
the domestic cat) and the model labels each of them owns; each label has exactly one owner.
Each of them has a History (django-simple-history: who changed which field, when, revert);
clashes with the data files are listed apart (species/admin_clashes.py)."""
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from species import admin_clashes  # noqa: F401 - registers the list of content clashes
from species.models import ModelLabel, Species, Taxon


class ModelLabelInline(admin.TabularInline):
    model = ModelLabel
    fk_name = "species"
    fields = ("label",)  # the owner is the page's entry: never a second owner here
    extra = 1
    verbose_name = "classifier label"
    verbose_name_plural = "Classifier labels (the photo model's labels that mean this entry)"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # A tabular inline labels its inputs only by the column heading; name them for
        # screen readers too (axe: "Form elements must have labels").
        field = super().formfield_for_dbfield(db_field, request, **kwargs)
        if db_field.name == "label":
            field.widget.attrs["aria-label"] = "Classifier label"
        return field


class TaxonLabelInline(ModelLabelInline):
    fk_name = "taxon"
    verbose_name_plural = "Classifier labels (the photo model's labels that mean this group)"


@admin.register(Taxon)
class TaxonAdmin(SimpleHistoryAdmin):  # History: who changed what, with revert
    list_display = ("common_name", "scientific_name", "rank", "member_count", "label_list")
    list_filter = ("rank",)
    search_fields = ("common_name", "scientific_name", "labels__label")
    prepopulated_fields = {"slug": ("common_name",)}
    readonly_fields = ("member_list",)
    inlines = [TaxonLabelInline]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("labels")

    @admin.display(description="Entries")
    def member_count(self, obj):
        return obj.members().count()

    @admin.display(description="Labels")
    def label_list(self, obj):
        return ", ".join(label.label for label in obj.labels.all()) or "-"

    @admin.display(description="Entries under this group")
    def member_list(self, obj):
        return ", ".join(s.common_name for s in obj.members()) or "-"


@admin.register(ModelLabel)
class ModelLabelAdmin(SimpleHistoryAdmin):
    """Every label and its owner in one list; the model refuses a second owner or none."""

    list_display = ("label", "species", "taxon")
    list_select_related = ("species", "taxon")
    list_filter = ("taxon",)
    search_fields = ("label", "species__common_name", "taxon__common_name")
    autocomplete_fields = ("species",)


# Forms per kind ------------------------------------------------------------------------------
# Wild species and breeds get forms of their own from one admin whose form follows the entry's
# kind, rather than from two proxy models with an admin each: a proxy's saves send their signals
# with the proxy as sender, which the receivers on Species (page-cache invalidation, edit
# history) would not hear, and an entry keeps one admin URL that every link can use. Editors
# still see only what applies: the list adds either kind, and each form leaves out the other
# kind's fields.
KIND_SECTIONS = {
    Species.Kind.WILD: ("Wild species", {"fields": ("conservation_status", "conservation_note")}),
    Species.Kind.BREED: ("Breed", {"fields": ("temperament", "care_notes")}),
}
# Fields a breed does without: the genus comparison (ears, tail) is shown for wild cats only.
WILD_ONLY_FIELDS = ("ears", "tail")
# What every breed is, filled in on the add form.
BREED_INITIAL = {"scientific_name": "Felis catus", "subfamily": "Felinae", "genus": "Felis"}


def _only(field, names) -> bool:
    """Whether a fieldset entry (a field, or a row of fields) holds only these fields."""
    return set(field if isinstance(field, tuple) else (field,)) <= set(names)


class KindFormsMixin:
    """The change form of a wild species has no temperament or care notes, a breed's no
    conservation status; a new entry is added as one kind (the list's two add links) and the
    kind of a saved one is shown, not edited (it decides which fields apply)."""

    def entry_kind(self, request, obj=None) -> str | None:
        """The kind the form is for: the entry's, else the add link's (?kind=) or the posted one."""
        if obj is not None:
            return obj.kind
        kind = request.GET.get("kind") or request.POST.get("kind")
        return kind if kind in Species.Kind.values else None

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        kind = self.entry_kind(request, obj)
        if kind is None:
            return fieldsets
        per_kind = {field for _, options in KIND_SECTIONS.values() for field in options["fields"]}
        chosen, at = [], None
        for name, options in fieldsets:
            if set(options["fields"]) <= per_kind:
                at = len(chosen) if at is None else at  # the kind's section goes here
                continue
            fields = [field for field in options["fields"]
                      if not (obj is None and field == "kind")  # the add link gave the kind
                      and not (kind == Species.Kind.BREED and _only(field, WILD_ONLY_FIELDS))]
            if fields:
                chosen.append((name, {**options, "fields": tuple(fields)}))
        name, options = KIND_SECTIONS[kind]
        chosen.insert(len(chosen) if at is None else at, (name, dict(options)))
        return chosen

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return (*readonly, "kind") if obj is not None else readonly

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if self.entry_kind(request) == Species.Kind.BREED:
            initial = {**BREED_INITIAL, **initial}
        return initial

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        kind = self.entry_kind(request, obj)
        if obj is not None or kind is None:
            return form

        class NewEntryForm(form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                # Set before validation: the model's clean() checks what the kind requires.
                self.instance.kind = kind

        return NewEntryForm

    def add_view(self, request, form_url="", extra_context=None):
        kind = self.entry_kind(request)
        if kind is None:
            # Nothing to fill in before the kind is known: ask for it first.
            if not self.has_add_permission(request):
                raise PermissionDenied
            return TemplateResponse(request, "admin/species/species/choose_kind.html", {
                **self.admin_site.each_context(request),
                "opts": self.model._meta, "title": "Add a wild species or a breed",
                "kinds": [(value, f"Add {label.lower()}") for value, label in
                          Species.Kind.choices],
                # A popup (the "+" beside a label's species) stays one.
                "query": "".join(f"{part}&" for part in [request.GET.urlencode()] if part),
            })
        title = f"Add {Species.Kind(kind).label.lower()}"
        return super().add_view(request, form_url, {**(extra_context or {}), "title": title})


@admin.register(Species)
class SpeciesAdmin(KindFormsMixin, SimpleHistoryAdmin):
    class Media:
        # Styles for the pictures below, from a file: the Content-Security-Policy refuses
        # inline style attributes.
        css = {"all": ("css/admin.css",)}

    list_display = (
        "thumbnail", "common_name", "scientific_name", "kind", "genus",
        "conservation_status", "featured", "label_list", "updated_at",
    )
    # The thumbnail is decorative (alt=""): as a link it would be a link without a name.
    list_display_links = ("common_name",)
    list_filter = ("kind", "conservation_status", "subfamily", "genus", "featured")
    list_editable = ("featured",)
    search_fields = ("common_name", "scientific_name", "summary", "labels__label")
    prepopulated_fields = {"slug": ("common_name",)}
    readonly_fields = ("image_preview", "created_at", "updated_at")
    inlines = [ModelLabelInline]
    save_on_top = True
    fieldsets = (
        (None, {"fields": ("common_name", "slug", "kind", "featured")}),
        ("Taxonomy", {"fields": ("scientific_name", "synonyms", "subfamily", "genus")}),
        ("Text", {"fields": ("summary", "description", "native_range")}),
        ("Size and lifespan", {
            "fields": (
                ("weight_min_kg", "weight_max_kg"),
                ("length_min_cm", "length_max_cm"),
                ("lifespan_min_years", "lifespan_max_years"),
            ),
            "description": "Weights in kilograms; head-and-body length in centimetres; years.",
        }),
        ("Wild species", {"fields": ("conservation_status", "conservation_note")}),
        ("Breeds", {"fields": ("temperament", "care_notes")}),
        ("Photo identifier", {
            "fields": (("ears", "tail"), "resembles"),
            "description": "Ears and tail: the comparison shown when the identifier can only "
                           "name the genus. Resembles: model labels a photo of this breed is "
                           "often given; the result page offers it as a look-alike.",
        }),
        ("Picture", {
            "fields": ("image", "image_preview", "image_alt", "image_credit",
                       ("coat_pattern", "coat_colour", "marking_colour")),
            "description": "Without a photo the site draws an illustration from the coat fields.",
        }),
        ("Record", {"fields": ("created_at", "updated_at"), "classes": ("collapse",)}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("labels")

    def get_changelist_form(self, request, **kwargs):
        # Django renders list_editable checkboxes without a label; name each one after its row
        # for screen readers (axe: "Form elements must have labels").
        form = super().get_changelist_form(request, **kwargs)

        class LabelledForm(form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                self.fields["featured"].widget.attrs["aria-label"] = (
                    f"Featured: {self.instance.common_name}"
                )

        return LabelledForm

    @admin.display(description="")
    def thumbnail(self, obj):
        return format_html(
            '<img class="species-thumb" src="{}" alt="" width="40" height="40">',
            obj.picture_url,
        )

    @admin.display(description="Labels")
    def label_list(self, obj):
        return ", ".join(label.label for label in obj.labels.all()) or "-"

    @admin.display(description="Preview")
    def image_preview(self, obj):
        if not obj.pk:
            return "Save to see the picture."
        return format_html(
            '<img class="species-preview" src="{}" alt="{}">',
            obj.picture_url, obj.picture_alt,
        )


admin.site.site_header = "catsite administration"
admin.site.site_title = "catsite admin"
admin.site.index_title = "Encyclopedia"
