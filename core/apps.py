from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared infrastructure; an app only so that its error page template is found."""

    name = "core"
    label = "core"
