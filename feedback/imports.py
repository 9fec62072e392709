"""Importing a public dataset (issue 23): a folder of photos in its own layout becomes a dataset
in the export_dataset format, so train_model, evaluate_model and the gate take it unchanged.

    source layout (catmodel/evaluation/sources.py)  ->  names mapped to encyclopedia entries
    (species.selectors.entry_names)  ->  feedback/dataset.py's writer: every photo re-encoded
    without metadata, as a feedback photo is, named by the sha256 of the re-encoded bytes

Splits: by that hash, as export_dataset splits (imagefolder, inaturalist); the Oxford-IIIT Pet
set's own lists are kept: its test list is the test split, its trainval list is train or
validation by the hash (about 9 to 1).

``merge``: a feedback export (or any dataset in the format) is combined with the import. Photos
are de-duplicated by the sha256 of the re-encoded photo: re-encoding is deterministic, so a
photo a visitor shared and the same photo in a public dataset give the same bytes; the export's
photos are kept as they are (re-encoding them again would change their bytes), and where a
photo is in both, the export's row (an editor reviewed it) is the one kept.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from catmodel.evaluation.dataset import read_dataset
from catmodel.evaluation.sources import UNREADABLE, SourcePhoto, read_source
from feedback.dataset import export
from feedback.selectors import Example
from species.selectors import entry_names

STATUS = "imported"


@dataclass(frozen=True)
class Unmapped:
    name: str        # the label (or file) as the source gives it
    reason: str      # no such entry, ambiguous, unreadable photo, not a photo, ...
    detail: str
    count: int

    def as_dict(self) -> dict:
        return {"name": self.name, "reason": self.reason, "detail": self.detail,
                "count": self.count}


@dataclass
class ImportReport:
    format: str
    source: Path
    mapped: Counter = field(default_factory=Counter)   # label -> photos mapped to it
    unmapped: list[Unmapped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    manifest: dict | None = None                       # dataset.json, once written

    @property
    def nothing_mapped(self) -> bool:
        return not self.mapped


class _Unmapped:
    """Counts per (name, reason); the first detail of each is the one shown."""

    def __init__(self):
        self.counts: Counter[tuple[str, str]] = Counter()
        self.details: dict[tuple[str, str], str] = {}

    def add(self, name: str, reason: str, detail: str = "") -> None:
        self.counts[name, reason] += 1
        self.details.setdefault((name, reason), detail)

    def listed(self) -> list[Unmapped]:
        return [Unmapped(name, reason, self.details[name, reason], count)
                for (name, reason), count in sorted(self.counts.items(),
                                                    key=lambda item: (-item[1], item[0]))]


def import_dataset(*, format: str, src, out, merge=None, dry_run: bool = False,
                   progress: Callable[[int, int], None] | None = None,
                   warn: Callable[[str], None] | None = None) -> ImportReport:
    """Read ``src`` in ``format``, map its labels, and write the dataset into ``out`` (unless
    ``dry_run``, or nothing maps: then ``report.manifest`` is None). DatasetError (one line)
    for a layout that is not ``format``'s, or a ``merge`` folder that is not a dataset."""
    source = read_source(format, src)
    merged = read_dataset(merge) if merge is not None else None
    names = entry_names()
    report = ImportReport(format=format, source=Path(src), notes=list(source.notes))
    unmapped = _Unmapped()
    for skipped in source.skipped:
        unmapped.add(skipped.name, skipped.reason, skipped.detail)
    examples: list[Example] = []
    described: dict[str, SourcePhoto] = {}
    for photo in source.photos:
        match = names.for_photo(photo, format)
        if match.label is None:
            unmapped.add(photo.described, match.reason, match.detail)
            continue
        where = str(photo.path.relative_to(source.root))
        described[where] = photo
        examples.append(Example(label=match.label, source=where, read=photo.path.read_bytes,
                                splits=photo.splits))
    report.mapped = Counter(example.label for example in examples)

    # What dataset.json records of the import; its list grows as unreadable photos are found
    # (the writer serialises it after the last photo).
    imported = {"format": format, "unmapped": [u.as_dict() for u in unmapped.listed()]}

    def unreadable(example: Example, error: Exception) -> None:
        report.mapped[example.label] -= 1
        unmapped.add(described[example.source].described, UNREADABLE,
                     f"e.g. {example.source}: {error}")
        imported["unmapped"] = [u.as_dict() for u in unmapped.listed()]

    if examples and not dry_run:
        report.manifest = export(
            examples, Path(out), status=STATUS, progress=progress, warn=warn,
            unreadable=unreadable, merge=merged, imported=imported,
            refuse_empty=f"no photo of {src} could be read: nothing was written")
    report.mapped = +report.mapped
    report.unmapped = unmapped.listed()
    return report

