"""The encyclopedia: wild cat species and domestic breeds, and the model labels they own."""
import functools

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.http import urlencode
from simple_history.models import HistoricalRecords

from core.wording import with_article
from species.pictures import illustration_title, illustration_version

HEX_COLOUR = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #c8a165.")


def tidy_text(value):
    """A text as it is kept: Unix line endings, no white space around it. A browser sends a
    textarea back with \r\n, so without this an admin save of one field would make every
    multi-line field differ from the data files (and look edited to load_species)."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return value


class TidyTextModel(models.Model):
    """Text fields are tidied on every save, whoever saves (admin form, shell, API, command)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        for field in self._meta.concrete_fields:
            if isinstance(field, (models.CharField, models.TextField)):
                setattr(self, field.attname, tidy_text(getattr(self, field.attname)))
        super().save(*args, **kwargs)


class Species(TidyTextModel):
    """One entry of the encyclopedia: a wild species of Felidae or a domestic cat breed."""

    class Kind(models.TextChoices):
        WILD = "wild", "Wild species"
        BREED = "breed", "Domestic breed"

    class Conservation(models.TextChoices):
        # IUCN Red List categories, https://www.iucnredlist.org/
        LEAST_CONCERN = "LC", "Least Concern"
        NEAR_THREATENED = "NT", "Near Threatened"
        VULNERABLE = "VU", "Vulnerable"
        ENDANGERED = "EN", "Endangered"
        CRITICALLY_ENDANGERED = "CR", "Critically Endangered"
        EXTINCT_IN_THE_WILD = "EW", "Extinct in the Wild"
        DATA_DEFICIENT = "DD", "Data Deficient"
        # A species recognised after its last assessment (conservation_note says which one).
        NOT_EVALUATED = "NE", "Not Evaluated"

    class CoatPattern(models.TextChoices):
        # Drives the generated illustration shown when no photo has been uploaded.
        PLAIN = "plain", "Plain"
        SPOTTED = "spotted", "Spotted"
        ROSETTES = "rosettes", "Rosettes"
        STRIPED = "striped", "Striped"
        TABBY = "tabby", "Tabby"
        POINTED = "pointed", "Colour-pointed"
        VAN = "van", "Van (white, colour on head and tail)"
        HAIRLESS = "hairless", "Hairless"

    common_name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    scientific_name = models.CharField(
        max_length=100, help_text="Binomial name, e.g. Panthera leo; Felis catus for breeds."
    )
    # Names other classifications give the same species (iNaturalist's, older ones): a dataset
    # labelled with one maps to this entry (manage.py import_dataset --format inaturalist).
    synonyms = models.CharField(
        max_length=300, blank=True,
        help_text="Other scientific names of this species, separated by commas, e.g. Felis "
                  "concolor for the puma; photos imported under one of them count for this entry.",
    )
    kind = models.CharField(max_length=5, choices=Kind.choices, db_index=True)
    subfamily = models.CharField(max_length=50, help_text="Felinae or Pantherinae.")
    genus = models.CharField(max_length=50, db_index=True)

    summary = models.CharField(max_length=300, help_text="One or two sentences for cards.")
    description = models.TextField(help_text="Paragraphs separated by a blank line.")
    native_range = models.CharField(
        max_length=300, help_text="Where a wild species lives, or where a breed comes from."
    )

    weight_min_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    weight_max_kg = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    # Empty means "not stated": breed registries publish no head-and-body lengths.
    length_min_cm = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Head and body, without the tail; empty when not stated."
    )
    length_max_cm = models.PositiveSmallIntegerField(null=True, blank=True)
    # Empty means "not known" (a few wild cats have never been studied long enough).
    lifespan_min_years = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty when not known."
    )
    lifespan_max_years = models.PositiveSmallIntegerField(null=True, blank=True)

    # A short comparison the result page shows between close relatives (e.g. the four lynxes).
    ears = models.CharField(max_length=120, blank=True, help_text="What tells its ears apart.")
    tail = models.CharField(max_length=120, blank=True, help_text="What tells its tail apart.")

    conservation_status = models.CharField(
        max_length=2, choices=Conservation.choices, blank=True, db_index=True,
        help_text="IUCN category; wild species only.",
    )
    conservation_note = models.CharField(
        max_length=300, blank=True,
        help_text="What the category covers when it is not a plain assessment of this species.",
    )
    temperament = models.TextField(blank=True, help_text="Breeds: character and behaviour.")
    care_notes = models.TextField(blank=True, help_text="Breeds: grooming, health, needs.")

    coat_pattern = models.CharField(
        max_length=10, choices=CoatPattern.choices, default=CoatPattern.PLAIN
    )
    coat_colour = models.CharField(max_length=7, default="#b08a5a", validators=[HEX_COLOUR])
    marking_colour = models.CharField(max_length=7, default="#3b2a1a", validators=[HEX_COLOUR])

    image = models.ImageField(upload_to="species/", blank=True)
    image_alt = models.CharField(max_length=200, blank=True, help_text="Describe the photo.")
    image_credit = models.CharField(max_length=200, blank=True)

    # Breeds a photo model cannot name look like a breed or a house-cat class it has: the result
    # page offers them as look-alikes when the model answers with those labels.
    resembles = models.ManyToManyField(
        "ModelLabel", blank=True, related_name="resembled_by",
        help_text="Model labels a photo of this breed is often given (look-alikes on the "
                  "result page).",
    )

    featured = models.BooleanField(default=False, help_text="Shown on the home page.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Who changed which field, when, from what to what; reverted from the admin's History.
    history = HistoricalRecords(m2m_fields=[resembles], excluded_fields=["updated_at"])

    class Meta:
        ordering = ["common_name"]
        verbose_name_plural = "species"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="breed") | models.Q(conservation_status=""),
                name="breed_has_no_conservation_status",
            ),
        ]

    def __str__(self):
        return self.common_name

    @property
    def synonym_list(self) -> list[str]:
        return [name.strip() for name in self.synonyms.split(",") if name.strip()]

    def get_absolute_url(self):
        return _detail_path(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF,
                            self.slug)

    def clean(self):
        errors = {}
        if self.kind == self.Kind.WILD and not self.conservation_status:
            errors["conservation_status"] = "A wild species needs its IUCN category."
        if self.kind == self.Kind.BREED and (self.conservation_status or self.conservation_note):
            errors["conservation_status"] = "Breeds have no IUCN category."
        for low, high in (
            ("weight_min_kg", "weight_max_kg"),
            ("length_min_cm", "length_max_cm"),
            ("lifespan_min_years", "lifespan_max_years"),
        ):
            lo, hi = getattr(self, low), getattr(self, high)
            if lo is not None and hi is not None and lo > hi:
                errors[high] = "The maximum must not be below the minimum."
        if errors:
            raise ValidationError(errors)

    @property
    def picture_url(self):
        """The uploaded photo, else the generated illustration (its URL versioned by what it
        is drawn from, so caches may keep it for a year: species/pictures.py)."""
        if self.image:
            return self.image.url
        url = reverse("species:illustration", kwargs={"slug": self.slug})
        return f"{url}?v={illustration_version(self)}"

    @property
    def picture_alt(self):
        if self.image:
            return self.image_alt or f"Photo of {with_article(self.common_name)}"
        return illustration_title(self)

    @property
    def kind_plural(self):
        return "Wild species" if self.kind == self.Kind.WILD else "Domestic breeds"

    @property
    def is_wild(self):
        return self.kind == self.Kind.WILD

    @property
    def paragraphs(self):
        return [p.strip() for p in self.description.split("\n\n") if p.strip()]


