"""URL map: pages, the API, admin and the operational endpoints."""
from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from catsite import health, views
from catsite.admin_lockout import LockoutAdminAuthenticationForm
from classifier.model_card_views import model_card_page

# Brute-force lockout on the admin login (catsite/admin_lockout.py).
admin.site.login_form = LockoutAdminAuthenticationForm

urlpatterns = [
    path("", views.home, name="home"),
    path("about/", views.about, name="about"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("species/", include("species.urls")),
    path("identify/", include("classifier.urls")),
    path("feedback/", include("feedback.urls")),
    path("model/", model_card_page, name="model_card"),
    path("api/", include("catsite.api_urls")),
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("version", health.version, name="version"),
]


def serve_media(request, path):
    # MEDIA_ROOT read per request, not frozen at import, so tests can point it elsewhere.
    return serve(request, path, document_root=settings.MEDIA_ROOT)


if settings.SERVE_MEDIA:
    # Species images uploaded in admin, when no object store serves them.
    urlpatterns.append(re_path(r"^media/(?P<path>.*)$", serve_media))

handler404 = "catsite.views.page_not_found"
handler500 = "catsite.views.server_error"
