"""Encyclopedia pages: the list with search and filters, a species page, its illustration."""
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from core.page_cache import cached_page, canonical_query, rendered_with
from species.caching import LIST, TAXONOMY, illustration_tag, page_tag
from species.forms import SpeciesFilterForm
from species.models import Species
from species.pictures import illustration_svg, illustration_version
from species.selectors import related_lists, species_search, with_snippets

PAGE_SIZE = 12
# The list's query parameters: the filter form's fields and the page.
LIST_PARAMS = (*SpeciesFilterForm.base_fields, "page")


@require_safe
@cached_page(lambda request: [LIST], params=LIST_PARAMS)
def species_list(request):
    form = SpeciesFilterForm(request.GET)
    filters = form.filters()
    results = species_search(**filters, snippets=bool(filters["query"]))
    page = Paginator(results, PAGE_SIZE).get_page(request.GET.get("page"))
    if filters["query"]:
        page.object_list = with_snippets(page.object_list, filters["query"])
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


@require_safe
# The page says how the installed model names the entry (classifier's model_naming tag): the
# page cache keeps one page per served model (classifier/apps.py).
@cached_page(lambda request, slug: [page_tag(slug), TAXONOMY])
def species_detail(request, slug):
    species = get_object_or_404(Species, slug=slug)
    return render(request, "species/detail.html", {
        "species": species,
        **related_lists(species),  # look_alikes, genus
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
