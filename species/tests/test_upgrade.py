"""A deployment made before load_species merged (migration 0007): its database holds whatever
data files it last loaded, and edits made since. Upgrading must neither take that content for
edited (corrections still land) nor lose the edits.

A subprocess on a database of its own (a SQLite file, or a scratch PostgreSQL database when the
tests run on PostgreSQL), so migrations can run from an empty schema."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
# Species fields added after migration 0007 (0009: synonyms): a deployment made before has none
# of their values, so upgrading loads them from the files.
FIELDS_AFTER_0007 = ("synonyms",)

# Run at migration 0006 with that state's models: what the old load_species did (every field
# overwritten from today's files), then an editor's change and a deletion. Entries the files
# gained after 0007 was written (NEWER) no deployment before it can hold: left out.
BEFORE_0007 = """
from decimal import Decimal
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from species.content import read_entries, read_taxa
from species.tests.test_upgrade import newer_than_0007

apps = MigrationLoader(connection).project_state(("species", "0006_breeds_resemble_labels")).apps
models = {name: apps.get_model("species", name) for name in ("Species", "Taxon", "ModelLabel")}
owners, resembles = {}, {}
newer = newer_than_0007()
for name, records in (("Taxon", read_taxa()), ("Species", read_entries())):
    for record in records:
        if name == "Species" and record["slug"] in newer:
            continue
        known = {f.name for f in models[name]._meta.get_fields()}  # none added since 0006
        fields = {k: Decimal(str(v)) if isinstance(v, float) else v for k, v in record.items()
                  if k not in ("labels", "resembles", "slug") and k in known}
        row, _ = models[name].objects.update_or_create(slug=record["slug"], defaults=fields)
        owners.update({label: (name.lower(), row) for label in record.get("labels", [])})
        if "resembles" in record:
            resembles[row] = record["resembles"]
for label, (field, row) in owners.items():
    other = "taxon" if field == "species" else "species"
    models["ModelLabel"].objects.update_or_create(label=label, defaults={field: row, other: None})
for row, labels in resembles.items():
    row.resembles.set(models["ModelLabel"].objects.filter(label__in=labels))
models["Species"].objects.filter(slug="lion").update(summary="Edited before the upgrade.")
models["Species"].objects.filter(slug="sand-cat").delete()
"""

# After `migrate`: load_species with the files corrected in two fields, one that had changed
# upstream since 0002's snapshot (so the database holds a later upstream value) and the edited one.
AFTER_0007 = """
import json
from species import content

entries = content.read_entries()
for entry in entries:
    if entry["slug"] in ("northern-tiger-cat", "lion"):
        entry["summary"] = "Corrected upstream after the upgrade."
report = content.load(entries)
print(json.dumps({"updated": report.species.updated,
                  "clashes": [[c.key, c.field] for c in report.clashes],
                  "left_alone": report.species.left_alone,
                  "created": report.species.created}))
"""


def newer_than_0007() -> set[str]:
    """The entries of today's files that 0007's baseline does not know (added after it)."""
    from species.content import read_entries

    migrations = ROOT / "species" / "migrations"
    past = json.loads((migrations / "0007_past_upstream_values.json").read_text(encoding="utf-8"))
    snapshot = json.loads((migrations / "0002_species_snapshot.json").read_text(encoding="utf-8"))
    known = set(past["species"]) | {entry["slug"] for entry in snapshot}
    return {entry["slug"] for entry in read_entries()} - known


@pytest.fixture
def scratch_database_url(tmp_path):
    if connection.vendor != "postgresql":
        yield f"sqlite:///{tmp_path / 'upgrade.sqlite3'}"
        return
    import psycopg

    settings = connection.settings_dict
    name = f"{os.environ['DATABASE_URL'].rsplit('/', 1)[1]}_upgrade"
    admin = psycopg.connect(host=settings["HOST"], port=settings["PORT"] or 5432,
                            user=settings["USER"], dbname="postgres", autocommit=True)
    admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.slow
def test_upgrading_a_deployment_keeps_its_edits_and_lets_corrections_land(scratch_database_url):
    from species import content

    env = dict(os.environ, DATABASE_URL=scratch_database_url,
               DJANGO_SETTINGS_MODULE="catsite.test_settings")

    def manage(*args):
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                              check=False, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    snapshot = {e["slug"]: e for e in json.loads(
        (ROOT / "species/migrations/0002_species_snapshot.json").read_text(encoding="utf-8"))}
    current = {e["slug"]: e for e in content.read_entries()}
    assert snapshot["northern-tiger-cat"]["summary"] != current["northern-tiger-cat"]["summary"]

    manage("migrate", "species", "0006", "--noinput", "-v", "0")
    manage("shell", "-c", BEFORE_0007)
    manage("migrate", "--noinput", "-v", "0")
    report = json.loads(manage("shell", "-c", AFTER_0007).strip().splitlines()[-1])
    # No false clash; the fields the model gained since (FIELDS_AFTER_0007) land from the files.
    gained = {slug: [name for name in FIELDS_AFTER_0007 if entry.get(name)]
              for slug, entry in current.items() if slug not in newer_than_0007()}
    expected = {slug: names for slug, names in gained.items() if names}
    expected["northern-tiger-cat"] = ["summary", *expected.get("northern-tiger-cat", [])]
    assert report["updated"] == expected
    assert report["clashes"] == [["lion", "summary"]]  # the edit kept, and shown
    assert report["left_alone"] == {"sand-cat": "deleted by an editor"}
    assert report["created"] == sorted(newer_than_0007())  # e.g. the Bombay (issue 19)
