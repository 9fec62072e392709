"""manage.py export_dataset: the reviewed feedback photos as a dataset for training.

    manage.py export_dataset --out DIR [--status accepted|all]

Writes DIR/images/<sha256>.jpg, DIR/labels.csv (file,label,split) and DIR/dataset.json (format
version, creation time, counts per label and split, the sha256 of every image and of the whole
dataset); see feedback/dataset.py for the format. ``accepted`` (default) exports the photos an
editor accepted; ``all`` also those still pending (never the rejected ones). The species photos
uploaded in admin are included as labelled examples. The same data always gives the same
dataset sha256.
"""
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from feedback.dataset import DatasetError, export
from feedback.selectors import EXPORT_STATUSES, dataset_examples

# A progress line at most every this many photos (and at the end).
_PROGRESS_EVERY = 50


class Command(BaseCommand):
    help = "Export accepted feedback photos and species photos as a labelled dataset folder."

    def add_arguments(self, parser):
        parser.add_argument("--out", type=Path, required=True,
                            help="folder to write (created; an earlier export there is replaced)")
        parser.add_argument("--status", choices=EXPORT_STATUSES, default="accepted",
                            help="accepted (default): reviewed and accepted photos; "
                                 "all: also those pending review")

    def handle(self, *args, **options):
        verbosity = options["verbosity"]
        examples = dataset_examples(options["status"])
        if verbosity >= 1:
            self.stdout.write(f"Exporting {len(examples)} photo(s) to {options['out']}")

        def progress(done: int, total: int) -> None:
            if verbosity >= 1 and (done % _PROGRESS_EVERY == 0 or done == total):
                self.stdout.write(f"  {done}/{total} photos ({100 * done // total}%)")

        def warn(message: str) -> None:
            self.stderr.write(self.style.WARNING(f"warning: {message}"))

        try:
            manifest = export(examples, options["out"], status=options["status"],
                              progress=progress, warn=warn)
        except (DatasetError, OSError) as exc:
            raise CommandError(str(exc)) from None
        if verbosity >= 1:
            counts = manifest["counts"]
            splits = ", ".join(f"{name} {n}" for name, n in counts["splits"].items())
            self.stdout.write(self.style.SUCCESS(
                f"Wrote {counts['total']} labelled photo(s), {len(counts['labels'])} label(s) "
                f"({splits}); dataset sha256 {manifest['sha256']}"
            ))
