"""Experiment tracking in MLflow: what ``train_model`` and ``evaluate_model`` log when a tracking
server is configured (MLFLOW_TRACKING_URI), and nothing at all (mlflow not even imported) when
it is not.

    run = open_run(tracking_uri, experiment, run_name=..., tags=..., report=...)
    run.log_params({...}); run.log_metrics({...}, step=epoch); run.log_folder(dir, "package")
    run.end()

A training run holds (docs/data-science.md, "Experiments in MLflow"):
    params     the training settings (epochs, learning_rate, seed, batch_size, weight_decay,
               fine_tune_blocks, device), the base package (base.name, base.version,
               base.model_sha256), the package (model.name, model.version), the dataset
               (dataset.sha256, dataset.created, dataset.photos.<split>,
               dataset.labels.<label>.<split>)
    metrics    per epoch (step = epoch): train_loss, train_accuracy, validation_loss,
               validation_accuracy; the evaluation of the test split: test_top1_accuracy,
               test_top5_accuracy, test_expected_calibration_error, test_not_a_cat_precision,
               test_not_a_cat_recall, test_precision.<label>, test_recall.<label>
    artifacts  dataset.json (hash and counts), evaluation/test.json, evaluation/
               confusion_matrix_test.png, package/ (model.onnx, manifest.json)
An evaluation run (evaluate_model) holds the evaluation's params, metrics and artifacts, and the
tag catsite.training_run_id naming the run that trained the package (from its manifest).

Failures: a server that cannot be reached when the run opens is a one-line TrackingUnavailable
before any work (the command says to fix MLFLOW_TRACKING_URI or pass --no-tracking). Once the
run is open, a failed logging call is reported once through ``report`` and tracking stops; the
training goes on (its package is worth more than its charts) and the run is marked FAILED if
the server answers again.
"""
from __future__ import annotations

import importlib.util
import json
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from catmodel.delivery.errors import first_line
from catmodel.errors import AppError
from catmodel.mlflow_client import (
    RUN_RECORD,
    TRAINING_RUN_TAG,
    client_secrets,
    is_network_error,
    mlflow_client,
    public_uri,
    training_run,
)
from catmodel.redaction import redact

DEFAULT_EXPERIMENT = "catsite"
ROLE_TAG = "catsite.role"  # training or evaluation
_BATCH = 100  # MLflow takes at most 100 params (1000 metrics) in one log_batch


class TrackingUnavailable(AppError):
    """The tracking server could not be reached or refused the run; nothing was trained."""

    code = "tracking_unavailable"
    status = 503
    exit_code = 1


Reporter = Callable[[str], None]


class Run:
    """No tracking: every call does nothing. MlflowRun does the same calls against a server."""

    run_id: str | None = None
    experiment_id: str | None = None
    experiment: str | None = None

    def record(self) -> dict | None:
        """What the package's manifest records of the run (lineage.mlflow), or None."""
        if self.run_id is None:
            return None
        return {"run_id": self.run_id, "experiment_id": self.experiment_id,
                "experiment": self.experiment}

    def log_params(self, params: Mapping[str, object]) -> None:
        pass

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        pass

    def set_tags(self, tags: Mapping[str, str]) -> None:
        pass

    def log_file(self, path: Path, folder: str | None = None) -> None:
        pass

    def log_folder(self, path: Path, folder: str) -> None:
        pass

    def log_json(self, document, name: str, folder: str | None = None) -> None:
        pass

    def end(self, failed: bool = False) -> None:
        pass

    def warn(self, line: str) -> None:
        pass

    @property
    def complete(self) -> bool:
        return True


NO_RUN = Run()


