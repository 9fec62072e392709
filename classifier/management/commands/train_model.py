"""manage.py train_model: teach EfficientNet-Lite0 the labels of an export_dataset folder.

    manage.py train_model --data DIR --out DIR [--base PACKAGE] [--version V] [--epochs N]
                          [--seed S] [--name NAME] [--fine-tune-blocks N] [--force]

Writes a model package like build_model's (docs/model-package.md): ImageNet's 1000 labels, then
``species:<slug>`` for every species in the dataset (slugs the encyclopedia does not have are an
error), with its lineage and its evaluation on the dataset's test split in the manifest. Needs
the model-building requirements (the build role); torch is imported only when it runs.
"""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from catmodel.modelbuild.requirements import require_build_modules
from core.commands import PackageVersionCommand

DEFAULT_EPOCHS = 10


class Command(PackageVersionCommand):
    help = "Train a model package on an export_dataset folder (transfer learning)."
    # Reads the encyclopedia (slugs, label owners) but serves nothing: no URL checks needed.
    requires_system_checks = ()

    def add_arguments(self, parser):
        parser.add_argument("--data", type=Path, required=True,
                            help="dataset folder written by manage.py export_dataset")
        parser.add_argument("--out", type=Path, required=True,
                            help="directory to write the package to")
        parser.add_argument("--base", type=Path, default=None,
                            help="package whose backbone to start from (default: build_model's, "
                                 "from the build cache)")
        parser.add_argument("--version", "--model-version", dest="package_version",
                            default=None, help="package version (default: ft-<time>-<dataset "
                                               "sha256 prefix>)")
        parser.add_argument("--name", default=None,
                            help="model name (default: the base package's, so the new model "
                                 "competes for the same aliases)")
        parser.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS,
                            help=f"passes over the training photos (default {DEFAULT_EPOCHS})")
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        parser.add_argument("--fine-tune-blocks", type=int, default=0,
                            help="also train the last N of the 16 blocks (default 0: frozen)")
        parser.add_argument("--threads", type=int, default=None,
                            help="CPU threads (default: the libraries' own choice)")
        parser.add_argument("--force", action="store_true",
                            help="replace an existing package in --out")

    def handle(self, *args, **options):
        if options["epochs"] < 1:
            raise CommandError("--epochs must be at least 1")
        require_build_modules("train_model")
        from catmodel.modelbuild.training.train import TrainingConfig
        from catmodel.modelbuild.training.trained_package import train_package
        from classifier.evaluator import encyclopedia_owners

        verbosity = options["verbosity"]

        def report(message):
            if verbosity >= 1:
                self.stdout.write(f"  {message}")

        config = TrainingConfig(epochs=options["epochs"], seed=options["seed"],
                                fine_tune_blocks=options["fine_tune_blocks"],
                                threads=options["threads"])
        result = train_package(
            options["data"], options["out"], base_dir=options["base"], name=options["name"],
            version=options["package_version"], force=options["force"], config=config,
            owners_of=encyclopedia_owners, check_species=check_species,
            cat_threshold=settings.CAT_THRESHOLD, report=report,
        )
        if verbosity >= 1:
            manifest = result.manifest
            evaluation = manifest.raw["evaluation"]
            self.stdout.write(self.style.SUCCESS(
                f"Trained {manifest.name} {manifest.version} in {result.path} "
                f"({result.seconds:.1f} s): test top-1 {evaluation['top1_accuracy']:.1%} on "
                f"{evaluation['count']} photo(s)"
            ))


def check_species(slugs: list[str]) -> None:
    """Every taught slug must be an encyclopedia entry: its species:<slug> label links to it."""
    from catmodel.modelbuild.errors import ModelBuildError
    from species.models import Species

    known = set(Species.objects.filter(slug__in=slugs).values_list("slug", flat=True))
    unknown = sorted(set(slugs) - known)
    if unknown:
        raise ModelBuildError(f"the dataset labels photos with {', '.join(unknown)}, which "
                              f"{'is' if len(unknown) == 1 else 'are'} not in the encyclopedia: "
                              "add the entry (or relabel the photos) and export again")
