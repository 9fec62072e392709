"""manage.py publish_model: upload a model package to the model store and move ``latest``.

    manage.py publish_model PACKAGE_DIR [--version V] [--force]

Uploads model.onnx, then manifest.json, under <prefix>/<name>/<version>/ of the store that
MODEL_STORE names (an Azure container, created when missing, or a local directory), then points
<name>/latest at the version with a conditional write: if another publisher moved ``latest``
meanwhile, this one fails loudly instead of overwriting it.
"""
from pathlib import Path

from classifier.delivery.command import StoreCommand
from classifier.delivery.publish import publish_package


class Command(StoreCommand):
    help = "Publish a model package to the model store (MODEL_STORE) and point 'latest' at it."

    def add_arguments(self, parser):
        parser.add_argument("package_dir", type=Path,
                            help="the package directory: model.onnx + manifest.json")
        parser.add_argument("--version", dest="package_version", default=None,
                            help="publish under this version instead of the manifest's")
        parser.add_argument("--force", action="store_true",
                            help="replace a version that is already published")

    def handle(self, *args, **options):
        store = self.open_store(options)
        result = publish_package(store, options["package_dir"], version=options["package_version"],
                                 force=options["force"], progress=self.progress(options))
        if options["verbosity"] >= 1:
            moved = f" (was {result.previous_latest})" if result.previous_latest else ""
            self.stdout.write(self.style.SUCCESS(
                f"Published {result.name} {result.version} to {store.description}; "
                f"latest is now {result.version}{moved}"
            ))
