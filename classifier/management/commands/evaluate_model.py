"""manage.py evaluate_model: score a model package on a dataset split.

    manage.py evaluate_model PACKAGE --data DIR [--split test] [--json FILE] [--plot FILE]

PACKAGE is any package directory: a build, a trained candidate, an installed version
(MODEL_DIR/current). Prints top-1 and top-5 accuracy, precision and recall per label and of
"not a cat", and the expected calibration error; --json writes them all (with the confusion
matrix), --plot draws the confusion matrix as a PNG. Labels are read as the site reads them
(the encyclopedia's label owners), so two models are compared on the same terms.
"""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catmodel.evaluation.dataset import SPLITS
from catmodel.evaluation.text import percent_text
from catmodel.inference import ModelUnavailable
from classifier.management.evaluation_files import write_files
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

    def handle(self, *args, **options):
        from classifier.evaluator import evaluate_package

        try:
            evaluation = evaluate_package(options["package"], options["data"], options["split"])
        except ModelUnavailable:
            raise CommandError(f"no model package at {options['package']}: give a package "
                               "directory (build_model --out, or MODEL_DIR/current)") from None
        except AppError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(evaluation.summary())
        for label, numbers in evaluation.per_label.items():
            self.stdout.write(f"  {label}: precision {percent_text(numbers['precision'])}, recall "
                              f"{percent_text(numbers['recall'])} ({numbers['support']} photo(s))")
        write_files(self.stdout, options, evaluation.as_dict(),
                    lambda path: _plot(evaluation, path))


def _plot(evaluation, path: Path) -> None:
    from catmodel.evaluation.plot import plot_confusion  # matplotlib: only when asked for

    plot_confusion(evaluation, path)
