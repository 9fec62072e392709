from django.apps import AppConfig


class SpeciesConfig(AppConfig):
    name = "species"
    verbose_name = "Species and breeds"

    def ready(self):
        # Connects the receivers that invalidate cached pages when an entry changes.
        from species import caching  # noqa: F401
