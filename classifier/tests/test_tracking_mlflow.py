"""Experiments in MLflow, against a real ``mlflow server`` (testsupport/mlflow_server.py): what
train_model and evaluate_model log, the run id in the manifest and on the registered version,
and the one-line failures. What the server holds is read with MLflow's own client, not ours.
One training of 2 epochs on the smallest dataset train_model accepts (5 training photos a
label)."""
from __future__ import annotations

import hashlib
import json
import shutil
import socket
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from mlflow import MlflowClient

from catmodel.evaluation import read_dataset
from catmodel.inference.package import verify
from catmodel.tracking import open_run
from testsupport import datasets
from testsupport.delivery import publish
from testsupport.mlflow_server import use_mlflow_store

pytestmark = [pytest.mark.mlflow, pytest.mark.slow]
EPOCHS = 2
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory):
    plan = {"train": 5, "validation": 1, "test": 2}
    return datasets.write_dataset(tmp_path_factory.mktemp("data") / "dataset",
                                  datasets.teaching_examples(plan))


@pytest.fixture(scope="module")
def experiment():
    return f"catsite-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def tracked(tmp_path_factory, small_dataset, model_package_dir, mlflow_server, experiment,
            django_db_setup, django_db_blocker):
    """train_model with MLFLOW_TRACKING_URI: the package, the command's output, the run."""
    out = tmp_path_factory.mktemp("tracked") / "package"
    stdout = StringIO()
    with override_settings(MLFLOW_TRACKING_URI=mlflow_server.url,
                           MLFLOW_EXPERIMENT_NAME=experiment), django_db_blocker.unblock():
        call_command("load_species", verbosity=0)
        call_command("train_model", data=small_dataset, out=out, epochs=EPOCHS, seed=0,
                     threads=1, package_version="3.0.0", stdout=stdout)
    run_id = verify(out).raw["lineage"]["mlflow"]["run_id"]
    return out, stdout.getvalue(), client(mlflow_server).get_run(run_id)


def client(server) -> MlflowClient:
    return MlflowClient(tracking_uri=server.url, registry_uri=server.url)


def test_the_manifest_names_the_run_and_the_run_is_finished(tracked, mlflow_server, experiment):
    package, output, run = tracked
    record = verify(package).raw["lineage"]["mlflow"]
    assert record == {"run_id": run.info.run_id, "experiment_id": run.info.experiment_id,
                      "experiment": experiment}
    assert client(mlflow_server).get_experiment(run.info.experiment_id).name == experiment
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "train efficientnet-lite0-imagenet 3.0.0"
    assert run.data.tags["catsite.role"] == "training"
    assert f"MLflow run {run.info.run_id} in experiment {experiment!r}" in output
    assert output.rstrip().endswith(f"; MLflow run {run.info.run_id}")


def test_the_run_holds_the_parameters_and_the_dataset(tracked, small_dataset,
                                                     model_package_dir):
    package, _, run = tracked
    params = run.data.params
    dataset = read_dataset(small_dataset)
    base = verify(model_package_dir)
    assert {key: params[key] for key in ("epochs", "seed", "batch_size", "learning_rate",
                                         "weight_decay", "fine_tune_blocks", "device")} == {
        "epochs": str(EPOCHS), "seed": "0", "batch_size": "16", "learning_rate": "0.01",
        "weight_decay": "0.0001", "fine_tune_blocks": "0", "device": "cpu"}
    assert (params["base.name"], params["base.version"], params["base.model_sha256"]) == (
        base.name, base.version, base.files["model.onnx"].sha256)
    assert (params["model.name"], params["model.version"]) == (
        "efficientnet-lite0-imagenet", "3.0.0")
    assert params["dataset.sha256"] == dataset.sha256
    assert params["dataset.photos.train"] == str(dataset.counts["splits"]["train"]) == "15"
    assert params["dataset.labels.maine-coon.train"] == "5"
    assert params["dataset.labels.not-a-cat.test"] == "2"


