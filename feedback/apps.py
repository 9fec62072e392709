from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    name = "feedback"
    verbose_name = "Feedback and dataset"

    def ready(self):
        from feedback import signals  # noqa: F401 (deleting a feedback deletes its photo)
