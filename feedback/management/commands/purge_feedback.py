"""manage.py purge_feedback: the retention period for photos nobody reviewed.

    manage.py purge_feedback --older-than DAYS [--dry-run]

Deletes the kept photos of feedback still pending review after DAYS days (the verdict stays,
without its photo) and the expired identifications that received no feedback (their photo
hashes). Accepted and rejected feedback is left to the editors. Run it daily (a CronJob).
"""
from django.core.management.base import BaseCommand, CommandError

from feedback.services import feedback_purge


class Command(BaseCommand):
    help = "Delete photos pending review for longer than DAYS, and expired identifications."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", dest="days", type=int, required=True, metavar="DAYS",
                            help="delete photos still pending review after this many days")
        parser.add_argument("--dry-run", action="store_true",
                            help="count what would be deleted, delete nothing")

    def handle(self, *args, **options):
        if options["days"] < 0:
            raise CommandError("--older-than takes a number of days, 0 or more.")
        counts = feedback_purge(older_than_days=options["days"], dry_run=options["dry_run"])
        if options["verbosity"] >= 1:
            verb = "Would delete" if options["dry_run"] else "Deleted"
            self.stdout.write(self.style.SUCCESS(
                f"{verb} {counts['photos']} photo(s) pending review for more than "
                f"{options['days']} day(s) and {counts['identifications']} expired "
                "identification(s) without feedback."
            ))
