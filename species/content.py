"""The encyclopedia's content files (species/data/*.json) and loading them with the current model.

`manage.py load_species` runs `load`. Loading is idempotent: every entry is compared with the
database field by field and saved only when something differs, and the report says what was
created, what was updated (with the fields) and what was left unchanged. Each label named in the
data is given to the entry that names it (one label, one owner); labels the data does not name
are left as the admin set them. Migration 0002 does not use this module: it owns a frozen
snapshot, so today's data and model never have to match the schema of a past migration.
"""
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction

from core.errors import AppError
from species.models import ModelLabel, Species

DATA_DIR = Path(__file__).resolve().parent / "data"


class ContentError(AppError):
    code = "invalid_content"


@dataclass
class Changes:
    """What loading did to one kind of record: keys created, updated (-> fields), unchanged."""

    created: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


@dataclass
class LoadReport:
    species: Changes = field(default_factory=Changes)
    labels: Changes = field(default_factory=Changes)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return self.species.changed or self.labels.changed


def read_entries(data_dir: Path | None = None) -> list[dict]:
    """Every species entry of every *.json file in data_dir (DATA_DIR), in file-name order."""
    entries = []
    for path in sorted((data_dir or DATA_DIR).glob("*.json")):
        try:
            entries.extend(json.loads(path.read_text(encoding="utf-8")))
        except json.JSONDecodeError as exc:
            raise ContentError(f"{path.name} is not valid JSON ({exc}): fix the file.") from exc
    return entries


def load(entries: list[dict] | None = None, *, dry_run: bool = False) -> LoadReport:
    """Bring the database in line with the entries (default: the data files), in one transaction.

    A dry run does the same work and rolls it back, so its report is exactly what a real run
    would do. An invalid entry raises ContentError and nothing is saved.
    """
    entries = read_entries() if entries is None else entries
    report = LoadReport(dry_run=dry_run)
    with transaction.atomic():
        for entry in entries:
            _load_entry(entry, report)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _load_entry(entry: dict, report: LoadReport) -> None:
    fields = dict(entry)
    labels = fields.pop("labels", [])
    slug = fields.pop("slug", None)
    if not slug:
        raise ContentError(f"An entry has no slug: {str(entry)[:80]}")
    values = {name: _python_value(slug, name, value) for name, value in fields.items()}

    species = Species.objects.filter(slug=slug).first()
    if species is None:
        species = Species(slug=slug, **values)
        _save(species)
        report.species.created.append(slug)
    else:
        changed = [name for name, value in values.items() if getattr(species, name) != value]
        if changed:
            for name in changed:
                setattr(species, name, values[name])
            _save(species)
            report.species.updated[slug] = changed
        else:
            report.species.unchanged.append(slug)

    for label in labels:
        _own_label(label, species, report)


def _python_value(slug: str, name: str, value):
    try:
        model_field = Species._meta.get_field(name)
    except FieldDoesNotExist:
        raise ContentError(f"{slug}: unknown field {name!r}; fix the data file.") from None
    if isinstance(value, float):
        value = Decimal(str(value))  # through str, so 0.6 stays 0.6 instead of 0.59999...
    try:
        return model_field.to_python(value)
    except ValidationError as exc:
        raise ContentError(f"{slug}: {name}: {' '.join(exc.messages)}") from None


def _save(species: Species) -> None:
    try:
        species.full_clean()
    except ValidationError as exc:
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise ContentError(f"{species.slug}: {problems}") from None
    species.save()


def _own_label(label: str, species: Species, report: LoadReport) -> None:
    row = ModelLabel.objects.select_related("species").filter(label=label).first()
    if row is None:
        ModelLabel.objects.create(label=label, species=species)
        report.labels.created.append(label)
    elif row.species_id != species.pk:
        previous = row.species.slug
        row.species = species
        row.save(update_fields=["species"])
        report.labels.updated[label] = [f"owner {previous} -> {species.slug}"]
    else:
        report.labels.unchanged.append(label)