class MlflowRun(Run):
    def __init__(self, client, run, experiment: str, warn: Reporter, where: str):
        self.client = client
        self.run_id = run.info.run_id
        self.experiment_id = run.info.experiment_id
        self.experiment = experiment
        self._warn = warn
        self.where = where
        self.failure: str | None = None

    @property
    def complete(self) -> bool:
        return self.failure is None

    def warn(self, line: str) -> None:
        self._warn(line)

    def log_params(self, params: Mapping[str, object]) -> None:
        from mlflow.entities import Param

        items = [Param(key, _text(value)) for key, value in params.items()]
        for start in range(0, len(items), _BATCH):
            self._call("logging params", self.client.log_batch, self.run_id,
                       params=items[start:start + _BATCH])

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [Metric(key, float(value), now, step or 0) for key, value in metrics.items()]
        for start in range(0, len(items), 10 * _BATCH):
            self._call("logging metrics", self.client.log_batch, self.run_id,
                       metrics=items[start:start + 10 * _BATCH])

    def set_tags(self, tags: Mapping[str, str]) -> None:
        from mlflow.entities import RunTag

        self._call("tagging the run", self.client.log_batch, self.run_id,
                   tags=[RunTag(key, str(value)) for key, value in tags.items()])

    def log_file(self, path: Path, folder: str | None = None) -> None:
        self._call(f"uploading {Path(path).name}", self.client.log_artifact, self.run_id,
                   str(path), folder)

    def log_folder(self, path: Path, folder: str) -> None:
        self._call(f"uploading {folder}/", self.client.log_artifacts, self.run_id, str(path),
                   folder)

    def log_json(self, document, name: str, folder: str | None = None) -> None:
        with tempfile.TemporaryDirectory(prefix="catsite-tracking-") as scratch:
            path = Path(scratch) / name
            path.write_text(json.dumps(document, indent=2) + "\n")
            self.log_file(path, folder)

    def end(self, failed: bool = False) -> None:
        status = "FAILED" if failed or self.failure else "FINISHED"
        # Even after a failed call: the server may be back, and a run left RUNNING misleads.
        try:
            self.client.set_terminated(self.run_id, status=status)
        except Exception as exc:  # noqa: BLE001 - MlflowException, requests' errors
            self._failed("ending the run", exc)

    def _call(self, action: str, function, *args, **kwargs) -> None:
        if self.failure is not None:
            return  # reported once; the rest of the run's logging is skipped
        try:
            function(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - MlflowException, requests' errors
            self._failed(action, exc)

    def _failed(self, action: str, exc: Exception) -> None:
        if self.failure is not None:
            return
        self.failure = f"{action}: {_reason(exc)}"
        self.warn(f"warning: MLflow tracking stopped ({self.failure}); run {self.run_id} "
                    f"in {self.where} is incomplete, the work goes on without it")


def open_run(tracking_uri: str, experiment: str = DEFAULT_EXPERIMENT, *, run_name: str,
             tags: Mapping[str, str] | None = None, timeout: float = 10, retries: int = 2,
             report: Reporter = lambda message: None, warn: Reporter | None = None) -> Run:
    """A run in ``experiment`` (made if missing) on ``tracking_uri``; NO_RUN when the URI is
    empty. TrackingUnavailable (one line) when the server cannot be reached or refuses.
    ``report`` gets the run's id once open; ``warn`` (default ``report``) the one line of a
    logging call that failed later."""
    if not tracking_uri:
        return NO_RUN
    tracking_uri = tracking_uri.rstrip("/")
    experiment = experiment or DEFAULT_EXPERIMENT
    where = f"MLflow at {public_uri(tracking_uri)}"
    client = mlflow_client(tracking_uri, timeout, retries)
    try:
        experiment_id = _experiment_id(client, experiment)
        run = client.create_run(experiment_id, run_name=run_name, tags=dict(tags or {}))
    except Exception as exc:  # noqa: BLE001 - MlflowException, requests' errors
        if is_network_error(exc):
            problem = (f"cannot reach {where} (after {retries} retries with a {timeout:g} s "
                       "timeout)")
        else:
            problem = f"{where} refused to open a run in experiment {experiment!r}: {_reason(exc)}"
        raise TrackingUnavailable(
            f"{problem}: start the server or fix MLFLOW_TRACKING_URI (its credentials: "
            "MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD), or pass --no-tracking "
            "to work without recording the run") from None
    report(f"MLflow run {run.info.run_id} in experiment {experiment!r} ({where})")
    return MlflowRun(client, run, experiment, warn or report, where)


def _experiment_id(client, name: str) -> str:
    found = client.get_experiment_by_name(name)
    if found is not None:
        return found.experiment_id
    try:
        return client.create_experiment(name)
    except Exception as exc:
        if str(getattr(exc, "error_code", "")) != "RESOURCE_ALREADY_EXISTS":
            raise
        return client.get_experiment_by_name(name).experiment_id  # made meanwhile: use it


# --- what the commands log --------------------------------------------------------------------

def dataset_params(lineage: Mapping) -> dict[str, object]:
    """A dataset's hash and counts (Dataset.lineage()) as params."""
    counts = lineage.get("counts", {})
    params: dict[str, object] = {"dataset.sha256": lineage["sha256"],
                                 "dataset.created": lineage.get("created", ""),
                                 "dataset.format_version": lineage.get("format_version", "")}
    params.update({f"dataset.photos.{split}": count
                   for split, count in counts.get("splits", {}).items()})
    params["dataset.photos.total"] = counts.get("total", 0)
    for label, splits in counts.get("labels", {}).items():
        params.update({f"dataset.labels.{label}.{split}": count
                       for split, count in splits.items()})
    return params


def training_params(lineage: Mapping, model: Mapping) -> dict[str, object]:
    """train_model's params from the manifest's lineage (base, dataset, training settings) and
    the package's name and version."""
    training = {key: value for key, value in lineage["training"].items()
                if key not in ("history", "architecture", "not_a_cat")}
    base = lineage["base"]
    return {**training, "base.name": base["name"], "base.version": base["version"],
            "base.model_sha256": base["model_sha256"], "model.name": model["name"],
            "model.version": model["version"], **dataset_params(lineage["dataset"])}


def epoch_metrics(entry: Mapping) -> dict[str, float]:
    """One epoch of the training history (train.py) as metrics."""
    names = {"loss": "train_loss", "accuracy": "train_accuracy",
             "validation_loss": "validation_loss", "validation_accuracy": "validation_accuracy"}
    return {names[key]: value for key, value in entry.items() if key in names}


def evaluation_metrics(evaluation: Mapping) -> dict[str, float]:
    """An Evaluation (as_dict) as metrics named after its split: accuracy, calibration,
    not-a-cat and per-label precision and recall (those that exist: no answer of a label, no
    precision)."""
    split = evaluation["dataset"]["split"]
    metrics = {f"{split}_top1_accuracy": evaluation["top1_accuracy"],
               f"{split}_top5_accuracy": evaluation["top5_accuracy"],
               f"{split}_expected_calibration_error": evaluation["expected_calibration_error"],
               f"{split}_not_a_cat_precision": evaluation["not_a_cat"]["precision"],
               f"{split}_not_a_cat_recall": evaluation["not_a_cat"]["recall"],
               f"{split}_count": evaluation["count"]}
    for label, numbers in evaluation["per_label"].items():
        metrics[f"{split}_precision.{label}"] = numbers["precision"]
        metrics[f"{split}_recall.{label}"] = numbers["recall"]
    return {key: value for key, value in metrics.items() if value is not None}


def log_evaluation(run: Run, evaluation) -> None:
    """An Evaluation's metrics, its numbers as evaluation/<split>.json and its confusion matrix
    as evaluation/confusion_matrix_<split>.png."""
    if run.run_id is None:
        return
    numbers = evaluation.as_dict()
    split = numbers["dataset"]["split"]
    run.log_metrics(evaluation_metrics(numbers))
    run.log_json(numbers, f"{split}.json", "evaluation")
    if importlib.util.find_spec("matplotlib") is None:
        run.warn("warning: matplotlib is not installed here (the build and dev roles have it): "
                 f"run {run.run_id} gets no confusion matrix PNG")
        return
    from catmodel.evaluation.plot import plot_confusion

    with tempfile.TemporaryDirectory(prefix="catsite-tracking-") as scratch:
        run.log_file(plot_confusion(evaluation, Path(scratch) / f"confusion_matrix_{split}.png"),
                     "evaluation")


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _reason(exc: Exception) -> str:
    return first_line(redact(str(exc), client_secrets()), 160) or type(exc).__name__


__all__ = ["DEFAULT_EXPERIMENT", "NO_RUN", "RUN_RECORD", "ROLE_TAG", "Run", "TRAINING_RUN_TAG",
           "TrackingUnavailable", "dataset_params", "epoch_metrics", "evaluation_metrics",
           "log_evaluation", "open_run", "training_params", "training_run"]
