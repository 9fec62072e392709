"""The API: one router, the OpenAPI schema and its browsable documentation."""
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from catsite.security_headers import allow_inline_styles
from species.api import SpeciesViewSet

router = DefaultRouter()
router.register("species", SpeciesViewSet, basename="species")

app_name = "api"
urlpatterns = [
    path("", include(router.urls)),
    path("", include("classifier.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script from a URL, not inline: the
    # Content-Security-Policy allows no inline script.
    path("docs/", allow_inline_styles(SpectacularSwaggerSplitView.as_view(url_name="api:schema")),
         name="docs"),
]
