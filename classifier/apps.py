from django.apps import AppConfig


class ClassifierConfig(AppConfig):
    name = "classifier"
    verbose_name = "Photo identification"

    def ready(self):
        from classifier import checks  # noqa: F401 (registers the system checks)
