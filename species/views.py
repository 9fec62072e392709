"""Encyclopedia pages: the list with search and filters, a species page, its illustration."""
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import urlencode
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from classifier import runtime
from classifier.model_card import naming_for
from species.forms import SpeciesFilterForm
from species.illustration import species_svg
from species.models import Species
from species.selectors import related_species, species_search

PAGE_SIZE = 12


@require_safe
def species_list(request):
    form = SpeciesFilterForm(request.GET)
    filters = form.filters()
    results = species_search(**filters)
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    # Keep the filters in the pagination links.
    query_string = urlencode({k: v for k, v in request.GET.items() if k != "page" and v})
    return render(request, "species/list.html", {
        "form": form,
        "page": page,
        "query_string": query_string,
        "filtered": any(filters.values()),
        "query": filters["query"],
    })


@require_safe
def species_detail(request, slug):
    species = get_object_or_404(Species, slug=slug)
    return render(request, "species/detail.html", {
        "species": species,
        "related": related_species(species),
        # How the installed photo model names this entry (None when no model is installed).
        "naming": naming_for(runtime.load(), species),
    })


@require_safe
@cache_control(public=True, max_age=86400)
def species_illustration(request, slug):
    species = get_object_or_404(Species, slug=slug)
    svg = species_svg(
        slug=species.slug, coat_pattern=species.coat_pattern, coat_colour=species.coat_colour,
        marking_colour=species.marking_colour,
        title=f"Illustration of a {species.common_name}",
    )
    return HttpResponse(svg, content_type="image/svg+xml")
