"""train_model's package: train, then write it as build_model writes its package (staged, ONNX
exported and parity-checked against PyTorch, verified), with the lineage in the manifest.

Manifest keys beyond build_model's (docs/model-package.md):
    lineage.base       the package whose backbone was used: name, version, model.onnx sha256
    lineage.dataset    the dataset's format version, sha256, creation time and counts
    lineage.training   architecture, parameters and seed, and the per-epoch history
    lineage.mlflow     with experiment tracking: the MLflow run (run_id, experiment_id,
                       experiment) that holds the training's params, metrics and artifacts
    evaluation         catmodel.evaluation's numbers on the dataset's test split
    reference_profile  the site's answers on the test split, what drift compares live answers
                       with (catmodel/evaluation/drift.py); only with ``site_answer_of``

With a tracking ``run`` (catmodel/tracking.py) the params go to it before training, each
epoch's metrics as the epoch ends, the evaluation and its confusion matrix before the package
is moved into place, and the finished package last; the run id is in the manifest from the
start, so what is later hashed and signed already names its run.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from catmodel.evaluation import evaluate_classifier, read_dataset, species_label_owners
from catmodel.evaluation.answers import DEFAULT_CAT_THRESHOLD
from catmodel.evaluation.drift import PROFILE_KEY
from catmodel.evaluation.evaluate import SiteAnswer
from catmodel.inference import BadModelPackage, ModelUnavailable, load_classifier, softmax
from catmodel.inference.package import FORMAT, MODEL_FILE, InputSpec, Manifest, verify
from catmodel.tracking import (
    NO_RUN,
    RUN_RECORD,
    Run,
    epoch_metrics,
    log_evaluation,
    training_params,
)

from .. import build
from ..efficientnet_lite import pretrained_weights_path
from ..errors import BuildCheckFailed, ModelBuildError
from ..labels import imagenet_labels
from ..samples import CAT_CLASSES
from .data import check_dataset, targets
from .train import TrainingConfig, torch_threads, train

Owners = Mapping[str, str | None]
NOT_A_CAT_PHOTO = "skimage.data.coffee"
ARCHITECTURE = ("EfficientNet-Lite0 (ImageNet weights) with ImageNet's 1000-class classifier "
                "kept and a new linear head on the same pooled features; logits = ImageNet's "
                "1000 then one species:<slug> per taught label; one softmax over all")


def default_owners(model_labels: list[str]) -> dict[str, str | None]:
    """Without the encyclopedia: ImageNet's 13 cat classes name groups, species:<slug> its entry."""
    labels = imagenet_labels()
    return {**{labels[i]: None for i in CAT_CLASSES}, **species_label_owners(model_labels)}


