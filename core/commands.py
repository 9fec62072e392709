"""The base of management commands whose failures are application errors (``AppError``):
the command ends with the error's one-line message and exit status, never a traceback."""
from django.core.management.base import BaseCommand, CommandError

from core.errors import AppError


class AppCommand(BaseCommand):
    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except AppError as exc:
            raise CommandError(exc.message, returncode=getattr(exc, "exit_code", 1)) from None


class PackageVersionCommand(AppCommand):
    """A command whose ``--version`` is a model package's version: it replaces Django's own
    ``--version`` (which only prints Django's version, still shown by ``manage.py version``)."""

    def create_parser(self, prog_name, subcommand, **kwargs):
        kwargs.setdefault("conflict_handler", "resolve")
        return super().create_parser(prog_name, subcommand, **kwargs)
