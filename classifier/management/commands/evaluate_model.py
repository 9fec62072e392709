"""manage.py evaluate_model: score a model package on a dataset split.

    manage.py evaluate_model PACKAGE --data DIR [--split test] [--json FILE] [--plot FILE]
                             [--no-tracking] [--no-record]

PACKAGE is any package directory: a build, a trained candidate, an installed version
(MODEL_DIR/current). Prints top-1 and top-5 accuracy, precision and recall per label and of
"not a cat", and the expected calibration error; --json writes them all (with the confusion
matrix), --plot draws the confusion matrix as a PNG. Labels are read as the site reads them
(the encyclopedia's label owners), so two models are compared on the same terms.

With MLFLOW_TRACKING_URI the evaluation is an MLflow run in MLFLOW_EXPERIMENT_NAME (the package
and dataset as params, the numbers as metrics, evaluation/<split>.json and the confusion matrix
as artifacts), tagged catsite.training_run_id with the run that trained the package when its
manifest names one.

It also records the split's reference profile for drift (the site's answers and the histogram
of the top answer's probability: catmodel/evaluation/drift.py) in PACKAGE's manifest, replacing
one there, so evaluate before publishing; nothing else in the package changes. A signed package
(model.sig, which covers the manifest) is left untouched: the profile is then only in --json.
--no-record leaves any package untouched.
"""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catmodel.evaluation.dataset import SPLITS
from catmodel.evaluation.text import percent_text
from catmodel.inference import BadModelPackage, ModelUnavailable
from catmodel.inference.package import MANIFEST, MODEL_FILE, read_manifest
from catmodel.tracking import NO_RUN, ROLE_TAG, TRAINING_RUN_TAG, Run, training_run
from classifier.management.evaluation_files import write_files
from classifier.tracking import command_run
from core.errors import AppError


class Command(BaseCommand):
    help = "Evaluate a model package on a dataset split (accuracy, precision, recall, ECE)."
    requires_system_checks = ()

    def add_arguments(self, parser):
        parser.add_argument("package", type=Path, help="model package directory")
        parser.add_argument("--data", type=Path, required=True,
                            help="dataset folder written by manage.py export_dataset")
        parser.add_argument("--split", choices=SPLITS, default="test",
                            help="which split to evaluate (default test)")
        parser.add_argument("--json", type=Path, default=None, help="write the numbers here")
        parser.add_argument("--plot", type=Path, default=None,
                            help="write the confusion matrix here as a PNG")
        parser.add_argument("--no-tracking", action="store_true",
                            help="do not log an MLflow run even when MLFLOW_TRACKING_URI is set")
        parser.add_argument("--no-record", action="store_true",
                            help="do not record the reference profile in the package's manifest")

    def handle(self, *args, **options):
        from classifier.evaluator import evaluate_package

        self.verbosity = options["verbosity"]
        run = NO_RUN
        try:
            run = self._run(options)
            evaluation = evaluate_package(options["package"], options["data"], options["split"])
        except ModelUnavailable:
            run.end(failed=True)
            raise CommandError(f"no model package at {options['package']}: give a package "
                               "directory (build_model --out, or MODEL_DIR/current)") from None
        except AppError as exc:
            run.end(failed=True)
            raise CommandError(exc.message) from None
        except BaseException:
            run.end(failed=True)
            raise
        _log(run, evaluation, options["package"], options["data"])
        run.end()
        self.stdout.write(evaluation.summary())
        for label, numbers in evaluation.per_label.items():
            self.stdout.write(f"  {label}: precision {percent_text(numbers['precision'])}, recall "
                              f"{percent_text(numbers['recall'])} ({numbers['support']} photo(s))")
        if not options["no_record"]:
            self._record(options["package"], evaluation.reference_profile)
        write_files(self.stdout, options, evaluation.as_dict(),
                    lambda path: _plot(evaluation, path))

    def _record(self, package: Path, reference: dict) -> None:
        from catmodel.evaluation.drift import PROFILE_KEY, PackageSigned, record_profile

        try:
            manifest = record_profile(package, reference)
        except PackageSigned as exc:
            self.stderr.write(f"Not recording the reference profile: {exc}; evaluate the package "
                              "before publish_model --signing-key signs it (the profile is in "
                              "--json)")
            return
        except OSError as exc:
            self.stderr.write(f"Not recording the reference profile: {package / MANIFEST} "
                              f"is not writable ({exc.strerror or exc}); the profile is in --json")
            return
        if self.verbosity >= 1:
            self.stdout.write(f"Recorded the reference profile ({reference['split']} split, "
                              f"{reference['count']} photo(s)) as {PROFILE_KEY} in {manifest}")

    def _run(self, options) -> Run:
        """The evaluation's MLflow run, tagged with the package and its training run."""
        tags = {ROLE_TAG: "evaluation"}
        run_name = "evaluate_model"
        try:
            manifest = read_manifest(options["package"])
        except (BadModelPackage, ModelUnavailable):
            manifest = None  # evaluate_package says what is wrong with it
        if manifest is not None:
            run_name = f"evaluate {manifest.name} {manifest.version} ({options['split']})"
            tags.update({"catsite.model": manifest.name,
                         "catsite.model_version": manifest.version})
            trained_in = training_run(manifest.raw)
            if trained_in is not None:
                tags[TRAINING_RUN_TAG] = trained_in["run_id"]
        return command_run(skip=options["no_tracking"], run_name=run_name, tags=tags,
                           report=lambda line: self.stdout.write(line)
                           if options["verbosity"] >= 1 else None,
                           warn=lambda line: self.stderr.write(line))


def _plot(evaluation, path: Path) -> None:
    from catmodel.evaluation.plot import plot_confusion  # matplotlib: only when asked for

    plot_confusion(evaluation, path)


def _log(run: Run, evaluation, package_dir, data_dir) -> None:
    """The evaluation's params (package, dataset, split), metrics and artifacts."""
    if run.run_id is None:
        return
    from catmodel.evaluation import read_dataset
    from catmodel.tracking import dataset_params, log_evaluation

    manifest = read_manifest(package_dir)
    run.log_params({"model.name": manifest.name, "model.version": manifest.version,
                    "model.model_sha256": manifest.files[MODEL_FILE].sha256,
                    "split": evaluation.dataset["split"],
                    "cat_threshold": evaluation.cat_threshold,
                    **dataset_params(read_dataset(data_dir).lineage())})
    log_evaluation(run, evaluation)
