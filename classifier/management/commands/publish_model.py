"""manage.py publish_model: upload a model package to the model store and move ``latest``.

    manage.py publish_model PACKAGE_DIR [--version V] [--force] [--signing-key PATH]

Uploads model.onnx, then manifest.json, under <prefix>/<name>/<version>/ of the store that
MODEL_STORE names (an Azure container, created when missing, or a local directory), then points
<name>/latest at the version with a conditional write: if another publisher moved ``latest``
meanwhile, this one fails loudly instead of overwriting it. With --signing-key (or
MODEL_SIGNING_KEY) the published copy is signed: model.sig, uploaded before the manifest.
"""
from pathlib import Path

from django.conf import settings

from classifier.delivery.command import StoreCommand
from classifier.delivery.publish import publish_package
from classifier.inference.package import SIGNATURE_FILE


class Command(StoreCommand):
    help = "Publish a model package to the model store (MODEL_STORE) and point 'latest' at it."

    def add_arguments(self, parser):
        parser.add_argument("package_dir", type=Path,
                            help="the package directory: model.onnx + manifest.json")
        parser.add_argument("--version", dest="package_version", default=None,
                            help="publish under this version instead of the manifest's")
        parser.add_argument("--force", action="store_true",
                            help="replace a version that is already published")
        parser.add_argument("--signing-key", type=Path, default=None,
                            help="EC private key (PEM) to sign the package with "
                                 "(default: MODEL_SIGNING_KEY)")

    def handle(self, *args, **options):
        store = self.open_store(options)
        signing_key = options["signing_key"] or settings.MODEL_SIGNING_KEY or None
        result = publish_package(store, options["package_dir"], version=options["package_version"],
                                 force=options["force"], progress=self.progress(options),
                                 signing_key=signing_key)
        if options["verbosity"] >= 1:
            moved = f" (was {result.previous_latest})" if result.previous_latest else ""
            signed = "signed" if SIGNATURE_FILE in result.uploaded else "unsigned"
            self.stdout.write(self.style.SUCCESS(
                f"Published {result.name} {result.version} ({signed}) to {store.description}; "
                f"latest is now {result.version}{moved}"
            ))
