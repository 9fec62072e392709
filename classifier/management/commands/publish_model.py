"""manage.py publish_model: upload a model package to the model store and move its aliases.

    manage.py publish_model PACKAGE_DIR [--version V] [--alias champion|challenger]
                            [--evaluate DATASET_DIR] [--tolerance T] [--force]
                            [--signing-key PATH]
    manage.py publish_model --promote VERSION --alias ALIAS [--name NAME]
                            [--evaluate DATASET_DIR] [--tolerance T] [--force]

Uploads the package's files, then manifest.json, under <prefix>/<name>/<version>/ of the store
that MODEL_STORE names (an Azure container, created when missing, an MLflow registry, or a local
directory), then points <name>/latest (and the --alias) at the version with a conditional
write: if another publisher moved it meanwhile, this one fails loudly instead of overwriting
it. With --signing-key (or MODEL_SIGNING_KEY) the published copy is signed: model.sig, uploaded
before the manifest. ``--promote`` points an alias at a version already published. Moving
``champion`` goes through the gate (catmodel/delivery/gate.py): ``--evaluate`` compares the
candidate with the current champion on the dataset's test split and refuses a worse one,
printing the comparison ``compare_models`` prints and its reason in one line; ``--force``
overrides, and every move is recorded in the alias's history in the store.
"""
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from catmodel.delivery.gate import Gate
from catmodel.delivery.publish import promote, publish_package
from catmodel.delivery.store_base import ALIASES, CHAMPION
from catmodel.inference.package import SIGNATURE_FILE
from classifier import evaluator
from classifier.management.store_command import StoreCommand


class Command(StoreCommand):
    help = ("Publish a model package to the model store (MODEL_STORE) and point 'latest' (and "
            "--alias) at it, or point an alias at a published version (--promote).")

    def add_arguments(self, parser):
        parser.add_argument("package_dir", type=Path, nargs="?", default=None,
                            help="the package directory: model.onnx + manifest.json")
        parser.add_argument("--version", dest="package_version", default=None,
                            help="publish under this version instead of the manifest's")
        parser.add_argument("--alias", choices=ALIASES, default=None,
                            help="also point this alias at the version (champion: through the "
                                 "gate)")
        parser.add_argument("--promote", metavar="VERSION", default=None,
                            help="point --alias at this already published version instead of "
                                 "publishing a package")
        parser.add_argument("--name", default=None,
                            help="model name for --promote (default: MODEL_NAME)")
        parser.add_argument("--evaluate", metavar="DATASET_DIR", type=Path, default=None,
                            help="the gate: evaluate the candidate and the champion on this "
                                 "export_dataset folder's test split; refuse a worse candidate")
        parser.add_argument("--tolerance", type=float, default=0.0,
                            help="top-1 accuracy the candidate may lose against the champion "
                                 "(default 0)")
        parser.add_argument("--force", action="store_true",
                            help="replace a version that is already published; promote past the "
                                 "gate (recorded in the alias's history)")
        parser.add_argument("--signing-key", type=Path, default=None,
                            help="EC private key (PEM) to sign the package with "
                                 "(default: MODEL_SIGNING_KEY)")

    def handle(self, *args, **options):
        alias, package_dir = options["alias"], options["package_dir"]
        if (package_dir is None) == (options["promote"] is None):
            raise CommandError("give either a PACKAGE_DIR to publish or --promote VERSION")
        if options["promote"] is not None and alias is None:
            raise CommandError("--promote needs --alias: which alias to point at the version")
        if options["evaluate"] is not None and alias != CHAMPION:
            raise CommandError("--evaluate gates a move of 'champion': add --alias champion")
        if not 0 <= options["tolerance"] <= 1:
            raise CommandError("--tolerance is a top-1 accuracy difference between 0 and 1")
        gate = None
        if options["evaluate"] is not None:
            gate = Gate(dataset=options["evaluate"], evaluate=evaluator.predict_package,
                        tolerance=options["tolerance"], report=self._reporter(options),
                        rules=self.fetch_rules())
        store = self.open_store(options)
        if options["promote"] is not None:
            name = options["name"] or settings.MODEL_NAME
            move = promote(store, name, options["promote"], alias, gate=gate,
                           force=options["force"])
            if move is None:
                self._say(options, f"'{alias}' of {name} already points at {options['promote']} "
                                   f"in {store.description}; nothing changed")
            else:
                self._say(options, f"{store.description}: {self._describe(move)}")
            return
        signing_key = options["signing_key"] or settings.MODEL_SIGNING_KEY or None
        result = publish_package(store, package_dir, version=options["package_version"],
                                 force=options["force"], progress=self.progress(options),
                                 alias=alias, gate=gate, signing_key=signing_key)
        moved = "; ".join(self._describe(move) for move in result.moves)
        signed = "signed" if SIGNATURE_FILE in result.uploaded else "unsigned"
        self._say(options, f"Published {result.name} {result.version} ({signed}) to "
                           f"{store.description}; {moved}")

    @staticmethod
    def _describe(move) -> str:
        was = f" (was {move.from_version})" if move.from_version else ""
        text = f"{move.alias} is now {move.to_version}{was}"
        if move.evaluation:
            champion = move.evaluation["champion"]
            text += (f", top-1 accuracy {move.evaluation['candidate']:.4f}"
                     + (f" vs {champion:.4f}" if champion is not None else " (no champion yet)"))
        if move.forced:
            text += f", forced: {move.note}"
        return text

    def _reporter(self, options):
        """Where the gate prints its comparison and decision (as compare_models prints it)."""
        return self.stdout.write if options["verbosity"] >= 1 else None

    def _say(self, options, text: str) -> None:
        if options["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS(text))
