"""Model package validation: a good package loads, every kind of broken one is refused with a
message naming the file and the problem."""
from __future__ import annotations

import json

import pytest

from classifier.inference import (
    BadModelPackage,
    ModelUnavailable,
    load_classifier,
    load_manifest,
)
from classifier.tests import tiny_package


@pytest.fixture
def package(tmp_path):
    return tiny_package.write_package(tmp_path / "package")


def edit_manifest(package, change):
    path = package / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))


def refused(package, *, file: str, problem: str) -> BadModelPackage:
    with pytest.raises(BadModelPackage) as raised:
        load_classifier(package)
    error = raised.value
    assert error.file == file
    assert problem in error.problem, error.message
    assert error.message.startswith(f"{file}: ")
    assert error.status == 503 and error.code == "bad_model_package"
    return error


def test_a_valid_package_loads(package):
    manifest = load_manifest(package)
    assert (manifest.name, manifest.version) == ("tiny-colours", "0.0.1")
    assert manifest.labels == tuple(tiny_package.LABELS)
    assert (manifest.input.size, manifest.input.resize, manifest.input.name) == (16, 20, "pixels")
    assert manifest.input.mean == (127.0, 127.0, 127.0)
    assert manifest.files["model.onnx"].bytes == (package / "model.onnx").stat().st_size
    assert manifest.raw["source"]["file"] == "tiny_package.py"
    classifier = load_classifier(package, threads=1)
    assert classifier.ready and classifier.name == "tiny-colours"


def test_no_package_directory_means_model_unavailable(tmp_path):
    with pytest.raises(ModelUnavailable) as raised:
        load_classifier(tmp_path / "nothing-here")
    assert not isinstance(raised.value, BadModelPackage)
    assert raised.value.status == 503 and raised.value.code == "model_unavailable"
    assert raised.value.as_json() == {
        "error": {"code": "model_unavailable", "message": raised.value.message}
    }


def test_missing_manifest(package):
    (package / "manifest.json").unlink()
    refused(package, file="manifest.json", problem="missing")


def test_manifest_that_is_not_json(package):
    (package / "manifest.json").write_text("{not json")
    refused(package, file="manifest.json", problem="not readable JSON")


def test_another_format_is_refused(package):
    edit_manifest(package, lambda m: m.update(format="catsite-model/2"))
    refused(package, file="manifest.json", problem="'catsite-model/2'")


def test_missing_model_file(package):
    (package / "model.onnx").unlink()
    refused(package, file="model.onnx", problem="missing")


def test_model_file_changed_after_the_manifest_was_written(package):
    model = bytearray((package / "model.onnx").read_bytes())
    model[-1] ^= 0xFF  # same size, other content
    (package / "model.onnx").write_bytes(bytes(model))
    refused(package, file="model.onnx", problem="sha256 is")
    with pytest.raises(BadModelPackage, match="sha256"):
        load_manifest(package)  # what fetch_model uses to verify a download


def test_model_file_of_the_wrong_size(package):
    with (package / "model.onnx").open("ab") as model:
        model.write(b"\0")
    refused(package, file="model.onnx", problem="bytes, manifest.json says")


def test_labels_must_match_the_model_output(package):
    edit_manifest(package, lambda m: m.update(labels=m["labels"][:4]))
    error = refused(package, file="model.onnx", problem="4 labels")
    assert "(N, 4)" in error.problem


def test_a_model_that_gives_no_finite_logits_is_refused_at_load(tmp_path):
    # log(-mean) is NaN on the grey test image load_classifier runs.
    model = tiny_package.tiny_onnx(unary_ops=["Neg", "Log"])
    package = tiny_package.write_package(tmp_path / "p", model=model)
    refused(package, file="model.onnx", problem="does not produce finite logits of shape (1, 5)")


def test_input_name_must_match(package):
    edit_manifest(package, lambda m: m["input"].update(name="images"))
    refused(package, file="model.onnx", problem="one input named 'images'")


def test_input_size_must_match_the_model(package):
    edit_manifest(package, lambda m: m["input"].update(size=18))
    refused(package, file="model.onnx", problem="(N, 3, 18, 18)")


def test_output_name_must_match(package):
    edit_manifest(package, lambda m: m["output"].update(name="scores"))
    refused(package, file="model.onnx", problem="'scores'")


def test_a_file_onnx_runtime_cannot_load(tmp_path):
    package = tiny_package.write_package(tmp_path / "p", model=b"this is not a protobuf")
    refused(package, file="model.onnx", problem="ONNX Runtime cannot load it")


@pytest.mark.parametrize(
    "change, problem",
    [
        (lambda m: m["input"].update(layout="NHWC"), "input.layout is 'NHWC'"),
        (lambda m: m["input"].update(color="BGR"), "input.color is 'BGR'"),
        (lambda m: m["input"].update(resize=8), "0 < size <= resize"),
        (lambda m: m["input"].update(std=[128, 0, 128]), "input.std must be positive"),
        (lambda m: m["input"].update(mean=[127, 127]), "input.mean must be a list of 3"),
        (lambda m: m["input"].update(size="16"), "input.size must be a int"),
        (lambda m: m["input"].update(size=True), "input.size must be a int"),
        (lambda m: m.update(version="1.0/../../etc"), "version '1.0/../../etc' must match"),
        (lambda m: m.update(name=""), "name must be a str"),
        (lambda m: m.update(labels=[]), "labels must be a non-empty list"),
        (lambda m: m.update(labels=["cat", 7]), "labels must be a non-empty list"),
        (lambda m: m["output"].update(kind="probabilities"), "output.kind is 'probabilities'"),
        (lambda m: m.update(files={}), "files does not list model.onnx"),
        (lambda m: m["files"].update({"../secrets": m["files"]["model.onnx"]}),
         "invalid file name '../secrets'"),
        (lambda m: m["files"]["model.onnx"].update(sha256="ABC"), "not 64 lowercase hex"),
        (lambda m: m.pop("input"), "input must be a dict"),
    ],
)
def test_invalid_manifests_are_refused_with_the_reason(package, change, problem):
    edit_manifest(package, change)
    refused(package, file="manifest.json", problem=problem)


def test_every_listed_file_is_verified(package):
    (package / "README.txt").write_text("notes")
    edit_manifest(package, lambda m: m["files"].update(
        {"README.txt": {"sha256": "0" * 64, "bytes": 5}}))
    refused(package, file="README.txt", problem="sha256 is")