def test_each_epoch_is_a_step_of_the_metric_history(tracked, mlflow_server):
    package, _, run = tracked
    history = verify(package).raw["lineage"]["training"]["history"]
    for metric, key in (("train_loss", "loss"), ("train_accuracy", "accuracy"),
                        ("validation_loss", "validation_loss"),
                        ("validation_accuracy", "validation_accuracy")):
        logged = client(mlflow_server).get_metric_history(run.info.run_id, metric)
        assert [point.step for point in logged] == list(range(1, EPOCHS + 1)), metric
        assert [point.value for point in logged] == pytest.approx(
            [entry[key] for entry in history]), metric


def test_the_evaluation_is_in_the_metrics(tracked):
    package, _, run = tracked
    evaluation = verify(package).raw["evaluation"]
    metrics = run.data.metrics
    assert metrics["test_top1_accuracy"] == pytest.approx(evaluation["top1_accuracy"])
    assert metrics["test_top5_accuracy"] == pytest.approx(evaluation["top5_accuracy"])
    assert metrics["test_expected_calibration_error"] == pytest.approx(
        evaluation["expected_calibration_error"])
    assert metrics["test_not_a_cat_recall"] == pytest.approx(evaluation["not_a_cat"]["recall"])
    for label in ("maine-coon", "bengal"):
        assert metrics[f"test_recall.{label}"] == pytest.approx(
            evaluation["per_label"][label]["recall"])
        precision = evaluation["per_label"][label]["precision"]
        assert metrics.get(f"test_precision.{label}") == (
            None if precision is None else pytest.approx(precision))


def test_the_package_the_confusion_matrix_and_the_numbers_are_artifacts(tracked, mlflow_server,
                                                                       tmp_path):
    package, _, run = tracked
    mlflow = client(mlflow_server)
    run_id = run.info.run_id
    assert {entry.path: entry.file_size for entry in mlflow.list_artifacts(run_id, "package")} == {
        f"package/{file.name}": file.stat().st_size for file in package.iterdir()}
    # The logged package is the finished one: its manifest, run id included, byte for byte.
    local = mlflow.download_artifacts(run_id, "package", str(tmp_path))
    for name in ("manifest.json", "model.onnx"):
        assert (tmp_path / "package" / name).read_bytes() == (package / name).read_bytes(), name
    assert verify(local).raw["lineage"]["mlflow"]["run_id"] == run_id
    png = mlflow.download_artifacts(run_id, "evaluation/confusion_matrix_test.png", str(tmp_path))
    assert open(png, "rb").read(8) == PNG
    numbers = json.loads(open(mlflow.download_artifacts(run_id, "evaluation/test.json",
                                                        str(tmp_path))).read())
    manifest = verify(package).raw
    # The evaluation as the manifest holds it; the reference profile (drift) beside it.
    assert numbers.pop("reference_profile") == manifest["reference_profile"]
    assert numbers == manifest["evaluation"]
    dataset = json.loads(open(mlflow.download_artifacts(run_id, "dataset.json",
                                                        str(tmp_path))).read())
    assert dataset["sha256"] == run.data.params["dataset.sha256"]


def test_a_published_version_leads_back_to_its_training_run(tracked, mlflow_server, settings,
                                                            tmp_path):
    package, _, run = tracked
    use_mlflow_store(settings, mlflow_server, "efficientnet-lite0-imagenet")
    publish(package, "--alias", "challenger")
    registry = client(mlflow_server)
    version = registry.get_model_version_by_alias(settings.MLFLOW_REGISTERED_MODEL, "challenger")
    assert version.tags["catsite.version"] == "3.0.0"
    assert version.tags["catsite.training_run_id"] == run.info.run_id
    assert version.run_link == (f"{mlflow_server.url}/#/experiments/{run.info.experiment_id}"
                                f"/runs/{run.info.run_id}")
    # The version's own run_id is the store's run that holds its files (MLflow requires the
    # source to be inside that run); its files are the package's.
    local = registry.download_artifacts(version.run_id, "package/model.onnx", str(tmp_path))
    assert open(local, "rb").read() == (package / "model.onnx").read_bytes()
    assert registry.get_run(version.tags["catsite.training_run_id"]).data.metrics[
        "test_top1_accuracy"] == run.data.metrics["test_top1_accuracy"]


