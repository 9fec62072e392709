"""Load the encyclopedia's own content (species/data/*.json) into the database."""
from django.db import migrations


def load_species(apps, schema_editor):
    from species import seed

    seed.load(apps.get_model("species", "Species"), apps.get_model("species", "ModelLabel"))


class Migration(migrations.Migration):
    dependencies = [("species", "0001_initial")]

    operations = [migrations.RunPython(load_species, migrations.RunPython.noop)]