class Taxon(TidyTextModel):
    """A group above the encyclopedia's entries that an answer (and a model label) can name:
    a genus such as Lynx, the domestic cat without a breed, a subfamily or the family.

    The entries under it follow from their own taxonomy fields (genus, subfamily, and Felis
    catus for breeds), so adding an entry needs no change here.
    """

    class Rank(models.TextChoices):
        SPECIES = "species", "Species"
        GENUS = "genus", "Genus"
        SUBFAMILY = "subfamily", "Subfamily"
        FAMILY = "family", "Family"

    scientific_name = models.CharField(
        max_length=100, unique=True, help_text="Felis catus, Lynx, Felinae or Felidae."
    )
    common_name = models.CharField(max_length=100, help_text="lynx, domestic cat, small cats...")
    slug = models.SlugField(max_length=100, unique=True)
    rank = models.CharField(max_length=10, choices=Rank.choices)
    # Its place in the tree, so the classifier adds a label's probability up to the family
    # without reading the entries (one query per identification).
    subfamily = models.CharField(
        max_length=50, blank=True, help_text="Felinae or Pantherinae; empty for a subfamily or "
        "the family.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["scientific_name"]
        # "Taxonomic": the admin index also lists Django's login groups.
        verbose_name = "taxonomic group"
        verbose_name_plural = "taxonomic groups"

    def __str__(self):
        return f"{self.common_name} ({self.get_rank_display().lower()} {self.scientific_name})"

    def get_absolute_url(self):
        """The species list narrowed to this group, as far as its filters go."""
        url = reverse("species:list")
        if self.rank == self.Rank.GENUS:
            return f"{url}?{urlencode({'genus': self.scientific_name})}"
        if self.rank == self.Rank.SPECIES and self.scientific_name == "Felis catus":
            return f"{url}?kind={Species.Kind.BREED}"
        return url

    def members(self):
        """The encyclopedia entries under this taxon."""
        return entries_under(self.rank, self.scientific_name)


@functools.lru_cache(maxsize=4096)
def _detail_path(script_prefix: str, urlconf: str, slug: str) -> str:
    # Kept: an identification's answer links 20-30 entries (reverse() cost 0.5 ms of it). The
    # arguments are everything reverse() reads for this URL.
    return reverse("species:detail", kwargs={"slug": slug}, urlconf=urlconf)


# The Species field that holds the scientific name of an entry's taxon of each rank (None for
# the family: every entry is in it).
RANK_FIELDS = {
    Taxon.Rank.SPECIES: "scientific_name",
    Taxon.Rank.GENUS: "genus",
    Taxon.Rank.SUBFAMILY: "subfamily",
    Taxon.Rank.FAMILY: None,
}


def entries_under(rank: str, scientific_name: str):
    """The encyclopedia entries under a taxon of this rank and name (the species: one wild
    species, or every breed of Felis catus), by name."""
    field = RANK_FIELDS[rank]
    return Species.objects.filter(**({field: scientific_name} if field else {})).order_by(
        "common_name")


class ModelLabel(TidyTextModel):
    """A label of the photo classifier's model and the one owner it stands for: an encyclopedia
    entry (a species or a breed) or a higher group (a genus, or the domestic cat without a
    breed). Labels without a row here count as "not a cat".

    The classifier adds the label probabilities up the taxonomy; a new model only needs new
    rows here (or labels named species:<slug>), not new code.
    """

    label = models.CharField(max_length=100, unique=True)
    species = models.ForeignKey(
        Species, on_delete=models.CASCADE, related_name="labels", null=True, blank=True,
        help_text="The species or breed this label means, or empty when it means a group.",
    )
    taxon = models.ForeignKey(
        Taxon, on_delete=models.CASCADE, related_name="labels", null=True, blank=True,
        verbose_name="taxonomic group",
        help_text="The group (a genus, the domestic cat...) this label means, when no single "
                  "entry.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["label"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(species__isnull=False, taxon__isnull=True)
                    | models.Q(species__isnull=True, taxon__isnull=False)
                ),
                name="model_label_has_exactly_one_owner",
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def owner(self) -> "Species | Taxon | None":
        return self.species or self.taxon

    def clean(self):
        # The related objects, not only the ids: an inline on a new entry sets an unsaved owner.
        if (self.species is None) == (self.taxon is None):
            raise ValidationError(
                "A label belongs to exactly one owner: choose a species or breed, or a group, "
                "not both and not neither."
            )

    def unique_error_message(self, model_class, unique_check):
        # Name the current owner, so the editor knows where to remove the label first.
        if unique_check == ("label",):
            current = ModelLabel.objects.filter(label=self.label).first()
            if current is not None and current.owner is not None:
                return ValidationError(
                    f"The label “{self.label}” already belongs to {current.owner}; "
                    "remove it there first (each label has exactly one owner).",
                    code="unique",
                )
        return super().unique_error_message(model_class, unique_check)


# What load_species last took from the data files (species/data/), per entry and field: the
# common ancestor of a three-way merge between the files (upstream) and the database (the
# content, which editors own). species/content.py says how it is used.
class UpstreamEntry(models.Model):
    """An entry of the data files (a species or breed, a group, a label) and the database row
    load_species made of it. The row link follows an editor's rename of the slug; it is empty
    once an editor deleted the row, so the entry is not created again."""

    class Kind(models.TextChoices):
        SPECIES = "species", "Species or breed"
        TAXON = "taxon", "Group"
        LABEL = "label", "Classifier label"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    key = models.CharField(max_length=100, help_text="Its slug (a label: its name) in the files.")
    species = models.ForeignKey(Species, on_delete=models.SET_NULL, null=True, blank=True,
                                related_name="+")
    taxon = models.ForeignKey(Taxon, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")
    label = models.ForeignKey(ModelLabel, on_delete=models.SET_NULL, null=True, blank=True,
                              related_name="+")

    class Meta:
        ordering = ["kind", "key"]
        constraints = [models.UniqueConstraint(fields=["kind", "key"],
                                               name="one_upstream_entry_per_key")]

    def __str__(self):
        return f"{self.get_kind_display().lower()} {self.key}"

    @property
    def row(self) -> "Species | Taxon | ModelLabel | None":
        return {self.Kind.SPECIES: self.species, self.Kind.TAXON: self.taxon,
                self.Kind.LABEL: self.label}[self.kind]


class UpstreamValue(models.Model):
    """One field of an upstream entry: the value load_species last applied (the base of the
    merge) and, while an editor's value and a newer upstream value clash, the upstream one."""

    entry = models.ForeignKey(UpstreamEntry, on_delete=models.CASCADE, related_name="values")
    field = models.CharField(max_length=50)
    loaded = models.JSONField(null=True, help_text="The value last taken from the files.")
    clash = models.BooleanField(
        default=False, db_index=True,
        help_text="An editor changed the field and so did the files: the editor's value is "
                  "kept until someone takes the upstream one.")
    upstream = models.JSONField(null=True, help_text="The files' value, while it clashes.")
    checked_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["entry__kind", "entry__key", "field"]
        constraints = [models.UniqueConstraint(fields=["entry", "field"],
                                               name="one_upstream_value_per_field")]

    def __str__(self):
        return f"{self.entry.key}.{self.field}"


class ContentClash(UpstreamValue):
    """The clashes only: the admin's list of them, with the action that takes upstream."""

    class Meta:
        proxy = True
        verbose_name = "content clash (edited here and in the data files)"
        verbose_name_plural = "content clashes (edited here and in the data files)"
