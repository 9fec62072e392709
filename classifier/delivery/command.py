"""What publish_model and fetch_model share: how they open the store and how they fail."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from classifier.delivery.errors import DeliveryError
from classifier.delivery.progress import CommandOutput, progress_factory
from classifier.delivery.stores import store_from_settings


class StoreCommand(BaseCommand):
    # Neither command needs the database or the URLs (fetch_model runs in an init container).
    requires_system_checks = ()
    # Tests inject an Azure token credential and client options; not command-line options.
    stealth_options = ("credential", "client_options")

    def create_parser(self, prog_name, subcommand, **kwargs):
        # Our --version is the package version; Django's own is still `manage.py version`.
        kwargs.setdefault("conflict_handler", "resolve")
        return super().create_parser(prog_name, subcommand, **kwargs)

    def execute(self, *args, **options):
        """Every DeliveryError ends the command with its one-line message and exit status 1."""
        try:
            return super().execute(*args, **options)
        except DeliveryError as exc:
            raise CommandError(exc.message, returncode=exc.exit_code) from None

    def open_store(self, options):
        return store_from_settings(settings, credential=options.get("credential"),
                                   client_options=options.get("client_options"))

    def progress(self, options):
        """Progress bars (terminal) or lines (logs) on stdout; none with --verbosity 0."""
        return progress_factory(CommandOutput(self.stdout) if options["verbosity"] >= 1 else None)
