"""The encyclopedia's own content (species/data/*.json), loaded by a data migration.

Loading is an upsert keyed by slug, so running it again updates entries without duplicating
them, and label ownership follows the data (each label belongs to exactly one entry).
"""
import json
from decimal import Decimal
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
DATA_FILES = ("wild.json", "breeds.json")


def read_entries() -> list[dict]:
    entries = []
    for name in DATA_FILES:
        entries.extend(json.loads((DATA_DIR / name).read_text(encoding="utf-8")))
    return entries


def load(species_model, label_model, entries=None) -> int:
    """Create or update every entry; works with real or historical (migration) models."""
    entries = read_entries() if entries is None else entries
    for entry in entries:
        fields = dict(entry)
        labels = fields.pop("labels", [])
        for key in ("weight_min_kg", "weight_max_kg"):
            if fields.get(key) is not None:
                # Through str, so 0.6 stays 0.6 instead of 0.59999...
                fields[key] = Decimal(str(fields[key]))
        species, _ = species_model.objects.update_or_create(slug=fields.pop("slug"), defaults=fields)
        for label in labels:
            label_model.objects.update_or_create(label=label, defaults={"species": species})
    return len(entries)
