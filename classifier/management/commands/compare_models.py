"""manage.py compare_models: two model packages side by side on the same dataset split.

    manage.py compare_models A B --data DIR [--split test] [--json FILE] [--plot FILE]

A and B are package directories (a build, a trained candidate, MODEL_DIR/current), or
``store:REF`` for a version or an alias (latest, champion, challenger) of MODEL_NAME in the
model store (MODEL_STORE), fetched into a temporary directory with fetch_model's checks (hashes,
the signature by one of MODEL_TRUSTED_KEYS when set, the MODEL_MAX_* limits).
Each package answers every photo of the split once (default test); the comparison is counted
from those answers (catmodel/evaluation/compare.py): top-1 and top-5 accuracy of each, per label
the photos, how many each gets right, precision and recall; the photos only A gets right and
only B gets right (McNemar's exact test on those two counts). --json writes all of it with the
disagreeing photos' file names, --plot draws accuracy per label of A beside B as a PNG. The
champion gate (publish_model --alias champion --evaluate) prints the same table when it decides.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import CommandError

from catmodel.delivery.gate import fetched_package
from catmodel.evaluation.compare import compare
from catmodel.evaluation.dataset import SPLITS, read_dataset
from catmodel.evaluation.evaluate import split_examples
from catmodel.inference import BadModelPackage, ModelUnavailable
from classifier.management.evaluation_files import write_files
from classifier.management.store_command import StoreCommand

STORE_PREFIX = "store:"


class Command(StoreCommand):
    help = ("Compare two model packages on the same dataset split: accuracy overall and per "
            "label, what each gets right that the other does not, and a plot.")

    def add_arguments(self, parser):
        for side in ("a", "b"):
            parser.add_argument(side, help=f"package {side.upper()}: a package directory, or "
                                           f"{STORE_PREFIX}VERSION|ALIAS in MODEL_STORE")
        parser.add_argument("--data", type=Path, required=True,
                            help="dataset folder written by manage.py export_dataset")
        parser.add_argument("--split", choices=SPLITS, default="test",
                            help="which split both packages answer (default test)")
        parser.add_argument("--json", type=Path, default=None,
                            help="write the comparison here (JSON, disagreeing photos listed)")
        parser.add_argument("--plot", type=Path, default=None,
                            help="write accuracy per label, A beside B, here as a PNG")

    def handle(self, *args, **options):
        from classifier.evaluator import predict_package

        data, split = options["data"], options["split"]
        split_examples(read_dataset(data), split)  # the data's errors come before any model's
        with tempfile.TemporaryDirectory(prefix="catsite-compare-") as work:
            predictions = {}
            for side in ("a", "b"):
                package = self._package(options, options[side], Path(work) / side)
                if options["verbosity"] >= 2:
                    self.stdout.write(f"{side.upper()}: evaluating {package} on {data}")
                try:
                    predictions[side] = predict_package(package, data, split)
                except BadModelPackage as exc:
                    raise CommandError(f"{side.upper()} ({options[side]}): {exc.message}"
                                       ) from None
                except ModelUnavailable:
                    raise CommandError(
                        f"{side.upper()}: no model package at {options[side]}: give a package "
                        f"directory (build_model --out, train_model --out, MODEL_DIR/current) "
                        f"or {STORE_PREFIX}VERSION") from None
        comparison = compare(predictions["a"], predictions["b"], a_name=options["a"],
                             b_name=options["b"], root=str(data))
        self.stdout.write(comparison.table())
        write_files(self.stdout, options, comparison.as_dict(),
                    lambda path: _plot(comparison, path))

    def _package(self, options, reference: str, dest: Path) -> Path:
        """A package directory: ``reference`` itself, or fetched from the store into ``dest``."""
        if not reference.startswith(STORE_PREFIX):
            return Path(reference)
        version = reference[len(STORE_PREFIX):]
        if not version:
            raise CommandError(f"{reference}: name a version or an alias after {STORE_PREFIX} "
                               f"(e.g. {STORE_PREFIX}champion)")
        return fetched_package(self.open_store(options), settings.MODEL_NAME, version, dest,
                               self.fetch_rules())


def _plot(comparison, path: Path) -> None:
    from catmodel.evaluation.plot import plot_comparison  # matplotlib: only when asked for

    plot_comparison(comparison, path)
