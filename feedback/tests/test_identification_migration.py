"""Identification moved from the feedback app to the classifier with its table and its rows:
a database that holds identifications and feedback from before the move keeps every row, the
feedback still points at its identification, and the content type (permissions, admin log)
moved with the model. Run on the real migrations, backwards to before the move and forwards."""
import datetime

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from classifier.models import Identification
from feedback.models import Feedback

BEFORE = [("feedback", "0001_initial"), ("classifier", None)]

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def latest():
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def test_rows_recorded_before_the_move_are_kept_with_their_feedback():
    old_apps = migrate(BEFORE)
    OldIdentification = old_apps.get_model("feedback", "Identification")
    OldFeedback = old_apps.get_model("feedback", "Feedback")
    # The content type as the feedback app had it (contenttypes itself stays migrated).
    ContentType.objects.filter(app_label="classifier", model="identification").delete()
    content_type = ContentType.objects.get_or_create(app_label="feedback",
                                                     model="identification")[0]
    now = timezone.now()
    answered = OldIdentification.objects.create(
        id="a" * 32, photo_sha256="b" * 64, model_name="cats", model_version="1.0.0",
        answer={"is_cat": True}, is_cat=True, created_at=now,
        expires_at=now + datetime.timedelta(hours=1))
    OldIdentification.objects.create(
        id="c" * 32, photo_sha256="d" * 64, model_name="cats", model_version="1.0.0",
        answer={"is_cat": False}, is_cat=False, created_at=now, expires_at=now)
    OldFeedback.objects.create(identification=answered, correct=True)

    migrate(latest())

    assert set(Identification.objects.values_list("id", flat=True)) == {"a" * 32, "c" * 32}
    feedback = Feedback.objects.get()
    assert feedback.identification.model_version == "1.0.0"
    assert feedback.identification.answer == {"is_cat": True}
    assert Identification.objects.get(pk="a" * 32).feedback == feedback
    ContentType.objects.clear_cache()
    moved = ContentType.objects.get(pk=content_type.pk)
    assert (moved.app_label, moved.model) == ("classifier", "identification")


def test_the_model_keeps_the_table_the_feedback_app_created():
    assert Identification._meta.db_table == "feedback_identification"
    assert "feedback_identification" in connection.introspection.table_names()
