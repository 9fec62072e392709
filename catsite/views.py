"""Site pages that belong to no single app: home, about, and the error pages."""
from django.http import HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.views.decorators.http import require_safe

from species.models import Species
from species.selectors import featured_species


@require_safe
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
    return render(request, "404.html", status=404)


def server_error(request):
    # Rendered without a request context: the failure may be in a context processor or the
    # database, so this page must not need either.
    return HttpResponseServerError(loader.get_template("500.html").render())
