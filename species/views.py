"""Encyclopedia pages: the list with search and filters, a species page, its illustration."""
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from classifier import runtime
from classifier.model_card import naming_for
from core.page_cache import cached_page, canonical_query, rendered_with
from species.caching import LIST, TAXONOMY, illustration_tag, page_tag
from species.forms import SpeciesFilterForm
from species.models import Species
from species.pictures import illustration_svg, illustration_version
from species.selectors import related_species, species_search

PAGE_SIZE = 12
# The list's query parameters: the filter form's fields and the page.
LIST_PARAMS = (*SpeciesFilterForm.base_fields, "page")


@require_safe
@cached_page(lambda request: [LIST], params=LIST_PARAMS)
def species_list(request):
    form = SpeciesFilterForm(request.GET)
    filters = form.filters()
    results = species_search(**filters)
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = {"q": filters["query"], "kind": filters["kind"], "status": filters["status"],
             "genus": filters["genus"]}
    response = render(request, "species/list.html", {
        "form": form,
        "page": page,
        # The filters as applied (not as sent) in the pagination links.
        "query_string": canonical_query(shown, shown),
        "filtered": any(filters.values()),
        "query": filters["query"],
    })
    rendered_with(response, {**shown, "page": str(page.number) if request.GET.get("page")
                             else ""})
    return response


def _served_model() -> str:
    # The page says how the installed model names the entry: one page per model.
    return "/".join(runtime.served_model())


@require_safe
@cached_page(lambda request, slug: [page_tag(slug), TAXONOMY], variant=_served_model)
def species_detail(request, slug):
    species = get_object_or_404(Species, slug=slug)
    return render(request, "species/detail.html", {
        "species": species,
        "related": related_species(species),
        # How the installed photo model names this entry (None when no model is installed).
        "naming": naming_for(runtime.load(), species),
    })


# The versioned URL (Species.picture_url) never changes meaning: a year, immutable. Any other
# (an old page's, or no version) is revalidated like a page.
IMMUTABLE = "public, max-age=31536000, immutable"


@require_safe
@cached_page(lambda request, slug: [illustration_tag(slug)], params=("v",))
def species_illustration(request, slug):
    species = get_object_or_404(Species, slug=slug)
    response = HttpResponse(illustration_svg(species), content_type="image/svg+xml")
    if request.GET.get("v") == illustration_version(species):
        response.headers["Cache-Control"] = IMMUTABLE
        rendered_with(response, {"v": request.GET["v"]})
    return response
