"""Today's label links at the level the model can see (frozen: its own constants, not the data
files). ImageNet's "lynx" covers the whole genus Lynx, and "tabby", "tiger cat" and "Egyptian
cat" are house cats of any breed (not the Domestic tabby or Egyptian Mau entries).
`manage.py load_species` keeps these links in species/data/taxa.json from here on.
"""
from django.db import migrations

TAXA = [
    # scientific name, common name, slug, rank, subfamily
    ("Felidae", "cat family", "felidae", "family", ""),
    ("Felinae", "small cats", "felinae", "subfamily", ""),
    ("Pantherinae", "big cats", "pantherinae", "subfamily", ""),
    ("Lynx", "lynx", "lynx", "genus", "Felinae"),
    ("Felis catus", "domestic cat", "domestic-cat", "species", "Felinae"),
]
LINKS = {"lynx": "Lynx", "tabby": "Felis catus", "tiger cat": "Felis catus",
         "Egyptian cat": "Felis catus"}


def link_labels_to_taxa(apps, schema_editor):
    taxon_model = apps.get_model("species", "Taxon")
    label_model = apps.get_model("species", "ModelLabel")
    taxa = {}
    for scientific_name, common_name, slug, rank, subfamily in TAXA:
        taxa[scientific_name], _ = taxon_model.objects.update_or_create(
            scientific_name=scientific_name,
            defaults={"common_name": common_name, "slug": slug, "rank": rank,
                      "subfamily": subfamily},
        )
    for label, scientific_name in LINKS.items():
        label_model.objects.update_or_create(
            label=label, defaults={"species": None, "taxon": taxa[scientific_name]}
        )


class Migration(migrations.Migration):
    dependencies = [("species", "0004_taxa_and_label_owners")]

    operations = [migrations.RunPython(link_labels_to_taxa, migrations.RunPython.noop)]
