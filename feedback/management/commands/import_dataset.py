"""manage.py import_dataset: a public dataset, in its own layout, as a dataset for training.

    manage.py import_dataset --format {imagefolder,oxford-pets,inaturalist} SRC --out DIR
                             [--merge FEEDBACK_EXPORT] [--dry-run]

    imagefolder    SRC/<label>/*.jpg, label an entry's slug or not-a-cat
    oxford-pets    the Oxford-IIIT Pet dataset as it unpacks: SRC/images/, SRC/annotations/
                   list.txt, trainval.txt, test.txt. Cat breeds map to entries by name, dogs
                   become not-a-cat; the trainval and test lists become the splits
    inaturalist    an observations CSV export and photos/<observation id>.jpg beside it, mapped
                   to entries by scientific name (and the entries' synonyms)

Writes the export_dataset format (feedback/dataset.py): photos re-encoded without metadata,
labels.csv, dataset.json (which also records what could not be mapped). Prints the photos per
label and split, and everything it could not map with the reason; exits non-zero when nothing
maps. ``--merge DIR`` combines the import with a feedback export (de-duplicated by photo hash).
See feedback/imports.py.
"""
from pathlib import Path

from django.core.management.base import CommandError

from catmodel.evaluation.dataset import SPLITS
from catmodel.evaluation.sources import FORMATS
from core.commands import AppCommand
from feedback.imports import import_dataset

# A progress line every this many photos at least (and every 5 % of a large import).
_PROGRESS_EVERY = 50


class Command(AppCommand):
    help = "Import a public dataset (image folder, Oxford-IIIT Pet, iNaturalist export) as a " \
           "labelled dataset folder in the export_dataset format."

    def add_arguments(self, parser):
        parser.add_argument("src", type=Path, help="the dataset as downloaded and unpacked")
        parser.add_argument("--format", choices=FORMATS, required=True,
                            help="the layout of SRC")
        parser.add_argument("--out", type=Path, required=True,
                            help="folder to write (created; an earlier dataset there is "
                                 "replaced)")
        parser.add_argument("--merge", type=Path, default=None,
                            help="a feedback export (manage.py export_dataset) to combine with "
                                 "the import; the same photo in both appears once")
        parser.add_argument("--dry-run", action="store_true",
                            help="map the labels and print the report; write nothing")

    def handle(self, *args, **options):
        verbosity = options["verbosity"]

        def progress(done: int, total: int) -> None:
            every = max(_PROGRESS_EVERY, total // 20)
            if verbosity >= 1 and (done % every == 0 or done == total):
                self.stdout.write(f"  {done}/{total} photos ({100 * done // total}%)")

        def warn(message: str) -> None:
            self.stderr.write(self.style.WARNING(f"warning: {message}"))

        if verbosity >= 1:
            self.stdout.write(f"Importing {options['src']} ({options['format']})")
        try:
            report = import_dataset(format=options["format"], src=options["src"],
                                    out=options["out"], merge=options["merge"],
                                    dry_run=options["dry_run"], progress=progress, warn=warn)
        except OSError as exc:
            raise CommandError(f"{options['src']}: {exc.strerror or exc}") from None
        for note in report.notes:
            warn(note)
        if report.unmapped and verbosity >= 1:
            total = sum(u.count for u in report.unmapped)
            self.stdout.write(f"Not imported: {total} ({len(report.unmapped)} name(s) or "
                              "file(s))")
            for item in report.unmapped:
                detail = f" ({item.detail})" if item.detail else ""
                self.stdout.write(f"  {item.count:>6}  {item.name}: {item.reason}{detail}")
        if report.nothing_mapped:
            raise CommandError(f"nothing mapped: no photo of {options['src']} has a label "
                               "that is an encyclopedia entry or not-a-cat (see the list above)"
                               if report.unmapped else
                               f"nothing to import: {options['src']} holds no photos")
        if report.manifest is None:      # --dry-run
            self.stdout.write("Would import (dry run, nothing written):")
            for label, count in sorted(report.mapped.items()):
                self.stdout.write(f"  {count:>6}  {label}")
            return
        if verbosity >= 1:
            self._counts(report.manifest)

    def _counts(self, manifest: dict) -> None:
        counts = manifest["counts"]
        width = max(len("label"), *(len(label) for label in counts["labels"]))
        self.stdout.write(f"  {'label':<{width}}  " + "  ".join(f"{s:>10}" for s in SPLITS)
                          + f"  {'total':>6}")
        for label, row in counts["labels"].items():
            self.stdout.write(f"  {label:<{width}}  "
                              + "  ".join(f"{row[s]:>10}" for s in SPLITS)
                              + f"  {row['total']:>6}")
        merged = manifest.get("merged")
        if merged:
            self.stdout.write(f"Merged {merged['photos']} photo(s) of the feedback export; "
                              f"{merged['duplicates']} imported photo(s) were already in it")
        splits = ", ".join(f"{name} {n}" for name, n in counts["splits"].items())
        self.stdout.write(self.style.SUCCESS(
            f"Wrote {counts['total']} labelled photo(s), {len(counts['labels'])} label(s) "
            f"({splits}); dataset sha256 {manifest['sha256']}"))
