"""The site's URLs plus one minimal view: what Django itself costs per request, served the same
way (same settings, middleware, gunicorn), as the ceiling for the page figures."""
from django.http import HttpResponse
from django.urls import path

from catsite.urls import handler404, handler500  # noqa: F401
from catsite.urls import urlpatterns as site_urlpatterns


def minimal(request):
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/minimal", minimal), *site_urlpatterns]
