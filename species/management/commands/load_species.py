"""manage.py load_species: merge the encyclopedia's upstream (species, breeds, groups such as the
genus Lynx, the model labels they own, in species/data/*.json) into the database, which editors own.

    manage.py load_species [--dry-run] [--take-upstream SLUG[.FIELD]]... [-v 0|1|2]

A three-way merge per entry and field (species/content.py): what the files changed and nobody
edited here is applied; what an editor changed is kept; where both changed a field the editor's
value is kept and the clash printed (and listed in the admin under Content clashes). Entries
editors deleted are not created again, entries they created are not touched. Prints what it
created, updated (with the fields) and left unchanged, and every clash; -v 2 also lists the
unchanged entries, the fields kept as editors changed them and the entries left to them; -v 0
prints nothing. --dry-run reports the same without saving. --take-upstream SLUG.FIELD applies
the files' value of that field whatever the merge says (SLUG alone: every field of the entry,
re-creating or adopting it; a label's name works as SLUG). One transaction: an invalid entry
stops the run with a one-line error and nothing is saved.
"""
from core.commands import AppCommand
from species.content import Changes, LoadReport, load


class Command(AppCommand):
    help = "Merge species/data/*.json (upstream) into the encyclopedia without undoing edits."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true",
                            help="report what would change, save nothing")
        parser.add_argument(
            "--take-upstream", action="append", default=[], metavar="SLUG[.FIELD]",
            help="apply the files' value of this entry (or of this one field) even where an "
                 "editor changed it; repeat for more")

    def handle(self, *args, **options):
        report = load(dry_run=options["dry_run"], take=options["take_upstream"])
        verbosity = options["verbosity"]
        if verbosity < 1:
            return
        self.write_changes("Species", report.species, verbosity)
        self.write_changes("Groups", report.taxa, verbosity)
        self.write_changes("Labels", report.labels, verbosity)
        self.write_summary(report)

    def write_summary(self, report: LoadReport) -> None:
        if report.clashes:
            self.stdout.write(self.style.WARNING(
                f"{len(report.clashes)} clash(es): the editors' values were kept. Take the "
                "files' value in the admin (Content clashes) or with --take-upstream "
                "SLUG.FIELD."))
        if report.dry_run:
            self.stdout.write("Dry run: nothing was saved.")
        elif not report.changed and not report.clashes:
            self.stdout.write(self.style.SUCCESS("Everything was up to date."))

    def write_changes(self, title: str, changes: Changes, verbosity: int) -> None:
        counts = (f"{title}: {len(changes.created)} created, {len(changes.updated)} updated, "
                  f"{len(changes.unchanged)} unchanged")
        if changes.left_alone:
            counts += f", {len(changes.left_alone)} left to the editors"
        if changes.clashes:
            counts += f", {len(changes.clashes)} clash(es)"
        self.stdout.write(counts + ".")
        for key in changes.created:
            self.stdout.write(self.style.SUCCESS(f"  created {key}"))
        for key, fields in changes.updated.items():
            self.stdout.write(self.style.WARNING(f"  updated {key}: {', '.join(fields)}"))
        for clash in changes.clashes:
            self.stdout.write(self.style.ERROR(f"  clash {clash}"))
        if verbosity >= 2:
            for key, fields in changes.kept.items():
                self.stdout.write(f"  kept {key}: {', '.join(fields)} (as editors changed it)")
            for key, why in changes.left_alone.items():
                self.stdout.write(f"  left alone {key}: {why}")
            for key in changes.unchanged:
                self.stdout.write(f"  unchanged {key}")
