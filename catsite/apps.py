from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class CatsiteConfig(AppConfig):
    name = "catsite"

    def ready(self):
        # SQLite needs its folder to exist before the first connection. Done at start-up rather
        # than in settings, which do no I/O when they are imported.
        database = settings.DATABASES["default"]
        if database["ENGINE"].endswith("sqlite3") and str(database["NAME"]) != ":memory:":
            Path(database["NAME"]).parent.mkdir(parents=True, exist_ok=True)
