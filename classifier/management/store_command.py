"""What publish_model and fetch_model share: how they open the store and how they fail."""
from django.conf import settings
from django.core.management.base import CommandError

from catmodel.delivery.checks import PackageLimits
from catmodel.delivery.fetch import FetchRules
from catmodel.delivery.progress import CommandOutput, progress_factory
from catmodel.delivery.store_choice import store_from_settings
from catmodel.inference import BadModelPackage
from catmodel.inference.signatures import load_trusted_keys
from core.commands import PackageVersionCommand


class StoreCommand(PackageVersionCommand):
    """Every DeliveryError ends the command with its one line and exit status."""

    # Neither command needs the database or the URLs (fetch_model runs in an init container).
    requires_system_checks = ()
    # Tests inject an Azure token credential and client options; not command-line options.
    stealth_options = ("credential", "client_options")

    def open_store(self, options):
        return store_from_settings(settings, credential=options.get("credential"),
                                   client_options=options.get("client_options"))

    def trusted_keys(self):
        """MODEL_TRUSTED_KEYS, loaded; a key that cannot be read ends the command."""
        try:
            return load_trusted_keys(settings.MODEL_TRUSTED_KEYS)
        except BadModelPackage as exc:
            raise CommandError(f"MODEL_TRUSTED_KEYS: {exc.message}; fix the path or the key "
                               "file") from None

    def package_limits(self) -> PackageLimits:
        """MODEL_MAX_FILE_BYTES and MODEL_MAX_FILES: a manifest asking for more is refused."""
        return PackageLimits(settings.MODEL_MAX_FILE_BYTES, settings.MODEL_MAX_FILES)

    def fetch_rules(self) -> FetchRules:
        """What every fetch of this command checks: the trusted keys and the limits. The gate
        and compare_models fetch with these too, so an unsigned version is never evaluated
        where production would refuse to load it."""
        return FetchRules(trusted_keys=self.trusted_keys(), limits=self.package_limits())

    def progress(self, options):
        """Progress bars (terminal) or lines (logs) on stdout; none with --verbosity 0."""
        return progress_factory(CommandOutput(self.stdout) if options["verbosity"] >= 1 else None)
