"""Deleting a feedback deletes its photo (also for the admin's bulk delete and cascades, which
never call Model.delete()): model signals fire for every deleted row."""
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from feedback.models import Feedback


@receiver(post_delete, sender=Feedback, dispatch_uid="feedback_photo_delete")
def delete_photo(sender, instance: Feedback, **kwargs):
    if instance.photo:
        from feedback.services import delete_photo_if_unused

        # After the commit: a rolled-back delete must not have lost the photo.
        transaction.on_commit(lambda: delete_photo_if_unused(instance.photo))
