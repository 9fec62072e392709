"""manage.py fetch_model: download a published model package, verify it, install it atomically.

    manage.py fetch_model [--version latest|champion|challenger|V] [--dest DIR] [--keep N]
                          [--name NAME] [--allow-downgrade]

Downloads into a temporary directory beside DIR (default MODEL_DIR), checks every size and
sha256 against the manifest and loads the package as the app would, then switches DIR/current
to the new version with one rename; the previous versions stay for rollback (MODEL_KEEP_VERSIONS
or --keep). When the version is already installed and verified it downloads nothing. On any
failure it prints one line saying what to do, exits 1, and leaves the installed model alone.
The running app picks the new version up on its next start: roll out by restarting the pods,
roll back with ``fetch_model --version <previous>`` (no download while it is still installed).
With MODEL_TRUSTED_KEYS set, the version must be signed by one of those keys (model.sig): an
unsigned version, one signed by another key, or files that differ from what was signed are
refused before anything is installed. A manifest declaring more than MODEL_MAX_FILES files or a
file over MODEL_MAX_FILE_BYTES is refused before any file is downloaded.
Rollback protection (catmodel/delivery/rollback.py): a version below MODEL_MIN_VERSION, or an
alias that points below the installed version, is refused unless --allow-downgrade.
"""
from pathlib import Path

from django.conf import settings

from catmodel.delivery.fetch import fetch_model
from classifier.management.store_command import StoreCommand


class Command(StoreCommand):
    help = "Fetch a model package from the model store, verify it and install it in MODEL_DIR."

    def add_arguments(self, parser):
        parser.add_argument("--version", dest="package_version", default="latest",
                            help="an alias ('latest', the default; 'champion', what production "
                                 "runs; 'challenger') or a published version")
        parser.add_argument("--dest", type=Path, default=None,
                            help="model directory to install into (default: MODEL_DIR)")
        parser.add_argument("--keep", type=int, default=None,
                            help="installed versions to keep besides the current one "
                                 "(default: MODEL_KEEP_VERSIONS)")
        parser.add_argument("--name", default=None, help="model name (default: MODEL_NAME)")
        parser.add_argument("--allow-downgrade", action="store_true",
                            help="install even below MODEL_MIN_VERSION, or an alias that points "
                                 "below the installed version (a deliberate rollback)")

    def handle(self, *args, **options):
        keep = settings.MODEL_KEEP_VERSIONS if options["keep"] is None else options["keep"]
        result = fetch_model(
            self.open_store(options), options["name"] or settings.MODEL_NAME,
            options["dest"] or settings.MODEL_DIR, version=options["package_version"],
            keep=keep, progress=self.progress(options), trusted_keys=self.trusted_keys(),
            limits=self.package_limits(),
            min_version=settings.MODEL_MIN_VERSION, allow_downgrade=options["allow_downgrade"],
        )
        if options["verbosity"] < 1:
            return
        if result.downloaded:
            what = f"downloaded {len(result.downloaded)} files ({result.downloaded_bytes} bytes)"
        else:
            what = "already installed and verified, nothing downloaded"
        switch = (f"current: {result.previous or 'nothing'} -> {result.version}"
                  if result.switched else f"current is {result.version}")
        removed = f"; removed old versions {', '.join(result.removed)}" if result.removed else ""
        self.stdout.write(self.style.SUCCESS(
            f"{result.name} {result.version}: {what}; {switch}{removed}"
        ))
