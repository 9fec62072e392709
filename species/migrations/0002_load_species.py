"""The encyclopedia as first published, loaded from a snapshot this migration owns.

Frozen on purpose: the snapshot (0002_species_snapshot.json, next to this file) holds exactly
the fields of the schema at 0001, and the loader below is a copy that never changes, so a field
added to the model later cannot break `migrate` on a fresh database. Content updates go through
`manage.py load_species`, which reads species/data/*.json with the current model.
"""
import json
from decimal import Decimal
from pathlib import Path

from django.db import migrations

SNAPSHOT = Path(__file__).with_name("0002_species_snapshot.json")


def load_snapshot(apps, schema_editor):
    species_model = apps.get_model("species", "Species")
    label_model = apps.get_model("species", "ModelLabel")
    for entry in json.loads(SNAPSHOT.read_text(encoding="utf-8")):
        fields = dict(entry)
        labels = fields.pop("labels", [])
        for key in ("weight_min_kg", "weight_max_kg"):
            if fields.get(key) is not None:
                fields[key] = Decimal(str(fields[key]))  # through str: 0.6 stays 0.6
        slug = fields.pop("slug")
        species, _ = species_model.objects.update_or_create(slug=slug, defaults=fields)
        for label in labels:
            label_model.objects.update_or_create(label=label, defaults={"species": species})


class Migration(migrations.Migration):
    dependencies = [("species", "0001_initial")]

    operations = [migrations.RunPython(load_snapshot, migrations.RunPython.noop)]
