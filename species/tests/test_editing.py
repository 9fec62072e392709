"""Editors own the content: an edit made in the admin survives load_species and deploys, clashes
with the data files show in the admin and are taken with one action, and the history says who
changed what and reverts it."""
import io
import re
import shlex
from pathlib import Path

import pytest
from django.core.management import call_command

from species import content
from species.models import ContentClash, Species
from species.tests.test_admin import change_url, form_data
from species.tests.test_content import files

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
JOB = ROOT / "deploy" / "helm" / "catsite" / "templates" / "migrations-job.yaml"
CLASHES = "/admin/species/contentclash/"


def edit_in_the_admin(client, slug: str, **fields) -> Species:
    """Post the admin change form as a browser does: every field as rendered, text areas with
    the \r\n line endings browsers send."""
    species = Species.objects.get(slug=slug)
    data = form_data(client.get(change_url(species)))
    data = {k: v.replace("\n", "\r\n") if isinstance(v, str) else v for k, v in data.items()}
    data.update(fields)
    response = client.post(change_url(species), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    return Species.objects.get(pk=species.pk)


def test_an_admin_edit_survives_load_species_and_corrections_reach_the_other_fields(
        staff_client):
    """The issue's case: the snow leopard's summary edited, then the files change its summary
    and description. Before, load_species put the old summary back."""
    edited = "Edited in the admin: the snow leopard cannot roar."
    leopard = edit_in_the_admin(staff_client, "snow-leopard", summary=edited)
    assert "\r" not in leopard.description  # the browser's \r\n did not count as an edit
    report = content.load(*files({"snow-leopard": {"summary": "Corrected upstream.",
                                                   "description": "Corrected upstream."}}))
    assert report.species.updated == {"snow-leopard": ["description"]}
    assert [(c.key, c.field) for c in report.clashes] == [("snow-leopard", "summary")]
    leopard.refresh_from_db()
    assert leopard.summary == edited and leopard.description == "Corrected upstream."
    for _ in range(2):
        call_command("load_species", stdout=io.StringIO())
        assert Species.objects.get(slug="snow-leopard").summary == edited


def test_the_history_says_who_changed_which_field_and_reverts_it(staff_client, staff_user):
    before = Species.objects.get(slug="lion").summary
    edit_in_the_admin(staff_client, "lion", summary="Edited in the admin.")
    lion = Species.objects.get(slug="lion")
    latest, previous = lion.history.all()[:2]
    assert latest.history_user == staff_user
    changes = {c.field: (c.old, c.new) for c in latest.diff_against(previous).changes}
    assert changes == {"summary": (before, "Edited in the admin.")}
    page = staff_client.get(f"{change_url(lion)[:-len('change/')]}history/")
    assert page.status_code == 200 and "editor" in page.content.decode()

    revert_url = f"{change_url(lion)[:-len('change/')]}history/{previous.history_id}/"
    response = staff_client.get(revert_url)
    assert response.status_code == 200
    data = form_data(response)
    assert staff_client.post(revert_url, data).status_code == 302
    assert Species.objects.get(slug="lion").summary == before


def test_a_clash_is_listed_in_the_admin_and_taken_with_one_action(staff_client, staff_user):
    edit_in_the_admin(staff_client, "jaguar", summary="Edited in the admin.")
    content.load(*files({"jaguar": {"summary": "Its bite is reputed the strongest."}}))
    listing = staff_client.get(CLASHES)
    assert listing.status_code == 200 and listing.context["cl"].result_count == 1
    html = listing.content.decode().replace("&#x27;", "'")
    assert "jaguar" in html and "'Edited in the admin.'" in html
    assert "'Its bite is reputed the strongest.'" in html

    clash = ContentClash.objects.get(clash=True)
    response = staff_client.post(CLASHES, {"action": "take_the_upstream_value",
                                           "_selected_action": [str(clash.pk)]})
    assert response.status_code == 302
    jaguar = Species.objects.get(slug="jaguar")
    assert jaguar.summary == "Its bite is reputed the strongest."
    assert jaguar.history.first().history_user == staff_user
    assert jaguar.history.first().history_change_reason == content.TOOK_UPSTREAM
    assert staff_client.get(CLASHES).context["cl"].result_count == 0
    # Taken means loaded: the next run neither reverts nor reports it.
    report = content.load(*files({"jaguar": {"summary": "Its bite is reputed the strongest."}}))
    assert not report.clashes and not report.changed


def job_commands() -> list[list[str]]:
    """The manage.py commands the chart's migration Job runs, in order."""
    text = JOB.read_text(encoding="utf-8")
    script = re.search(r'command: \[sh, -c, "(.*)"\]', text).group(1)
    commands = [shlex.split(part) for part in script.split("&&")]
    assert all(argv[:2] == ["python", "manage.py"] for argv in commands), commands
    return [argv[2:] for argv in commands]


def test_the_migration_jobs_commands_keep_an_edit(staff_client):
    """What every deploy runs (deploy/helm/catsite/templates/migrations-job.yaml), exactly."""
    commands = job_commands()
    assert [argv[0] for argv in commands] == ["migrate", "load_species"]
    edit_in_the_admin(staff_client, "margay", native_range="Edited in the admin.")
    for _ in range(2):  # two deploys
        for name, *args in commands:
            call_command(name, *args, stdout=io.StringIO())
    assert Species.objects.get(slug="margay").native_range == "Edited in the admin."
