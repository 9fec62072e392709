"""ONNX models whose tensors keep their data in other files ("external data", which can name
any path on the host) are refused by the loader, by fetch_model and by build_model."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from django.core.management import CommandError

from classifier.inference import BadModelPackage, load_classifier
from classifier.inference.external_data import MalformedModel, external_data_tensors
from classifier.tests.delivery_support import NAME, fetch, snapshot
from classifier.tests.tiny_package import tiny_onnx, write_package


def with_external_data(model: bytes, tmp_path, location: str = "weights.bin") -> bytes:
    """The same network with its tensors moved to ``location`` (onnx's own external-data save)."""
    import onnx

    proto = onnx.load_from_string(model)
    scratch = tmp_path / "external"
    scratch.mkdir(exist_ok=True)
    onnx.save_model(proto, scratch / "model.onnx", save_as_external_data=True,
                    all_tensors_to_one_file=True, location=location, size_threshold=0)
    return (scratch / "model.onnx").read_bytes()


def test_the_walker_finds_external_tensors_and_only_them(tmp_path):
    model = tiny_onnx()
    assert external_data_tensors(model) == []
    assert sorted(external_data_tensors(with_external_data(model, tmp_path))) == [
        "bias", "weights"]


def test_the_walker_finds_external_tensors_in_subgraphs(tmp_path):
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    inner_weight = numpy_helper.from_array(np.ones(3, dtype=np.float32), "hidden")
    inner_weight.data_location = TensorProto.EXTERNAL
    inner_weight.ClearField("raw_data")
    inner_weight.external_data.add(key="location", value="/etc/passwd")
    branch = helper.make_graph([helper.make_node("Identity", ["hidden"], ["y"])], "branch", [],
                               [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])],
                               [inner_weight])
    node = helper.make_node("If", ["cond"], ["y"], then_branch=branch, else_branch=branch)
    graph = helper.make_graph([node], "g",
                              [helper.make_tensor_value_info("cond", TensorProto.BOOL, [])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])])
    model = helper.make_model(graph).SerializeToString()
    assert external_data_tensors(model) == ["hidden", "hidden"]
    assert onnx.load_from_string(model)  # a well-formed model all the same


def test_bytes_that_are_not_a_protobuf_message_are_malformed():
    with pytest.raises(MalformedModel):
        external_data_tensors(b"\x0a\xff\xff\xff\xff\x0f")  # a field longer than the data


def test_the_loader_refuses_external_data(tmp_path):
    package = write_package(tmp_path / "pkg", with_external_data(tiny_onnx(), tmp_path))
    with pytest.raises(BadModelPackage) as raised:
        load_classifier(package, threads=1)
    assert raised.value.file == "model.onnx"
    assert "ONNX external data" in raised.value.problem
    assert "'weights'" in raised.value.problem or "'bias'" in raised.value.problem


def test_fetch_model_refuses_external_data_and_installs_nothing(settings, tmp_path):
    store = tmp_path / "store"
    settings.MODEL_STORE, settings.MODEL_NAME, settings.MODEL_STORE_PREFIX = str(store), NAME, ""
    settings.MODEL_DIR = tmp_path / "model"
    # Written into the store directly, as an attacker with write access would (publish_model
    # itself refuses such a package: it loads what it publishes).
    package = write_package(tmp_path / "build", with_external_data(tiny_onnx(), tmp_path),
                            version="1.0.0")
    shutil.copytree(package, store / NAME / "1.0.0")
    (store / NAME / "latest").write_text("1.0.0\n")
    with pytest.raises(CommandError, match="external data") as raised:
        fetch()
    assert "\n" not in str(raised.value)
    assert snapshot(settings.MODEL_DIR) in ({}, {".fetch.lock": ("file", b"")})


def test_build_model_refuses_an_export_with_external_data(tmp_path, monkeypatch):
    """The exporter (torch.onnx) writes external data for models over 2 GB; the build must not
    package such an export. The export step is replaced by one that does exactly that."""
    pytest.importorskip("torch", reason="build_model needs the build role")
    from classifier.modelbuild import build, export
    from classifier.modelbuild.errors import ModelBuildError

    def optimize_to_external(source, target):
        target.write_bytes(with_external_data(tiny_onnx(), tmp_path))

    monkeypatch.setattr(export, "optimize_onnx", optimize_to_external)
    with pytest.raises(ModelBuildError, match="external data"):
        build.build_package(tmp_path / "out")
    assert not (tmp_path / "out").exists()
