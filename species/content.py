"""The encyclopedia's content files (species/data/*.json) and merging them into the database.

The database is the content: editors own it (the admin, a shell, the API all count as edits).
The files are upstream: `manage.py load_species` runs `load`, a three-way merge per entry and
field between what it loaded last time (UpstreamValue.loaded, the common ancestor), the value in
the database and the value in the files:

- nobody changed the field here, the files did: the files' value is applied;
- an editor changed it, the files did not: the editor's value is kept, silently;
- both changed it (to different values): the editor's value is kept and the clash reported (and
  listed in the admin, where `take_upstream` applies the files' value); never applied on its own;
- both agree: nothing to do.
An entry an editor deleted is not created again; an entry an editor created (its slug unknown
to the last load) is never touched. Label ownership (ModelLabel's owner) and `resembles` are
fields like the others. A field with no loaded value yet (one added to the model later) counts
as having been loaded with its default. Migration 0007 gives databases made before this a
baseline (0002's snapshot is the first load). `take` (load_species --take-upstream) applies the
files' value whatever the merge says, and re-creates or adopts a whole entry.

taxa.json holds the groups above the entries (the genus Lynx, the domestic cat...); every other
file holds species and breeds. Each label named in the data belongs to the entry or group that
names it (a label named twice is an error: one label, one owner). Migration 0002 does not use
this module: it owns a frozen snapshot, so today's data and model never have to match the
schema of a past migration.
"""
import json
import textwrap
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import transaction

from core.errors import AppError
from species.history import FROM_FILES, record_baseline
from species.models import ModelLabel, Species, Taxon, UpstreamEntry, UpstreamValue, tidy_text

DATA_DIR = Path(__file__).resolve().parent / "data"
TAXA_FILE = "taxa.json"
SPECIES, TAXON, LABEL = "species", "taxon", "label"  # UpstreamEntry.Kind, as plain text
KINDS = {SPECIES: Species, TAXON: Taxon}
OWNER = "owner"  # a label's one field: "species:<slug>" or "taxon:<slug>"
RESEMBLES = "resembles"
TOOK_UPSTREAM = "took the upstream value"
SHORT = 60  # characters of each value a clash shows


class ContentError(AppError):
    code = "invalid_content"


def shorten(value) -> str:
    """One line of at most SHORT characters, for reports and the admin's clash list."""
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value) or "(none)"
    text = "(empty)" if value in (None, "") else str(value)
    return repr(textwrap.shorten(text, SHORT, placeholder="…"))


@dataclass
class Clash:
    """A field an editor changed while the files changed it too: the editor's value is kept."""

    key: str
    field: str
    ours: object
    theirs: object

    def __str__(self):
        return (f"{self.key}.{self.field}: kept the editors' {shorten(self.ours)}; "
                f"the files have {shorten(self.theirs)}")


