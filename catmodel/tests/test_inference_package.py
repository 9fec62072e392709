"""Model package validation: a good package loads, every kind of broken one is refused with a
message naming the file and the problem."""
from __future__ import annotations

import hashlib
import json

import pytest

from catmodel.inference import BadModelPackage, ModelUnavailable, load_classifier
from catmodel.inference.package import (
    SIGNATURE_FILE,
    Digest,
    FileEntry,
    FileMismatch,
    digest_file,
    is_valid_name,
    parse_manifest,
    verify,
)
from testsupport import tiny_package


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
    manifest = verify(package)
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
    with pytest.raises(FileMismatch, match="sha256") as raised:
        verify(package)  # what the build cache and delivery use
    assert raised.value.file == "model.onnx" and not raised.value.size_differs


def test_model_file_of_the_wrong_size(package):
    with (package / "model.onnx").open("ab") as model:
        model.write(b"\0")
    refused(package, file="model.onnx", problem="bytes, manifest.json says")


def test_labels_must_match_the_model_output(package):
    edit_manifest(package, lambda m: m.update(labels=m["labels"][:4]))
    error = refused(package, file="model.onnx", problem="4 labels")
    assert "(N, 4)" in error.problem


def test_a_model_that_gives_no_finite_logits_is_refused_at_load(tmp_path):
    # log(-mean) is NaN on the warm-up photo load_classifier runs (mid-grey on average).
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


# --- one rule for names, files and hashes (build, cache, delivery and loader share it) ---------

@pytest.mark.parametrize("name", ["1.0.0", "efficientnet-lite0_v2.onnx", "A", "..."])
def test_allowed_names(name):
    assert is_valid_name(name)


@pytest.mark.parametrize("name", ["1.0.0\n", "1.0.0\r\n", "", ".", "..", "a/b", "../x", "a b",
                                  "caf\u00e9", "\n1.0", 7, None])
def test_refused_names(name):
    assert not is_valid_name(name)


def test_a_version_with_a_trailing_newline_is_refused(package):
    # re.match(r"...+$") accepts "1.0.0\n": the rule needs fullmatch.
    edit_manifest(package, lambda m: m.update(version="1.0.0\n"))
    refused(package, file="manifest.json", problem="version '1.0.0\\n' must match")


def test_a_listed_file_name_with_a_trailing_newline_is_refused(package):
    edit_manifest(package, lambda m: m["files"].update({"notes.txt\n": m["files"]["model.onnx"]}))
    refused(package, file="manifest.json", problem="invalid file name 'notes.txt\\n'")


def test_a_file_the_manifest_does_not_list_is_refused(package):
    (package / "notes.txt").write_text("not part of the package")
    error = refused(package, file="notes.txt", problem="not listed in manifest.json")
    assert "only the files its manifest lists" in error.problem
    with pytest.raises(BadModelPackage, match="notes.txt"):
        verify(package)


def test_a_directory_inside_the_package_is_refused(package):
    (package / "extra").mkdir()
    refused(package, file="extra", problem="not listed in manifest.json")


def test_the_signature_file_may_sit_beside_the_listed_files(package):
    (package / SIGNATURE_FILE).write_bytes(b"a signature, checked by issue 11's verifier")
    assert verify(package).name == "tiny-colours"
    assert load_classifier(package, threads=1).ready


@pytest.mark.parametrize("reserved", ["manifest.json", SIGNATURE_FILE])
def test_the_manifest_cannot_list_itself_or_the_signature(package, reserved):
    edit_manifest(package, lambda m: m["files"].update({reserved: m["files"]["model.onnx"]}))
    refused(package, file="manifest.json", problem=f"invalid file name {reserved!r}")


def test_verify_refuses_a_truncated_file(package):
    model = package / "model.onnx"
    model.write_bytes(model.read_bytes()[:-10])
    with pytest.raises(FileMismatch) as raised:
        verify(package)
    assert raised.value.size_differs
    assert raised.value.expected.bytes == raised.value.found.bytes + 10
    assert "bytes, manifest.json says" in raised.value.problem


def test_verify_refuses_a_tampered_listed_file(package):
    (package / "README.txt").write_text("notes")
    edit_manifest(package, lambda m: m["files"].update(
        {"README.txt": {"sha256": hashlib.sha256(b"notes").hexdigest(), "bytes": 5}}))
    assert set(verify(package).files) == {"model.onnx", "README.txt"}
    (package / "README.txt").write_text("NOTES")  # same size, other bytes
    with pytest.raises(FileMismatch, match="README.txt: sha256 is"):
        verify(package)


def test_verify_of_no_directory_is_model_unavailable(tmp_path):
    with pytest.raises(ModelUnavailable) as raised:
        verify(tmp_path / "nothing-here")
    assert not isinstance(raised.value, BadModelPackage)


def test_digest_streams_sha256_and_size(tmp_path):
    data = bytes(range(256)) * 10_000  # 2.5 MB: more than one chunk
    path = tmp_path / "blob"
    path.write_bytes(data)
    expected = FileEntry(sha256=hashlib.sha256(data).hexdigest(), bytes=len(data))
    assert digest_file(path) == expected
    streamed = Digest()
    for start in range(0, len(data), 4096):
        streamed.update(data[start:start + 4096])
    assert streamed.entry() == expected


def test_parse_manifest_returns_the_typed_manifest_and_round_trips(package):
    data = (package / "manifest.json").read_bytes()
    manifest = parse_manifest(data)
    assert manifest.files["model.onnx"] == digest_file(package / "model.onnx")
    renamed = manifest.with_version("2.0.0")
    assert (renamed.name, renamed.version, renamed.files) == ("tiny-colours", "2.0.0",
                                                               manifest.files)
    assert parse_manifest(renamed.to_bytes()) == renamed
    assert manifest.version == "0.0.1"  # the original is unchanged
    with pytest.raises(BadModelPackage, match="is not allowed"):
        manifest.with_version("2.0.0\n")


def test_parse_manifest_refuses_oversized_and_non_json_documents():
    with pytest.raises(BadModelPackage, match="larger than"):
        parse_manifest(b" " * (4 * 1024 * 1024 + 1))
    with pytest.raises(BadModelPackage, match="not readable JSON"):
        parse_manifest(b"\xff\xfe not utf-8")
