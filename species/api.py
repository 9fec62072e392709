"""REST API for the encyclopedia: read-only for everyone, search and filters as on the pages."""
import django_filters
from rest_framework import serializers, viewsets
from rest_framework.permissions import AllowAny

from species.models import Species
from species.selectors import species_search


class SpeciesSerializer(serializers.HyperlinkedModelSerializer):
    url = serializers.SerializerMethodField(help_text="The species page on the site.")
    api_url = serializers.HyperlinkedIdentityField(
        view_name="api:species-detail", lookup_field="slug"
    )
    picture_url = serializers.SerializerMethodField(
        help_text="The uploaded photo, or the generated illustration when there is none."
    )
    labels = serializers.SlugRelatedField(many=True, read_only=True, slug_field="label")
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    conservation_status_display = serializers.CharField(
        source="get_conservation_status_display", read_only=True
    )

    class Meta:
        model = Species
        # null sizes and lifespans are facts too: a lifespan is null when not known, a breed's
        # head-and-body length is null because no registry states one.
        extra_kwargs = {
            "length_min_cm": {"help_text": "Head and body, cm; null when not stated (breeds)."},
            "lifespan_min_years": {"help_text": "Years; null when not known."},
            "lifespan_max_years": {"help_text": "Years; null when not known."},
        }
        fields = [
            "slug", "common_name", "scientific_name", "kind", "kind_display", "subfamily",
            "genus", "summary", "description", "native_range",
            "weight_min_kg", "weight_max_kg", "length_min_cm", "length_max_cm",
            "lifespan_min_years", "lifespan_max_years",
            "conservation_status", "conservation_status_display", "conservation_note",
            "temperament", "care_notes",
            "url", "api_url", "picture_url", "image_alt", "image_credit", "labels",
            "created_at", "updated_at",
        ]

    def get_url(self, obj) -> str:
        return self.context["request"].build_absolute_uri(obj.get_absolute_url())

    def get_picture_url(self, obj) -> str:
        return self.context["request"].build_absolute_uri(obj.picture_url)


class SpeciesFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search", label="Free-text search over names, scientific names and text"
    )
    kind = django_filters.ChoiceFilter(choices=Species.Kind.choices)
    conservation_status = django_filters.ChoiceFilter(choices=Species.Conservation.choices)
    genus = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Species
        fields = ["q", "kind", "conservation_status", "genus"]

    def search(self, queryset, name, value):
        # The search's own queryset, so its ranking (best match first) is the order returned.
        return species_search(value).filter(pk__in=queryset.values("pk")).prefetch_related("labels")


class SpeciesViewSet(viewsets.ReadOnlyModelViewSet):
    """Wild cat species and domestic breeds."""

    queryset = Species.objects.prefetch_related("labels").order_by("common_name")
    serializer_class = SpeciesSerializer
    filterset_class = SpeciesFilter
    lookup_field = "slug"
    permission_classes = [AllowAny]