@dataclass
class Changes:
    """What loading did to one kind of record: keys created, updated (-> fields), unchanged;
    fields kept as editors changed them, clashes, and entries left to the editors (-> why)."""

    created: list[str] = field(default_factory=list)
    updated: dict[str, list[str]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    kept: dict[str, list[str]] = field(default_factory=dict)
    clashes: list[Clash] = field(default_factory=list)
    left_alone: dict[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)

    def mark_updated(self, key: str, name: str) -> None:
        if key in self.created:
            return  # its look-alikes are part of creating it, not an update
        if key in self.unchanged:
            self.unchanged.remove(key)
        self.updated.setdefault(key, []).append(name)


@dataclass
class LoadReport:
    species: Changes = field(default_factory=Changes)
    taxa: Changes = field(default_factory=Changes)
    labels: Changes = field(default_factory=Changes)
    dry_run: bool = False

    @property
    def changed(self) -> bool:
        return self.species.changed or self.taxa.changed or self.labels.changed

    @property
    def clashes(self) -> list[Clash]:
        return self.species.clashes + self.taxa.clashes + self.labels.clashes


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


def parse_take(text: str) -> tuple[str, str | None]:
    """SLUG or SLUG.FIELD (a label's name may stand for SLUG, its field is `owner`)."""
    key, dot, name = text.rpartition(".")
    known = {f.name for model in KINDS.values() for f in model._meta.get_fields()}
    if dot and key and name in known | {OWNER}:
        return key, name
    return text, None


def load(entries: list[dict] | None = None, taxa: list[dict] | None = None, *,
         dry_run: bool = False, take: list[str] = ()) -> LoadReport:
    """Merge the entries and taxa (default: the data files) into the database, in one
    transaction; `take` lists SLUG or SLUG.FIELD whose files' value wins whatever the merge says.

    A dry run does the same work and rolls it back, so its report is exactly what a real run
    would do. An invalid record raises ContentError and nothing is saved.
    """
    entries = read_entries() if entries is None else entries
    taxa = read_taxa() if taxa is None else taxa
    report = LoadReport(dry_run=dry_run)
    with transaction.atomic():
        record_baseline()
        merge = _Merge([parse_take(text) for text in take])
        owners: dict[str, tuple[str, str]] = {}
        resembles: list[tuple[str, Species | None, list[str]]] = []
        for kind, records, changes in ((TAXON, taxa, report.taxa),
                                       (SPECIES, entries, report.species)):
            for record in records:
                key, row = merge.entry(kind, record, changes)
                if RESEMBLES in record:
                    resembles.append((key, row, record[RESEMBLES]))
                for label in record.get("labels", []):
                    if label in owners:
                        raise ContentError(
                            f"The label {label!r} is given to both {owners[label][1]} and "
                            f"{key}: give it to one of them (one label, one owner)."
                        )
                    owners[label] = (kind, key)
        for label, (kind, key) in owners.items():
            merge.label(label, kind, key, report.labels)
        for key, row, labels in resembles:
            merge.resembles(key, row, labels, set(owners), report.species)
        merge.finish()
        if dry_run:
            transaction.set_rollback(True)
    return report


# Outcomes of the merge of one field.
SAME, APPLY, KEEP, CLASH = "same", "apply", "keep", "clash"


class _Merge:
    """One load's view of what was loaded before, and the merge of each field."""

    def __init__(self, take: list[tuple[str, str | None]]):
        self.take = take
        self.taken: set[tuple[str, str | None]] = set()
        self.entries = {(e.kind, e.key): e for e in UpstreamEntry.objects.select_related(
            "species", "taxon", "label").prefetch_related("values")}
        for entry in self.entries.values():
            entry.by_field = {value.field: value for value in entry.values.all()}
        # The files' key of each row loaded from them (an editor may have renamed the slug).
        self.keys = {(e.kind, getattr(e, f"{e.kind}_id")): e.key for e in self.entries.values()}
        self.new_values: list[UpstreamValue] = []

    # --- the rule, for one field -------------------------------------------------------------
    def field(self, entry: UpstreamEntry, name: str, current, upstream, default, to_python,
              forced: bool) -> str:
        """Decide the merge of one field and remember it, except APPLY: the caller applies the
        value and then calls `applied` (or `clashed`, when it does not fit)."""
        remembered = entry.by_field.get(name)
        base = to_python(remembered.loaded) if remembered else default
        if current == upstream:
            self.applied(entry, name, upstream)
            return SAME
        if forced or current == base:
            return APPLY
        if upstream == base:
            self._remember(entry, name, _stored(base), clash=False, upstream=None)
            return KEEP
        self.clashed(entry, name, upstream, default)
        return CLASH

    def applied(self, entry: UpstreamEntry, name: str, upstream) -> None:
        self._remember(entry, name, _stored(upstream), clash=False, upstream=None)

    def clashed(self, entry: UpstreamEntry, name: str, upstream, default) -> None:
        remembered = entry.by_field.get(name)
        loaded = remembered.loaded if remembered else _stored(default)
        self._remember(entry, name, loaded, clash=True, upstream=_stored(upstream))

    def _remember(self, entry, name, loaded, *, clash, upstream) -> None:
        value = entry.by_field.get(name)
        if value is None:
            value = UpstreamValue(entry=entry, field=name, loaded=loaded, clash=clash,
                                  upstream=upstream)
            entry.by_field[name] = value
            self.new_values.append(value)
        elif (value.loaded, value.clash, value.upstream) != (loaded, clash, upstream):
            value.loaded, value.clash, value.upstream = loaded, clash, upstream
            if value.pk:
                value.save(update_fields=["loaded", "clash", "upstream", "checked_at"])

    def forced(self, key: str, name: str | None = None) -> bool:
        hits = {wanted for wanted in ((key, None), (key, name)) if wanted in self.take}
        self.taken |= hits
        return bool(hits)

    def track(self, kind: str, key: str, row) -> UpstreamEntry:
        entry = self.entries.get((kind, key)) or UpstreamEntry(kind=kind, key=key)
        setattr(entry, kind, row)
        entry.save()
        entry.by_field = getattr(entry, "by_field", {})
        self.entries[(kind, key)] = entry
        self.keys[(kind, row.pk)] = key
        return entry

    def finish(self) -> None:
        UpstreamValue.objects.bulk_create(self.new_values)
        missed = [key if name is None else f"{key}.{name}"
                  for key, name in self.take if (key, name) not in self.taken]
        if missed:
            raise ContentError(f"--take-upstream {', '.join(missed)}: no such entry, group or "
                               "label (and field) in the data files; check the spelling.")

    # --- species, breeds and groups ----------------------------------------------------------
    def entry(self, kind: str, record: dict, changes: Changes):
        """Merge one record; the key and the database row (None when left to the editors)."""
        model = KINDS[kind]
        fields = {k: v for k, v in record.items() if k not in ("labels", RESEMBLES)}
        key = fields.get("slug")
        if not key:
            raise ContentError(f"A record has no slug: {str(record)[:80]}")
        values = {name: _python_value(model, key, name, value) for name, value in fields.items()}
        _check(model(**values), key)  # the files' own mistakes stop the run, edited or not
        entry = self.entries.get((kind, key))
        row = entry.row if entry else model.objects.filter(slug=key).first()
        whole = self.forced(key)
        if not whole and entry is not None and row is None:
            changes.left_alone[key] = "deleted by an editor"
            return key, None
        if not whole and entry is None and row is not None:
            changes.left_alone[key] = "created by an editor"
            return key, None
        if row is None:
            row = model(**values)
            _save(row, key)
            entry = self.track(kind, key, row)
            for name, value in values.items():
                self.applied(entry, name, value)
            changes.created.append(key)
            return key, row
        entry = entry or self.track(kind, key, row)  # adopted on request (--take-upstream)
        self._merge_fields(model, entry, row, key, values, changes)
        return key, row

    def _merge_fields(self, model, entry, row, key, values, changes) -> None:
        applied, clashes = [], []
        for name, upstream in values.items():
            model_field = model._meta.get_field(name)
            current = tidy_text(getattr(row, model_field.attname))
            default = model_field.get_default()
            outcome = self.field(entry, name, current, upstream, default,
                                 model_field.to_python, self.forced(key, name))
            if outcome == APPLY:
                applied.append(name)
            elif outcome == KEEP:
                changes.kept.setdefault(key, []).append(name)
            elif outcome == CLASH:
                clashes.append(Clash(key, name, current, upstream))
        if applied:
            before = {name: getattr(row, name) for name in applied}
            for name in applied:
                setattr(row, name, values[name])
            try:
                row.full_clean()
            except ValidationError:
                # The files' values do not fit with what editors changed beside them: keep the
                # entry as it is and show each of them as a clash, for a person to decide.
                if any(self.forced(key, name) for name in applied):
                    _save(row, key)  # asked for: say why it cannot be done
                for name in applied:
                    setattr(row, name, before[name])
                    clashes.append(Clash(key, name, before[name], values[name]))
                    self.clashed(entry, name, values[name], model._meta.get_field(name)
                                 .get_default())
                applied = []
        if applied:
            for name in applied:
                self.applied(entry, name, values[name])
            row._change_reason = FROM_FILES
            row.save()
            changes.updated[key] = applied
        else:
            changes.unchanged.append(key)
        changes.clashes.extend(clashes)

    # --- labels and look-alikes --------------------------------------------------------------
    def row_of(self, kind: str, key: str):
        """The database row made of an entry of the files (None: left to the editors)."""
        entry = self.entries.get((kind, key))
        return entry.row if entry else None

    def ref(self, owner) -> str | None:
        """An owner as the files name it: kind:key (an editor's own entry: its slug)."""
        if owner is None:
            return None
        kind = SPECIES if isinstance(owner, Species) else TAXON
        return f"{kind}:{self.keys.get((kind, owner.pk), owner.slug)}"

    def label(self, label: str, kind: str, key: str, changes: Changes) -> None:
        entry = self.entries.get((LABEL, label))
        named = ModelLabel.objects.select_related("species", "taxon").filter(label=label).first()
        # A label an editor deleted and then made again under the same name is the editor's.
        row = entry.row if entry else named
        whole = self.forced(label, OWNER)
        owner = self.row_of(kind, key)
        if owner is None:
            changes.left_alone[label] = f"its owner {key} is left to the editors"
            return
        if not whole and entry is not None and row is None:
            changes.left_alone[label] = "deleted by an editor"
            return
        if not whole and entry is None and row is not None:
            changes.left_alone[label] = "created by an editor"
            return
        upstream = f"{kind}:{key}"
        row = row or named  # on request, an editor's label of that name is adopted
        if row is None:
            row = ModelLabel(label=label)
            set_owner(row, owner)
            entry = self.track(LABEL, label, row)
            self.applied(entry, OWNER, upstream)
            changes.created.append(label)
            return
        entry = entry or self.track(LABEL, label, row)
        current = self.ref(row.owner)
        outcome = self.field(entry, OWNER, current, upstream, None, _same, whole)
        if outcome == APPLY:
            previous = row.owner.slug if row.owner is not None else "nobody"
            set_owner(row, owner)
            self.applied(entry, OWNER, upstream)
            changes.updated[label] = [f"owner {previous} -> {owner.slug}"]
            return
        if outcome == KEEP:
            changes.kept[label] = [OWNER]
        elif outcome == CLASH:
            changes.clashes.append(Clash(label, OWNER, current, upstream))
        changes.unchanged.append(label)

    def resembles(self, key: str, row: Species | None, labels: list[str], named: set[str],
                  changes: Changes) -> None:
        missing = set(labels) - named - set(
            ModelLabel.objects.filter(label__in=labels).values_list("label", flat=True))
        if missing:
            raise ContentError(f"{key}: resembles unknown labels {sorted(missing)}; give "
                               "each label an owner first.")
        if row is None:
            return  # left to the editors
        entry = self.entries[(SPECIES, key)]
        current = sorted(row.resembles.values_list("label", flat=True))
        upstream = sorted(labels)
        outcome = self.field(entry, RESEMBLES, current, upstream, [], _same,
                             self.forced(key, RESEMBLES))
        if outcome == APPLY:
            set_resembles(row, upstream)
            self.applied(entry, RESEMBLES, upstream)
            changes.mark_updated(key, RESEMBLES)
        elif outcome == KEEP:
            changes.kept.setdefault(key, []).append(RESEMBLES)
        elif outcome == CLASH:
            changes.clashes.append(Clash(key, RESEMBLES, current, upstream))


def _same(value):
    return sorted(value) if isinstance(value, list) else value


def _stored(value):
    """A value as UpstreamValue keeps it (JSON): decimals as their text, so 0.6 stays 0.6."""
    if isinstance(value, Decimal):
        return str(value)
    return sorted(value) if isinstance(value, list) else value


def set_owner(row: ModelLabel, owner: Species | Taxon, reason: str = FROM_FILES) -> None:
    row.species, row.taxon = (owner, None) if isinstance(owner, Species) else (None, owner)
    row._change_reason = reason
    row.save()


def set_resembles(row: Species, labels: list[str], reason: str = FROM_FILES) -> None:
    # Labels an editor deleted are left out (not created again for this).
    row._change_reason = reason
    row.resembles.set(ModelLabel.objects.filter(label__in=labels))


def _python_value(model, slug: str, name: str, value):
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        raise ContentError(f"{slug}: unknown field {name!r}; fix the data file.") from None
    if isinstance(value, float):
        value = Decimal(str(value))  # through str, so 0.6 stays 0.6 instead of 0.59999...
    try:
        return tidy_text(model_field.to_python(value))
    except ValidationError as exc:
        raise ContentError(f"{slug}: {name}: {' '.join(exc.messages)}") from None


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())


