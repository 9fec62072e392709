"""The retention CronJob (purgeFeedback): manage.py purge_feedback on a schedule, with the web
pods' image, settings, Secret, identity and security context; its rendered command line is run
against the test database, as the image's manage.py would run it."""
import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from feedback import photos, services
from feedback.models import Feedback
from tests.container.chart_support import CHART, by_kind, one
from testsupport.feedback import identify, jpeg_with_gps


def cronjob(objects):
    return one(objects, "CronJob")


def job_pod(objects):
    return cronjob(objects)["spec"]["jobTemplate"]["spec"]["template"]


def web_pod(objects):
    return one(objects, "Deployment")["spec"]["template"]


def test_the_purge_runs_daily_one_at_a_time(render):
    job = cronjob(render())
    assert job["metadata"]["name"] == "catsite-purge-feedback"
    assert job["spec"]["schedule"] == "17 3 * * *"
    assert job["spec"]["concurrencyPolicy"] == "Forbid"
    assert "timeZone" not in job["spec"]
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    (container,) = pod["containers"]
    assert container["command"] == ["python", "manage.py", "purge_feedback", "--older-than", "30"]
    # The same entry point as the migration hook's, which the chart play runs in the image.
    migrate = one(render(), "Job", hooks=True)["spec"]["template"]["spec"]["containers"][0]
    assert migrate["command"][2].startswith(" ".join(container["command"][:2]))


def test_schedule_retention_and_time_zone_are_values(render):
    objects = render("--set", "purgeFeedback.schedule=0 4 * * 1",
                     "--set", "purgeFeedback.timeZone=Europe/Paris",
                     "--set", "purgeFeedback.olderThanDays=7")
    spec = cronjob(objects)["spec"]
    assert (spec["schedule"], spec["timeZone"]) == ("0 4 * * 1", "Europe/Paris")
    assert job_pod(objects)["spec"]["containers"][0]["command"][-2:] == ["--older-than", "7"]
    assert not by_kind(render("--set", "purgeFeedback.enabled=false"), "CronJob")


@pytest.mark.parametrize("values", [
    (),
    ("-f", str(CHART / "values-production.yaml"), "--set",
     "serviceAccount.workloadIdentity.enabled=true", "--set",
     "serviceAccount.workloadIdentity.clientId=00000000-0000-0000-0000-000000000000"),
])
def test_the_purge_has_the_web_pods_settings_identity_and_security(render, values):
    objects = render(*values)
    pod, web = job_pod(objects), web_pod(objects)
    container, web_container = pod["spec"]["containers"][0], web["spec"]["containers"][0]
    assert container["image"] == web_container["image"]
    assert container["envFrom"] == web_container["envFrom"]
    assert container["securityContext"] == web_container["securityContext"]
    for key in ("securityContext", "serviceAccountName", "automountServiceAccountToken"):
        assert pod["spec"].get(key) == web["spec"].get(key), key
    assert ("azure.workload.identity/use" in pod["metadata"]["labels"]) == \
        ("azure.workload.identity/use" in web["metadata"]["labels"])
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/tmp" in mounts  # the root file system is read-only
    # Not one of the web pods: no Service port or probe leads to it.
    assert pod["metadata"]["labels"]["app.kubernetes.io/component"] == "purge-feedback"
    assert "ports" not in container


@pytest.mark.django_db
def test_the_rendered_command_line_purges_the_test_database(render, make_species):
    command = job_pod(render())["spec"]["containers"][0]["command"]
    assert command[:2] == ["python", "manage.py"]
    tabby = make_species(common_name="Tabby test", slug="tabby-test", kind="breed")
    photo = jpeg_with_gps()
    stale = services.feedback_create(identification_id=identify(photo, tabby).id, correct=True,
                                     share_photo=True, photo=io.BytesIO(photo))
    Feedback.objects.filter(pk=stale.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=31))
    out = io.StringIO()
    call_command(*command[2:], stdout=out)  # manage.py's arguments, parsed by the command
    assert "Deleted 1 photo(s) pending review for more than 30 day(s)" in out.getvalue()
    stale.refresh_from_db()
    assert stale.photo == "" and stale.status == Feedback.Status.NO_PHOTO
    assert not photos.storage().exists(photos.name_for(photos.sha256_of(photos.reencode(photo))))
