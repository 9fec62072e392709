"""build_model --quantize int8: a package the site loads as any other, that identifies as the
float32 one does and passes the champion gate against it (tolerance 0, the gate's default)."""
from __future__ import annotations

import json
from io import StringIO

import numpy as np
import onnx
import pytest
from django.core.management import CommandError, call_command

from catmodel.inference import load_classifier
from catmodel.modelbuild.cache import ensure_built
from catmodel.modelbuild.errors import ModelBuildError
from catmodel.modelbuild.quantize import quantize_package
from catmodel.modelbuild.samples import CAT_CLASSES, DOMESTIC_CAT_CLASSES
from classifier.evaluator import evaluate_package
from testsupport.datasets import crops, photo, write_dataset
from testsupport.delivery import publish
from testsupport.web_fixtures import cat_jpeg, coffee_jpeg

pytestmark = [pytest.mark.slow, pytest.mark.django_db]

# The photos the test datasets use (test_delivery_gate's and more crops): four that are not
# cats, the tabby as domestic-tabby; none of them is a calibration photo.
PLAN = {"coffee": ("not-a-cat", 8), "rocket": ("not-a-cat", 8), "astronaut": ("not-a-cat", 8),
        "motorcycle": ("not-a-cat", 8), "chelsea": ("domestic-tabby", 8)}


@pytest.fixture(scope="module")
def int8_package_dir():
    return ensure_built(quantize="int8")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    examples = [(data, label, "test")
                for seed, (name, (label, count)) in enumerate(sorted(PLAN.items()))
                for data in crops(photo(name), count, seed=seed)]
    return write_dataset(tmp_path_factory.mktemp("int8") / "dataset", examples)


def test_the_int8_package_keeps_the_contract(int8_package_dir, model_package_dir):
    manifest = json.loads((int8_package_dir / "manifest.json").read_text())
    float32 = json.loads((model_package_dir / "manifest.json").read_text())
    assert manifest["version"] == "1.0.0-int8"
    assert manifest["framework"]["quantization"] == "int8"
    assert "quantization" not in float32["framework"]  # the default stays float32
    for key in ("name", "input", "output", "labels", "source"):
        assert manifest[key] == float32[key], key
    checks = manifest["checks"]["quantization"]
    assert checks["real"]["top1_agreement"] == 1.0
    assert checks["real"]["max_abs_diff"] <= checks["tolerance"]
    assert all(check["passed"] for check in manifest["checks"]["sanity"])
    # Standard ONNX operators only: int8 weights between QuantizeLinear/DequantizeLinear pairs.
    model = onnx.load(str(int8_package_dir / "model.onnx"))
    operators = {node.op_type for node in model.graph.node}
    assert {"QuantizeLinear", "DequantizeLinear", "Conv"} <= operators
    assert {node.domain for node in model.graph.node} <= {"", "ai.onnx"}
    assert (int8_package_dir / "model.onnx").stat().st_size < (
        model_package_dir / "model.onnx").stat().st_size / 2


def test_the_int8_model_identifies_as_the_float32_one(int8_package_dir, model_package_dir):
    int8, float32 = (load_classifier(path, threads=1)
                     for path in (int8_package_dir, model_package_dir))
    for photo_bytes in (cat_jpeg(), cat_jpeg(size=(4000, 3000)), coffee_jpeg()):
        a, b = int8.classify(photo_bytes), float32.classify(photo_bytes)
        # The same answer on the site: domestic cat (ImageNet's tabby, tiger cat and Egyptian
        # cat, which the two models may rank differently) or the cup.
        assert group(a.top[0].index) == group(b.top[0].index)
        for classes in (DOMESTIC_CAT_CLASSES, CAT_CLASSES):
            assert abs(a.probabilities[classes].sum() - b.probabilities[classes].sum()) < 0.05
        assert np.abs(a.probabilities - b.probabilities).max() < 0.05


def group(index: int) -> str | int:
    return "domestic cat" if index in DOMESTIC_CAT_CLASSES else index


def test_the_int8_package_passes_the_gate_against_float32(int8_package_dir, model_package_dir,
                                                          dataset, settings, tmp_path, capsys):
    float32, int8 = (evaluate_package(path, dataset).top1_accuracy for path in (
                     model_package_dir, int8_package_dir))
    with capsys.disabled():
        print(f"\ntop-1 on {sum(c for _, c in PLAN.values())} test photos: float32 {float32:.4f}"
              f", int8 {int8:.4f}")
    assert int8 >= float32  # the gate's default tolerance: 0
    # The gate itself, as publish_model runs it: float32 is champion, int8 the candidate.
    settings.MODEL_STORE, settings.MODEL_STORE_PREFIX = str(tmp_path / "store"), ""
    settings.MODEL_NAME = json.loads((model_package_dir / "manifest.json").read_text())["name"]
    publish(model_package_dir, "--alias", "champion", "--force")
    output = publish(int8_package_dir, "--alias", "champion", "--evaluate", str(dataset))
    assert "champion" in output and "1.0.0-int8" in output, output


def test_quantizing_twice_is_refused(int8_package_dir, tmp_path):
    with pytest.raises(ModelBuildError, match="already quantized"):
        quantize_package(int8_package_dir, tmp_path / "again", "1.0.0-int8-int8")
    assert not (tmp_path / "again").exists()


def test_cached_refuses_a_version(tmp_path):
    with pytest.raises(CommandError, match="drop --out, --force and --version"):
        call_command("build_model", "--cached", "--quantize", "int8", "--version", "2",
                     stdout=StringIO())


def test_build_model_quantize_int8_builds_the_checked_int8_package(int8_package_dir, tmp_path):
    target = tmp_path / "pkg"
    out = StringIO()
    call_command("build_model", "--out", str(target), "--quantize", "int8", stdout=out)
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["version"] == "1.0.0-int8"
    assert manifest["framework"]["quantization"] == "int8"
    assert manifest["checks"]["parity"]["reference"] == "torch"  # the float32 model's, checked
    # Built from scratch or quantized from the cached float32 package: the same model.
    assert (target / "model.onnx").read_bytes() == (int8_package_dir / "model.onnx").read_bytes()
    assert "int8 against float32 on the sample photos" in out.getvalue()
    assert [p.name for p in tmp_path.iterdir()] == ["pkg"]  # no staging left behind
