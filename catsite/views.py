"""Site pages that belong to no single app: home, about, and the error pages."""
import sys

from django.db import DatabaseError
from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.views.decorators.http import require_safe

from core.errors import ServiceUnavailable
from core.http_errors import HttpError, error_response
from core.page_cache import cached_page
from species.caching import HOME
from species.models import Species
from species.selectors import featured_species


@require_safe
@cached_page(lambda request: [HOME])
def home(request):
    return render(request, "home.html", {
        "featured": featured_species(),
        "wild_count": Species.objects.filter(kind=Species.Kind.WILD).count(),
        "breed_count": Species.objects.filter(kind=Species.Kind.BREED).count(),
    })


@require_safe
def about(request):
    return render(request, "about.html")


def page_not_found(request, exception):
    # Not str(exception): for an unknown URL it lists the URL patterns tried.
    error = HttpError("not_found", 404, "Not found.")
    return error_response(request, error, "404.html")  # JSON under /api/, like every API error


def server_error(request):
    # Rendered without a request context: the failure may be in a context processor or the
    # database, so this page must not need either. Django calls this handler while the
    # exception is being handled, so it can tell an unreachable database (503: a passing
    # outage, come back later) from a bug (500).
    if isinstance(sys.exc_info()[1], DatabaseError):
        return service_unavailable(request)
    return HttpResponseServerError(loader.get_template("500.html").render())


DATABASE_RETRY_SECONDS = 30


def service_unavailable(request):
    """503 while the database is unreachable: JSON on the API, a friendly page elsewhere
    (rendered without a request context: the context processors may need the database)."""
    error = ServiceUnavailable(retry_after=DATABASE_RETRY_SECONDS)
    return error_response(request, error, "503.html", request_context=False)
