"""The gate in front of ``champion``: a candidate becomes what production runs only if it is not
worse than the current champion on the same data, unless someone forces it (and the alias's
history says so).

    publish_model PACKAGE --alias champion --evaluate DATASET_DIR [--tolerance T] [--force]
    publish_model --promote VERSION --alias champion --evaluate DATASET_DIR ...

Both packages are evaluated by one ``Evaluator`` (package dir, dataset dir, split -> the
package's answer to every photo of the split), passed in by the caller: publish_model passes
evaluate_model's (classifier/evaluator.py: it knows the encyclopedia, which this library must
not); a store's packages are fetched with fetch_model's verification into a temporary directory
first. The candidate is refused when its top-1 accuracy on the test split is below the
champion's minus ``tolerance``. Moving ``champion`` without an evaluation needs ``--force`` too:
otherwise leaving out ``--evaluate`` would be a way round the gate. Other aliases have no gate.

When it decides, the gate hands ``Gate.report`` the comparison of the champion (A) and the
candidate (B) that ``manage.py compare_models`` prints (catmodel/evaluation/compare.py), then
its decision in one line that refers to it; a refusal's line is also GateRefused's message.
"""
from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from catmodel.delivery.aliases import read_alias
from catmodel.delivery.errors import EvaluationFailed, GateRefused
from catmodel.delivery.fetch import FetchRules, fetch_model
from catmodel.delivery.install import CURRENT
from catmodel.delivery.store_base import CHAMPION, Store
from catmodel.errors import AppError
from catmodel.evaluation.compare import Comparison, compare
from catmodel.evaluation.evaluate import Predictions, summarise

# (package dir, dataset dir, split) -> the package's answers to the split's photos.
Evaluator = Callable[[Path, Path, str], Predictions]
TEST_SPLIT = "test"
FORCED_PAST_THE_GATE = "promoted past the gate with --force"


@dataclass(frozen=True)
class Gate:
    """What --evaluate and --tolerance ask for, and the evaluator that scores both packages."""

    dataset: Path
    evaluate: Evaluator
    tolerance: float = 0.0
    report: Callable[[str], None] | None = None  # where the comparison and the decision go
    # How the store's packages are fetched for evaluation: with the deployment's trusted keys,
    # a version production would refuse to load is never evaluated (nor promoted) here.
    rules: FetchRules = FetchRules()


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
            candidate_dir = fetched_package(store, name, version, Path(work) / "candidate",
                                            gate.rules)
        candidate = _evaluate(gate, Path(candidate_dir), f"candidate {version}")
        champion = None
        if previous is not None:
            champion = _evaluate(gate, fetched_package(store, name, previous,
                                                       Path(work) / "champion", gate.rules),
                                 f"champion {previous}")
    candidate_top1 = summarise(candidate).top1_accuracy
    if champion is None:
        _report(gate, f"gate: no champion of model {name} yet: candidate {version} is promoted "
                      f"with top-1 accuracy {candidate_top1:.4f} on the {TEST_SPLIT} split of "
                      f"{gate.dataset} (nothing to compare with)")
        return Promotion(alias, previous, etag, evaluation=_record(gate, candidate_top1, None))
    comparison = compare(champion, candidate, a_name=f"champion {previous}",
                         b_name=f"candidate {version}", root=str(gate.dataset))
    champion_top1 = comparison.a["top1_accuracy"]
    _report(gate, comparison.table())
    worse = candidate_top1 < champion_top1 - gate.tolerance
    reason = _decision(comparison, version, previous, gate.dataset, gate.tolerance, worse)
    if worse and not force:
        _report(gate, "")
        raise GateRefused(f"{reason}: not promoted; improve the candidate, or pass --force to "
                          "promote it anyway (recorded in the history)")
    _report(gate, "")
    note = FORCED_PAST_THE_GATE if worse else ""
    _report(gate, f"gate: {reason}: {note or 'promoted'}")
    return Promotion(alias, previous, etag,
                     evaluation=_record(gate, candidate_top1, champion_top1), forced=worse,
                     note=note)


def _decision(comparison: Comparison, version: str, previous: str | None, dataset,
              tolerance: float, worse: bool) -> str:
    """The gate's reason in one line, in the terms of the comparison it printed (A: the
    champion, B: the candidate)."""
    overall = comparison.overall
    candidate, champion = comparison.b["top1_accuracy"], comparison.a["top1_accuracy"]
    relation = "below" if worse else "not below"
    return (f"candidate {version} (B) has top-1 accuracy {candidate:.4f} on the {TEST_SPLIT} "
            f"split of {dataset}, champion {previous} (A) has {champion:.4f} (tolerance "
            f"{tolerance:g}), {relation} the champion's minus the tolerance; B alone gets "
            f"{overall['b_only']} photo(s) right, A alone {overall['a_only']} (McNemar p = "
            f"{overall['mcnemar_p_value']:.3g})")


def _record(gate: Gate, candidate: float, champion: float | None) -> dict:
    """What the alias's history records of the evaluation."""
    return {"dataset": str(gate.dataset), "split": TEST_SPLIT, "metric": "top1_accuracy",
            "candidate": candidate, "champion": champion, "tolerance": gate.tolerance}


def _report(gate: Gate, text: str) -> None:
    if gate.report is not None:
        gate.report(text)


def _evaluate(gate: Gate, package_dir: Path, what: str) -> Predictions:
    try:
        return gate.evaluate(package_dir, gate.dataset, TEST_SPLIT)
    except AppError as exc:  # a dataset that cannot be read, a package that cannot be loaded
        if isinstance(exc, EvaluationFailed):
            raise
        raise EvaluationFailed(f"evaluating the {what} on {gate.dataset} failed: {exc.message}"
                               ) from None


def fetched_package(store: Store, name: str, version: str, dest: Path,
                    rules: FetchRules) -> Path:
    """``version`` (or an alias) from the store, installed in ``dest`` after fetch_model's checks
    (hashes, and ``rules``: the signature by a trusted key, the file limits): the package
    directory. Not the rollback rules: evaluating an older version is no downgrade."""
    fetch_model(store, name, dest, version=version, keep=0, trusted_keys=rules.trusted_keys,
                limits=rules.limits)
    return dest / CURRENT
