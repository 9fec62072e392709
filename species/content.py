"""The encyclopedia's content files (species/data/*.json) and loading them with the current model.

taxa.json holds the groups above the entries (the genus Lynx, the domestic cat...); every other
file holds species and breeds. `manage.py load_species` runs `load`. Loading is idempotent:
every record is compared with the database field by field and saved only when something
differs, and the report says what was created, what was updated (with the fields) and what was
left unchanged. Each label named in the data is given to the entry or group that names it (a
label named twice is an error: one label, one owner); labels the data does not name are left as
the admin set them. Migration 0002 does not use this module: it owns a frozen
snapshot, so today's data and model never have to match the schema of a past migration.
"""
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction

from core.errors import AppError
from species.models import ModelLabel, Species, Taxon

DATA_DIR = Path(__file__).resolve().parent / "data"
TAXA_FILE = "taxa.json"


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
    taxa: Changes = field(default_factory=Changes)
    labels: Changes = field(default_factory=Changes)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return self.species.changed or self.taxa.changed or self.labels.changed


def _read(path: Path) -> list[dict]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ContentError(f"{path.name} is not valid JSON ({exc}): fix the file.") from exc


def read_entries(data_dir: Path | None = None) -> list[dict]:
    """Every species and breed of the *.json files in data_dir (DATA_DIR), in file-name order."""
    paths = sorted((data_dir or DATA_DIR).glob("*.json"))
    return [entry for path in paths if path.name != TAXA_FILE for entry in _read(path)]


def read_taxa(data_dir: Path | None = None) -> list[dict]:
    path = (data_dir or DATA_DIR) / TAXA_FILE
    return _read(path) if path.exists() else []


def load(entries: list[dict] | None = None, taxa: list[dict] | None = None, *,
         dry_run: bool = False) -> LoadReport:
    """Bring the database in line with the entries and taxa (default: the data files), in one
    transaction.

    A dry run does the same work and rolls it back, so its report is exactly what a real run
    would do. An invalid record raises ContentError and nothing is saved.
    """
    entries = read_entries() if entries is None else entries
    taxa = read_taxa() if taxa is None else taxa
    report = LoadReport(dry_run=dry_run)
    owners: dict[str, Species | Taxon] = {}
    resembles: dict[Species, list[str]] = {}
    with transaction.atomic():
        for model, records, changes in ((Taxon, taxa, report.taxa),
                                        (Species, entries, report.species)):
            for record in records:
                instance = _upsert(model, record, changes)
                if "resembles" in record:
                    resembles[instance] = record["resembles"]
                for label in record.get("labels", []):
                    if label in owners:
                        raise ContentError(
                            f"The label {label!r} is given to both {owners[label]} and "
                            f"{instance}: give it to one of them (one label, one owner)."
                        )
                    owners[label] = instance
        for label, owner in owners.items():
            _own_label(label, owner, report.labels)
        for entry, labels in resembles.items():
            _set_resembles(entry, labels, report.species)
        if dry_run:
            transaction.set_rollback(True)
    return report


def _upsert(model, record: dict, changes: Changes):
    fields = dict(record)
    fields.pop("labels", None)
    fields.pop("resembles", None)  # a relation to labels: set once the labels are in place
    slug = fields.pop("slug", None)
    if not slug:
        raise ContentError(f"A record has no slug: {str(record)[:80]}")
    values = {name: _python_value(model, slug, name, value) for name, value in fields.items()}

    instance = model.objects.filter(slug=slug).first()
    if instance is None:
        instance = model(slug=slug, **values)
        _save(instance, slug)
        changes.created.append(slug)
        return instance
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if changed:
        for name in changed:
            setattr(instance, name, values[name])
        _save(instance, slug)
        changes.updated[slug] = changed
    else:
        changes.unchanged.append(slug)
    return instance


def _python_value(model, slug: str, name: str, value):
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        raise ContentError(f"{slug}: unknown field {name!r}; fix the data file.") from None
    if isinstance(value, float):
        value = Decimal(str(value))  # through str, so 0.6 stays 0.6 instead of 0.59999...
    try:
        return model_field.to_python(value)
    except ValidationError as exc:
        raise ContentError(f"{slug}: {name}: {' '.join(exc.messages)}") from None


def _save(instance, slug: str) -> None:
    try:
        instance.full_clean()
    except ValidationError as exc:
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise ContentError(f"{slug}: {problems}") from None
    instance.save()


def _set_resembles(entry: Species, labels: list[str], changes: Changes) -> None:
    rows = list(ModelLabel.objects.filter(label__in=labels))
    missing = set(labels) - {row.label for row in rows}
    if missing:
        raise ContentError(f"{entry.slug}: resembles unknown labels {sorted(missing)}; give "
                           "each label an owner first.")
    if set(entry.resembles.all()) != set(rows):
        entry.resembles.set(rows)
        if entry.slug in changes.unchanged:
            changes.unchanged.remove(entry.slug)
        changes.updated.setdefault(entry.slug, []).append("resembles")


def _owner_name(row: ModelLabel) -> str:
    return row.owner.slug if row.owner is not None else "nobody"


def _own_label(label: str, owner: Species | Taxon, changes: Changes) -> None:
    owner_fields = ({"species": owner, "taxon": None} if isinstance(owner, Species)
                    else {"species": None, "taxon": owner})
    row = ModelLabel.objects.select_related("species", "taxon").filter(label=label).first()
    if row is None:
        ModelLabel.objects.create(label=label, **owner_fields)
        changes.created.append(label)
    elif row.owner != owner:
        previous = _owner_name(row)
        for name, value in owner_fields.items():
            setattr(row, name, value)
        row.save(update_fields=list(owner_fields))
        changes.updated[label] = [f"owner {previous} -> {owner.slug}"]
    else:
        changes.unchanged.append(label)
