from django.apps import AppConfig


class ClassifierConfig(AppConfig):
    name = "classifier"
    verbose_name = "Photo identification"

    def ready(self):
        from classifier import (
            checks,  # noqa: F401 (registers the system checks)
            runtime,
        )
        from core import page_cache

        # Species pages say how the served model names the entry (templatetags/model_naming):
        # one cached page per model.
        page_cache.vary_pages_by(runtime.served_model_key)
