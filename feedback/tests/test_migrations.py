"""Migration 0002 moves the verdicts without a photo out of "pending" (nothing to review).

The database is committed (transaction=True; the seeded species restored after the test): the
migration executor runs real migrations backwards and forwards on it.
"""
import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
BEFORE = [("feedback", "0001_initial")]
AFTER = [("feedback", "0002_no_photo_status")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_verdicts_without_a_photo_leave_pending_and_photos_stay_for_review():
    apps = migrate(BEFORE)
    Identification = apps.get_model("feedback", "Identification")
    Feedback = apps.get_model("feedback", "Feedback")
    now = timezone.now()

    def feedback(n, **fields):
        identification = Identification.objects.create(
            id=f"{n:032x}", photo_sha256="0" * 64, model_name="m", model_version="1",
            answer={}, is_cat=True, expires_at=now + datetime.timedelta(hours=1))
        return Feedback.objects.create(identification=identification, correct=True,
                                       **fields).pk

    never_shared = feedback(1, photo="", status="pending")
    shared = feedback(2, photo="photos/ab/ab.jpg", photo_sha256="a" * 64, status="pending")
    reviewed_without = feedback(3, photo="", status="accepted")
    try:
        apps = migrate(AFTER)
        status = dict(apps.get_model("feedback", "Feedback").objects.values_list("pk", "status"))
        assert status == {never_shared: "no_photo", shared: "pending",
                          reviewed_without: "no_photo"}
        # And back: where the old statuses kept them.
        apps = migrate(BEFORE)
        status = dict(apps.get_model("feedback", "Feedback").objects.values_list("pk", "status"))
        assert status[never_shared] == "pending" and status[shared] == "pending"
    finally:
        apps = migrate(AFTER)
        apps.get_model("feedback", "Feedback").objects.all().delete()
        apps.get_model("feedback", "Identification").objects.all().delete()
