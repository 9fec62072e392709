"""The encyclopedia: wild cat species and domestic breeds, and the model labels they own."""
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse

from species.pictures import illustration_version

HEX_COLOUR = RegexValidator(r"^#[0-9a-fA-F]{6}$", "Use a colour like #c8a165.")


class Species(models.Model):
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

    class CoatPattern(models.TextChoices):
        # Drives the generated illustration shown when no photo has been uploaded.
        PLAIN = "plain", "Plain"
        SPOTTED = "spotted", "Spotted"
        ROSETTES = "rosettes", "Rosettes"
        STRIPED = "striped", "Striped"
        TABBY = "tabby", "Tabby"
        POINTED = "pointed", "Colour-pointed"
        HAIRLESS = "hairless", "Hairless"

    common_name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    scientific_name = models.CharField(
        max_length=100, help_text="Binomial name, e.g. Panthera leo; Felis catus for breeds."
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
    length_min_cm = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Head and body, without the tail."
    )
    length_max_cm = models.PositiveSmallIntegerField(null=True, blank=True)
    lifespan_min_years = models.PositiveSmallIntegerField(null=True, blank=True)
    lifespan_max_years = models.PositiveSmallIntegerField(null=True, blank=True)

    conservation_status = models.CharField(
        max_length=2, choices=Conservation.choices, blank=True, db_index=True,
        help_text="IUCN category; wild species only.",
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

    featured = models.BooleanField(default=False, help_text="Shown on the home page.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

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

    def get_absolute_url(self):
        return reverse("species:detail", kwargs={"slug": self.slug})

    def clean(self):
        errors = {}
        if self.kind == self.Kind.WILD and not self.conservation_status:
            errors["conservation_status"] = "A wild species needs its IUCN category."
        if self.kind == self.Kind.BREED and self.conservation_status:
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
            return self.image_alt or f"Photo of a {self.common_name}"
        return f"Illustration of a {self.common_name}"

    @property
    def kind_plural(self):
        return "Wild species" if self.kind == self.Kind.WILD else "Domestic breeds"

    @property
    def is_wild(self):
        return self.kind == self.Kind.WILD

    @property
    def paragraphs(self):
        return [p.strip() for p in self.description.split("\n\n") if p.strip()]


class ModelLabel(models.Model):
    """A label of the photo classifier's model, owned by at most one species.

    The classifier adds up the probabilities of all labels a species owns; labels owned by no
    species count as "not a cat". A new model only needs new rows here, not new code.
    """

    label = models.CharField(max_length=100, unique=True)
    species = models.ForeignKey(Species, on_delete=models.CASCADE, related_name="labels")

    class Meta:
        ordering = ["label"]

    def __str__(self):
        return self.label
