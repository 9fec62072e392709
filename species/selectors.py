"""Reads of the encyclopedia: search and filters, kept out of the views (and shared by the API)."""
from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from species.models import Species

# Longer queries carry no more meaning and only cost the database work.
MAX_QUERY_LENGTH = 200


def clean_query(text: str | None) -> str:
    """Collapse whitespace, drop NUL bytes (PostgreSQL rejects them), cap the length."""
    if not text:
        return ""
    return " ".join(text.replace("\x00", " ").split())[:MAX_QUERY_LENGTH]


def species_search(
    query: str = "", *, kind: str = "", status: str = "", genus: str = ""
) -> QuerySet[Species]:
    """Species matching a free-text query and filters, best matches first.

    PostgreSQL ranks with full-text search (websearch syntax: "snow leopard", -lion, or);
    name fragments still match by substring so "leo" finds leopards. SQLite, the embedded
    default, falls back to case-insensitive substring matching over the same fields.
    """
    qs = Species.objects.all()
    if kind:
        qs = qs.filter(kind=kind)
    if status:
        qs = qs.filter(conservation_status=status)
    if genus:
        qs = qs.filter(genus__iexact=genus)

    query = clean_query(query)
    if not query:
        return qs.order_by("common_name")

    by_name = (
        Q(common_name__icontains=query)
        | Q(scientific_name__icontains=query)
        | Q(labels__label__iexact=query)
    )
    # "tiger" should open with the Tiger, not with a cat whose text says "tiger" more often.
    exact_name_first = Case(
        When(Q(common_name__iexact=query) | Q(scientific_name__iexact=query), then=Value(0)),
        default=Value(1),
        output_field=IntegerField(),
    )
    if connection.vendor == "postgresql":
        vector = (
            SearchVector("common_name", weight="A")
            + SearchVector("scientific_name", weight="A")
            + SearchVector("summary", weight="B")
            + SearchVector("native_range", "temperament", weight="C")
            + SearchVector("description", weight="D")
        )
        search = SearchQuery(query, search_type="websearch", config="english")
        # Match with @@ (the document filter), not rank > 0: ts_rank gives documents that miss
        # one word of an AND query a tiny non-zero rank, which would let every entry through.
        return (
            qs.annotate(document=vector, rank=SearchRank(vector, search))
            .filter(Q(document=search) | by_name)
            .distinct()
            .order_by(exact_name_first, "-rank", "common_name")
        )
    words = query.split()
    text_match = Q()
    for word in words:
        text_match &= (
            Q(common_name__icontains=word)
            | Q(scientific_name__icontains=word)
            | Q(summary__icontains=word)
            | Q(description__icontains=word)
            | Q(native_range__icontains=word)
            | Q(temperament__icontains=word)
        )
    return qs.filter(text_match | by_name).distinct().order_by(exact_name_first, "common_name")


def genus_choices() -> list[str]:
    return list(Species.objects.order_by("genus").values_list("genus", flat=True).distinct())


def related_species(species: Species, limit: int = 6) -> QuerySet[Species]:
    """Other members of the same genus, entries of the same kind first."""
    same_kind_first = "-kind" if species.kind == Species.Kind.WILD else "kind"
    return (
        Species.objects.filter(genus=species.genus)
        .exclude(pk=species.pk)
        .order_by(same_kind_first, "common_name")[:limit]
    )


def featured_species(limit: int = 8) -> QuerySet[Species]:
    return Species.objects.filter(featured=True).order_by("kind", "common_name")[:limit]
