"""manage.py train_model: teach EfficientNet-Lite0 the labels of an export_dataset folder.

    manage.py train_model --data DIR --out DIR [--base PACKAGE] [--version V] [--epochs N]
                          [--seed S] [--name NAME] [--fine-tune-blocks N] [--force]
                          [--device auto|cpu|cuda] [--workers N] [--no-tracking]

Writes a model package like build_model's (docs/model-package.md): ImageNet's 1000 labels, then
``species:<slug>`` for every species in the dataset (slugs the encyclopedia does not have are an
error), with its lineage, its evaluation on the dataset's test split and the reference profile
of drift (the site's answers on that split) in the manifest. Needs
the model-building requirements (the build role); torch is imported only when it runs.

With MLFLOW_TRACKING_URI the training is an MLflow run in MLFLOW_EXPERIMENT_NAME (params,
per-epoch metrics, the evaluation, the confusion matrix, the package), and the manifest names
the run (lineage.mlflow). A server that cannot be reached stops the command before training
(--no-tracking trains without it); a failure later is a warning and the training goes on.
"""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from catmodel.modelbuild.requirements import require_build_modules
from catmodel.tracking import ROLE_TAG
from classifier.tracking import command_run
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
        parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                            help="where the trained layers run (default auto: cuda when "
                                 "PyTorch sees a GPU, else cpu)")
        parser.add_argument("--workers", type=int, default=None,
                            help="processes decoding and augmenting photos (default: one per "
                                 "available CPU; 0: in this process)")
        parser.add_argument("--no-tracking", action="store_true",
                            help="do not log an MLflow run even when MLFLOW_TRACKING_URI is set")
        parser.add_argument("--force", action="store_true",
                            help="replace an existing package in --out")

    def handle(self, *args, **options):
        if options["epochs"] < 1:
            raise CommandError("--epochs must be at least 1")
        if options["workers"] is not None and options["workers"] < 0:
            raise CommandError("--workers must be 0 or more")
        require_build_modules("train_model")
        from catmodel.modelbuild.training.train import TrainingConfig, resolve_device
        from catmodel.modelbuild.training.trained_package import train_package
        from classifier.answer import site_answer_reader
        from classifier.evaluator import encyclopedia_owners

        verbosity = options["verbosity"]

        def report(message):
            if verbosity >= 1:
                self.stdout.write(f"  {message}")

        config = TrainingConfig(epochs=options["epochs"], seed=options["seed"],
                                fine_tune_blocks=options["fine_tune_blocks"],
                                device=resolve_device(options["device"]),
                                threads=options["threads"], workers=options["workers"])
        run = command_run(skip=options["no_tracking"], run_name="train_model",
                          tags={ROLE_TAG: "training"}, report=report,
                          warn=lambda line: self.stderr.write(line))
        try:
            result = train_package(
                options["data"], options["out"], base_dir=options["base"], name=options["name"],
                version=options["package_version"], force=options["force"], config=config,
                owners_of=encyclopedia_owners, check_species=check_species,
                cat_threshold=settings.CAT_THRESHOLD, site_answer_of=site_answer_reader,
                report=report, run=run,
            )
        except BaseException:
            run.end(failed=True)
            raise
        run.end()
        if verbosity >= 1:
            manifest = result.manifest
            evaluation = manifest.raw["evaluation"]
            self.stdout.write(self.style.SUCCESS(
                f"Trained {manifest.name} {manifest.version} in {result.path} "
                f"({result.seconds:.1f} s): test top-1 {evaluation['top1_accuracy']:.1%} on "
                f"{evaluation['count']} photo(s)"
                + (f"; MLflow run {run.run_id}" if run.run_id else "")
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
