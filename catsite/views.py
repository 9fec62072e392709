"""Site pages that belong to no single app: home, about, and the error pages."""
import sys

from django.db import DatabaseError
from django.http import HttpResponseRedirect, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.templatetags.static import static
from django.views.decorators.http import require_safe

from core.errors import ServiceUnavailable
from core.http_errors import error_response, not_found
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
    # JSON under /api/, like every API error.
    return error_response(request, not_found(), "404.html")


@require_safe
def favicon(request):
    """/favicon.ico, which browsers ask for on their own (and pages without an icon link, such
    as the API's JSON, make them ask): the logo, at its versioned static URL."""
    response = HttpResponseRedirect(static("img/logo.svg"))
    response.headers["Cache-Control"] = f"public, max-age={FAVICON_MAX_AGE}"
    return response


# A day: the redirect names the logo's hashed file name, which a deployment may change.
FAVICON_MAX_AGE = 86400


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