def _check(instance, slug: str) -> None:
    """The record valid on its own (uniqueness is the database's, checked on saving)."""
    try:
        instance.full_clean(validate_unique=False)
    except ValidationError as exc:
        raise ContentError(f"{slug}: {_problems(exc)}") from None


def _save(instance, slug: str, reason: str = FROM_FILES) -> None:
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise ContentError(f"{slug}: {_problems(exc)}") from None
    instance._change_reason = reason  # what the edit history says about this save
    instance.save()


def take_upstream(values) -> list[str]:
    """Apply the files' value of each clash given (UpstreamValues), as seen by the last load;
    the `entry.field` names taken. The admin's one action on its list of clashes."""
    taken = []
    with transaction.atomic():
        for value in values:
            row = value.entry.row
            if not value.clash or row is None:
                continue
            if value.entry.kind == LABEL:
                kind, _, key = value.upstream.partition(":")
                owner = _Merge([]).row_of(kind, key)
                if owner is None:
                    raise ContentError(f"{value}: the owner {key} no longer exists; choose "
                                       "another in the label list.")
                set_owner(row, owner, TOOK_UPSTREAM)
            elif value.field == RESEMBLES:
                set_resembles(row, value.upstream, TOOK_UPSTREAM)
            else:
                model_field = row._meta.get_field(value.field)
                setattr(row, model_field.attname, model_field.to_python(value.upstream))
                _save(row, value.entry.key, TOOK_UPSTREAM)
            value.loaded, value.clash, value.upstream = value.upstream, False, None
            value.save(update_fields=["loaded", "clash", "upstream", "checked_at"])
            taken.append(str(value))
    return taken
