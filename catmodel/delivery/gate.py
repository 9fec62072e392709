"""The gate in front of ``champion``: a candidate becomes what production runs only if it is not
worse than the current champion on the same data, unless someone forces it (and the alias's
history says so).

    publish_model PACKAGE --alias champion --evaluate DATASET_DIR [--tolerance T] [--force]
    publish_model --promote VERSION --alias champion --evaluate DATASET_DIR ...

Both packages are evaluated by one ``Evaluator`` (package dir, dataset dir -> top-1 accuracy on
the dataset's test split), passed in by the caller: publish_model passes evaluate_model's
(classifier/evaluator.py: it knows the encyclopedia, which this library must not); a store's
packages are fetched with fetch_model's verification into a temporary directory first. The
candidate is refused when its accuracy is below the champion's minus ``tolerance``. Moving
``champion`` without an evaluation needs ``--force`` too: otherwise leaving out ``--evaluate``
would be a way round the gate. Other aliases have no gate.
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from catmodel.delivery.aliases import read_alias
from catmodel.delivery.errors import EvaluationFailed, GateRefused
from catmodel.delivery.fetch import fetch_model
from catmodel.delivery.install import CURRENT
from catmodel.delivery.store_base import CHAMPION, Store
from catmodel.errors import AppError

# (package dir, dataset dir) -> top-1 accuracy on the dataset's test split, in [0, 1].
Evaluator = Callable[[Path, Path], float]
TEST_SPLIT = "test"


@dataclass(frozen=True)
class Gate:
    """What --evaluate and --tolerance ask for, and the evaluator that scores both packages."""

    dataset: Path
    evaluate: Evaluator
    tolerance: float = 0.0


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
        candidate = _evaluate(gate, Path(candidate_dir), f"candidate {version}")
        champion = None
        if previous is not None:
            champion = _evaluate(gate, _fetched(store, name, previous, Path(work) / "champion"),
                                 f"champion {previous}")
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


def _evaluate(gate: Gate, package_dir: Path, what: str) -> float:
    try:
        return gate.evaluate(package_dir, gate.dataset)
    except AppError as exc:  # a dataset that cannot be read, a package that cannot be loaded
        if isinstance(exc, EvaluationFailed):
            raise
        raise EvaluationFailed(f"evaluating the {what} on {gate.dataset} failed: {exc.message}"
                               ) from None


def _fetched(store: Store, name: str, version: str, dest: Path) -> Path:
    """``version`` from the store, verified as fetch_model verifies it, in ``dest``."""
    fetch_model(store, name, dest, version=version, keep=0)
    return dest / CURRENT