def train_package(data_dir, out_dir, *, base_dir=None, name: str | None = None,
                  version: str | None = None, force: bool = False,
                  config: TrainingConfig | None = None,
                  owners_of: Callable[[list[str]], Owners] = default_owners,
                  check_species: Callable[[list[str]], None] = lambda slugs: None,
                  cat_threshold: float = DEFAULT_CAT_THRESHOLD,
                  site_answer_of: Callable[[list[str]], SiteAnswer] | None = None,
                  report: Callable[[str], None] = lambda message: None,
                  run: Run = NO_RUN) -> build.BuildResult:
    """Train on the dataset in ``data_dir`` and write the package to ``out_dir``. Raises
    DatasetError or ModelBuildError (one line) without writing anything. ``run``: the MLflow
    run to log to (catmodel/tracking.py; default none). ``site_answer_of``: model labels -> the
    site's answer rule (classifier.answer.site_answer_reader); with it the manifest records the
    reference profile of drift."""
    config = config or TrainingConfig()
    dataset = read_dataset(data_dir)
    species = check_dataset(dataset)
    check_species(species)
    base_dir, base = _base(base_dir, report)
    base_labels = imagenet_labels()
    owners = owners_of([*base_labels, *(f"species:{slug}" for slug in species)])
    goal = targets(base_labels, species, owners)
    version = version or f"ft-{datetime.now(UTC):%Y%m%d%H%M%S}-{dataset.sha256[:8]}"
    name = name or base.name

    lineage = {
        "base": {"name": base.name, "version": base.version,
                 "model_sha256": base.files[MODEL_FILE].sha256, "path": str(base_dir)},
        "dataset": dataset.lineage(),
        "training": {"architecture": ARCHITECTURE, **config.as_dict(),
                     "not_a_cat": "not-a-cat photos are taught to keep their "
                                  "probability on ImageNet's non-cat classes"},
    }
    record = run.record()
    if record is not None:
        lineage[RUN_RECORD] = record

    def write(staging: Path) -> Manifest:
        run.set_tags({"mlflow.runName": f"train {name} {version}", "catsite.model": name,
                      "catsite.model_version": version})
        run.log_params(training_params(lineage, {"name": name, "version": version}))
        run.log_json(dataset.lineage(), "dataset.json")
        trained = train(dataset, goal, len(base_labels), InputSpec.from_dict(build.INPUT_SPEC),
                        config, report,
                        on_epoch=lambda entry: run.log_metrics(epoch_metrics(entry),
                                                               step=entry["epoch"]))
        parity, photo_logits = build.export_checked(trained.net, staging, report)
        report(f"Checking that {NOT_A_CAT_PHOTO} is still not a cat")
        sanity = _still_not_a_cat(photo_logits[NOT_A_CAT_PHOTO], goal.model_labels, owners,
                                  cat_threshold)
        document = {
            "format": FORMAT,
            "name": name,
            "version": version,
            "created_at": build.created_at(),
            "framework": build.framework_versions(),
            "input": build.INPUT_SPEC,
            "output": build.OUTPUT_SPEC,
            "labels": goal.model_labels,
            "files": {MODEL_FILE: build.file_entry(staging / MODEL_FILE)},
            "source": build.weights_source(pretrained_weights_path()),
            "checks": {"preprocessing": build.PREPROCESSING, "parity": parity,
                       "sanity": [sanity]},
            "lineage": {**lineage,
                        "training": {**lineage["training"], "history": trained.history}},
        }
        build.write_manifest(staging, document)
        report(f"Evaluating on the test split ({len(dataset.split('test'))} photos)")
        evaluation = evaluate_classifier(load_classifier(staging, threads=config.threads),
                                         dataset, "test", owners=owners,
                                         cat_threshold=cat_threshold,
                                         site_answer=site_answer_of(goal.model_labels)
                                         if site_answer_of is not None else None)
        report(evaluation.summary())
        numbers = evaluation.as_dict()
        # Before the package is signed (publish_model --signing-key), which covers the manifest.
        reference = numbers.pop(PROFILE_KEY)
        document["evaluation"] = numbers
        if reference is not None:
            document[PROFILE_KEY] = reference
        log_evaluation(run, evaluation)
        return build.write_manifest(staging, document)

    with torch_threads(config.threads):
        result = build.staged_build(out_dir, version, force, write)
    run.log_folder(result.path, "package")
    return result


def _base(base_dir, report) -> tuple[Path, Manifest]:
    """The base package (default: build_model's, from the build cache), checked to be built from
    the pretrained weights installed here: its backbone is what training starts from."""
    if base_dir is None:
        from ..cache import ensure_built

        base_dir = ensure_built(report=report)
    try:
        base = verify(base_dir)
    except (BadModelPackage, ModelUnavailable) as exc:
        raise ModelBuildError(f"the base package {base_dir} is not usable: {exc}") from None
    weights = build.weights_source(pretrained_weights_path())
    if base.raw.get("source", {}).get("sha256") != weights["sha256"]:
        raise ModelBuildError(f"the base package {base_dir} was not built from the pretrained "
                              f"weights installed here ({weights['package']} "
                              f"{weights['version']}): build it with manage.py build_model")
    if list(base.labels[:len(imagenet_labels())]) != imagenet_labels():
        raise ModelBuildError(f"the base package {base_dir} does not start with ImageNet's "
                              "labels: use a package made by build_model or train_model")
    return Path(base_dir), base


def _still_not_a_cat(logits, labels: list[str], owners: Owners, threshold: float) -> dict:
    probabilities = softmax(logits)
    cat = float(sum(p for label, p in zip(labels, probabilities, strict=True) if label in owners))
    best = int(probabilities.argmax())
    result = {"image": NOT_A_CAT_PHOTO, "expect": f"cat labels together < {threshold}",
              "cat_probability": cat,
              "top1": {"index": best, "label": labels[best],
                       "probability": float(probabilities[best])},
              "passed": cat < threshold}
    if not result["passed"]:
        raise BuildCheckFailed(f"sanity check failed: {NOT_A_CAT_PHOTO} is a cat with "
                               f"{cat:.1%} after training (must stay below {threshold:.0%}): add "
                               "not-a-cat photos to the dataset")
    return result
