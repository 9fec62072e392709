"""manage.py load_species: bring the encyclopedia (species, breeds, groups such as the genus Lynx,
and the model labels they own) in line with species/data/*.json.

    manage.py load_species [--dry-run] [-v 0|1|2]

Idempotent: entries that match the files are left alone, so a second run changes nothing.
Prints what it created, updated (with the fields) and left unchanged; -v 2 lists every entry,
-v 0 prints nothing. --dry-run reports the same without saving. One transaction: an invalid
entry stops the run with a one-line error and nothing is saved.
"""
from django.core.management.base import BaseCommand, CommandError

from species.content import Changes, ContentError, load


class Command(BaseCommand):
    help = "Create or update the encyclopedia's entries and label links from species/data/*.json."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="report what would change, save nothing")

    def handle(self, *args, **options):
        try:
            report = load(dry_run=options["dry_run"])
        except ContentError as error:
            raise CommandError(str(error)) from None
        verbosity = options["verbosity"]
        if verbosity < 1:
            return
        self.write_changes("Species", report.species, verbosity)
        self.write_changes("Groups", report.taxa, verbosity)
        self.write_changes("Labels", report.labels, verbosity)
        if report.dry_run:
            self.stdout.write("Dry run: nothing was saved.")
        elif not report.changed:
            self.stdout.write(self.style.SUCCESS("Everything was up to date."))

    def write_changes(self, title: str, changes: Changes, verbosity: int) -> None:
        self.stdout.write(
            f"{title}: {len(changes.created)} created, {len(changes.updated)} updated, "
            f"{len(changes.unchanged)} unchanged."
        )
        for key in changes.created:
            self.stdout.write(self.style.SUCCESS(f"  created {key}"))
        for key, fields in changes.updated.items():
            self.stdout.write(self.style.WARNING(f"  updated {key}: {', '.join(fields)}"))
        if verbosity >= 2:
            for key in changes.unchanged:
                self.stdout.write(f"  unchanged {key}")
