"""The gate in front of ``champion``: a candidate becomes what production runs only if it is not
worse than the current champion on the same data, unless someone forces it (and the alias's
history says so).

    publish_model PACKAGE --alias champion --evaluate DATASET_DIR [--tolerance T] [--force]
    publish_model --promote VERSION --alias champion --evaluate DATASET_DIR ...

Both packages are evaluated by one ``Evaluator`` (package dir, dataset dir -> top-1 accuracy on
the dataset's test split); a store's packages are fetched with fetch_model's verification into a
temporary directory first. The candidate is refused when its accuracy is below the champion's
minus ``tolerance``. Moving ``champion`` without an evaluation needs ``--force`` too: otherwise
leaving out ``--evaluate`` would be a way round the gate. Other aliases have no gate.
"""
from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from classifier.delivery.aliases import read_alias
from classifier.delivery.errors import GateRefused, PackageInvalid
from classifier.delivery.fetch import fetch_model
from classifier.delivery.install import CURRENT
from classifier.delivery.store import CHAMPION, Store

# (package dir, dataset dir) -> top-1 accuracy on the dataset's test split, in [0, 1].
Evaluator = Callable[[Path, Path], float]
TEST_SPLIT = "test"


def top1_accuracy(package_dir: Path, dataset_dir: Path) -> float:
    """Share of the test split's photos whose most probable model label is their label (or
    ``species:<label>``, the labels train_model writes). Reads an export_dataset folder
    (labels.csv: file,label,split). Interim: evaluate_model's function replaces it once the
    training work (issue 14, "train") is on main."""
    from classifier.inference import load_classifier

    rows = _test_rows(Path(dataset_dir))
    classifier = load_classifier(package_dir, threads=1)
    correct = 0
    for file, label in rows:
        best = classifier.classify((Path(dataset_dir) / file).read_bytes(), top_k=1).top[0].label
        correct += best in (label, f"species:{label}")
    return correct / len(rows)


def _test_rows(dataset_dir: Path) -> list[tuple[str, str]]:
    labels = dataset_dir / "labels.csv"
    try:
        with labels.open(newline="") as stream:
            rows = [(row["file"], row["label"]) for row in csv.DictReader(stream)
                    if row.get("split") == TEST_SPLIT]
    except (OSError, KeyError) as exc:
        raise PackageInvalid(f"--evaluate {dataset_dir}: cannot read {labels} ({exc}); give a "
                             "folder written by manage.py export_dataset") from None
    if not rows:
        raise PackageInvalid(f"--evaluate {dataset_dir}: the dataset has no photos in its "
                             f"'{TEST_SPLIT}' split; export more feedback, then try again")
    return rows


@dataclass(frozen=True)
class Gate:
    """What --evaluate and --tolerance ask for."""

    dataset: Path
    tolerance: float = 0.0
    evaluate: Evaluator = top1_accuracy


@dataclass(frozen=True)
class Promotion:
    """A checked move of ``alias``: what it pointed at (and the etag the move is conditional
    on), the evaluation, and whether --force overrode the gate."""

    alias: str
    previous: str | None
    etag: str | None
    evaluation: dict | None = None
    forced: bool = False
    note: str = ""


def check_promotion(store: Store, name: str, version: str, alias: str, *,
                    candidate_dir: Path | None, gate: Gate | None, force: bool) -> Promotion:
    """Read ``alias`` and, for champion, run the gate. GateRefused when the candidate is worse
    than the tolerance allows (or was not evaluated) and ``force`` is off. ``candidate_dir``:
    the package being published; None fetches ``version`` from the store."""
    previous, etag = read_alias(store, name, alias)
    if alias != CHAMPION or previous == version:
        return Promotion(alias, previous, etag)
    if gate is None:
        if not force:
            raise GateRefused(
                f"moving 'champion' of model {name} to {version} needs the gate: pass --evaluate "
                "DATASET_DIR (an export_dataset folder), or --force to promote without an "
                "evaluation (recorded in the history)")
        return Promotion(alias, previous, etag, forced=True,
                         note="promoted without an evaluation (--force)")
    with tempfile.TemporaryDirectory(prefix="catsite-gate-") as work:
        if candidate_dir is None:
            candidate_dir = _fetched(store, name, version, Path(work) / "candidate")
        candidate = gate.evaluate(Path(candidate_dir), gate.dataset)
        champion = None
        if previous is not None:
            champion = gate.evaluate(_fetched(store, name, previous, Path(work) / "champion"),
                                     gate.dataset)
    evaluation = {"dataset": str(gate.dataset), "split": TEST_SPLIT, "metric": "top1_accuracy",
                  "candidate": candidate, "champion": champion, "tolerance": gate.tolerance}
    worse = champion is not None and candidate < champion - gate.tolerance
    if worse and not force:
        raise GateRefused(
            f"candidate {version} has top-1 accuracy {candidate:.4f} on the {TEST_SPLIT} split of "
            f"{gate.dataset}, champion {previous} has {champion:.4f} (tolerance {gate.tolerance:g})"
            f": not promoted; improve the candidate, or pass --force to promote it anyway "
            "(recorded in the history)")
    return Promotion(alias, previous, etag, evaluation=evaluation, forced=worse,
                     note="promoted past the gate with --force" if worse else "")


def _fetched(store: Store, name: str, version: str, dest: Path) -> Path:
    """``version`` from the store, verified as fetch_model verifies it, in ``dest``."""
    fetch_model(store, name, dest, version=version, keep=0)
    return dest / CURRENT