def test_evaluate_model_logs_a_run_linked_to_the_training_run(tracked, small_dataset,
                                                              mlflow_server, experiment,
                                                              settings, db, tmp_path):
    trained, _, training = tracked
    # A copy: evaluate_model records its reference profile in an unsigned package, and the
    # trained one is shared by this module's tests.
    package = Path(shutil.copytree(trained, tmp_path / "package"))
    before = {path.name: path.read_bytes() for path in package.iterdir()}
    settings.MLFLOW_TRACKING_URI = mlflow_server.url
    settings.MLFLOW_EXPERIMENT_NAME = experiment
    stdout = StringIO()
    call_command("evaluate_model", str(package), data=small_dataset, split="validation",
                 stdout=stdout)
    mlflow = client(mlflow_server)
    runs = mlflow.search_runs([training.info.experiment_id],
                              filter_string="tags.`catsite.role` = 'evaluation'")
    assert len(runs) == 1
    run = runs[0]
    assert f"MLflow run {run.info.run_id}" in stdout.getvalue()
    assert run.info.status == "FINISHED"
    assert run.data.tags["catsite.training_run_id"] == training.info.run_id
    assert run.info.run_name == "evaluate efficientnet-lite0-imagenet 3.0.0 (validation)"
    assert run.data.params["split"] == "validation"
    assert run.data.params["model.model_sha256"] == hashlib.sha256(
        before["model.onnx"]).hexdigest()
    assert run.data.params["dataset.sha256"] == read_dataset(small_dataset).sha256
    assert set(run.data.metrics) >= {"validation_top1_accuracy", "validation_recall.bengal",
                                     "validation_expected_calibration_error"}
    names = {entry.path for entry in mlflow.list_artifacts(run.info.run_id, "evaluation")}
    assert names == {"evaluation/validation.json", "evaluation/confusion_matrix_validation.png"}
    # The network is never rewritten; the manifest gains only this split's reference profile
    # (the package is unsigned: classifier/tests/test_drift.py has the signed case).
    after = {path.name: path.read_bytes() for path in package.iterdir()}
    assert after.keys() == before.keys() and after["model.onnx"] == before["model.onnx"]
    old, new = json.loads(before["manifest.json"]), json.loads(after["manifest.json"])
    assert new["reference_profile"]["split"] == "validation"
    assert {k: v for k, v in new.items() if k != "reference_profile"} == {
        k: v for k, v in old.items() if k != "reference_profile"}


# --- failures: one line, nothing trained --------------------------------------------------------

def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends: nothing listens


@pytest.mark.django_db
def test_an_unreachable_tracking_server_stops_train_model_before_training(small_dataset, settings,
                                                                          tmp_path):
    settings.MLFLOW_TRACKING_URI = f"http://127.0.0.1:{closed_port()}"
    settings.MODEL_STORE_RETRIES = 0
    settings.MODEL_STORE_TIMEOUT_SECONDS = 2
    stdout = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("train_model", data=small_dataset, out=tmp_path / "out", epochs=1,
                     stdout=stdout)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"cannot reach MLflow at {settings.MLFLOW_TRACKING_URI}")
    assert "fix MLFLOW_TRACKING_URI" in message and "--no-tracking" in message
    assert "epoch" not in stdout.getvalue()
    assert not (tmp_path / "out").exists()


@pytest.mark.django_db
def test_no_tracking_evaluates_without_the_server(small_dataset, model_package_dir, settings):
    settings.MLFLOW_TRACKING_URI = f"http://127.0.0.1:{closed_port()}"
    stdout = StringIO()
    call_command("evaluate_model", str(model_package_dir), data=small_dataset, no_tracking=True,
                 stdout=stdout)
    assert "top-1" in stdout.getvalue() and "MLflow" not in stdout.getvalue()


def test_a_server_lost_during_the_run_is_one_warning_and_the_work_goes_on(private_mlflow_server):
    warnings = []
    run = open_run(private_mlflow_server.url, "catsite-lost", run_name="lost", timeout=2,
                   retries=0, warn=warnings.append)
    run.log_metrics({"train_loss": 1.0}, step=1)
    private_mlflow_server.stop()
    for epoch in (2, 3):
        run.log_metrics({"train_loss": 0.5}, step=epoch)  # no exception: training goes on
    run.end()
    assert not run.complete
    assert len(warnings) == 1
    assert warnings[0].startswith("warning: MLflow tracking stopped (logging metrics: ")
    assert f"run {run.run_id} in MLflow at {private_mlflow_server.url} is incomplete" in (
        warnings[0])
