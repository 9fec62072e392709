"""ONNX models whose tensors keep their data in other files ("external data", which can name
any path on the host) are refused by the loader, by fetch_model and by build_model."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
from django.core.management import CommandError

from catmodel.inference import BadModelPackage, load_classifier
from catmodel.inference.external_data import MalformedModel, external_data_tensors
from testsupport.delivery import NAME, fetch, snapshot
from testsupport.tiny_package import tiny_onnx, write_package


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


def external_tensor(name: str, location: str = "/etc/passwd"):
    from onnx import TensorProto, numpy_helper

    tensor = numpy_helper.from_array(np.ones(3, dtype=np.float32), name)
    tensor.data_location = TensorProto.EXTERNAL
    tensor.ClearField("raw_data")
    tensor.external_data.add(key="location", value=location)
    return tensor


def plain_model(**extra):
    """An onnx.ModelProto: one Identity node."""
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])])
    return helper.make_model(graph, **extra)


def test_the_walker_finds_external_tensors_in_functions():
    import onnx
    from onnx import TensorProto, helper

    # A function's body: a Constant node whose tensor is external, and an If whose branch
    # holds an external initializer; and the function's default attribute value, a tensor.
    branch = helper.make_graph([helper.make_node("Identity", ["inner"], ["z"])], "branch", [],
                               [helper.make_tensor_value_info("z", TensorProto.FLOAT, [3])],
                               [external_tensor("inner")])
    body = [helper.make_node("Constant", [], ["c"], value=external_tensor("constant")),
            helper.make_node("If", ["cond"], ["z"], then_branch=branch, else_branch=branch)]
    function = helper.make_function("catsite.test", "Hidden", ["cond"], ["c", "z"], body,
                                    [helper.make_opsetid("", 18)], attributes=[])
    function.attribute_proto.append(helper.make_attribute("default", external_tensor("default")))
    model = plain_model(functions=[function], opset_imports=[helper.make_opsetid("", 18)])
    assert onnx.load_from_string(model.SerializeToString()).functions  # well formed
    assert sorted(external_data_tensors(model.SerializeToString())) == [
        "constant", "default", "inner", "inner"]


def test_the_walker_finds_external_tensors_in_training_info():
    from onnx import TensorProto, helper

    initialization = helper.make_graph([], "init", [], [], [external_tensor("started")])
    algorithm = helper.make_graph(
        [helper.make_node("Constant", [], ["step"], value=external_tensor("step"))], "algorithm",
        [], [helper.make_tensor_value_info("step", TensorProto.FLOAT, [3])],
        [external_tensor("learned")])
    model = plain_model()
    model.training_info.add(initialization=initialization, algorithm=algorithm)
    assert sorted(external_data_tensors(model.SerializeToString())) == [
        "learned", "started", "step"]


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
    from catmodel.modelbuild import build, export
    from catmodel.modelbuild.errors import ModelBuildError

    def optimize_to_external(source, target):
        target.write_bytes(with_external_data(tiny_onnx(), tmp_path))

    monkeypatch.setattr(export, "optimize_onnx", optimize_to_external)
    with pytest.raises(ModelBuildError, match="external data"):
        build.build_package(tmp_path / "out")
    assert not (tmp_path / "out").exists()
