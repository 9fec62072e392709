from pathlib import Path

from django.apps import AppConfig
from django.conf import settings
from django.contrib.admin import apps as admin_apps


class CatsiteConfig(AppConfig):
    name = "catsite"
    default = True  # the app's config; AdminConfig below is named in INSTALLED_APPS

    def ready(self):
        # SQLite needs its folder to exist before the first connection. Done at start-up rather
        # than in settings, which do no I/O when they are imported.
        database = settings.DATABASES["default"]
        if database["ENGINE"].endswith("sqlite3") and str(database["NAME"]) != ":memory:":
            Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)


class AdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with the project's admin site (catsite/admin_site.py)."""

    default = False

    default_site = "catsite.admin_site.CatsiteAdminSite"
