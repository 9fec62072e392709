"""The committed base model package (scripts/lib.sh BASE_MODEL_DIR): the first model
./scripts/start installs, without PyTorch. It is signed by the committed key (BASE_MODEL_KEY),
and build_model rebuilds it from the pretrained weights: the same network, node for node, with
the same weights to float32 rounding (byte for byte on a CPU like the one that built it), so the
committed files stay what the build code makes."""
from __future__ import annotations

import json
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from catmodel.inference.package import verify
from catmodel.inference.signatures import load_trusted_keys, verify_signature

REPO = Path(__file__).resolve().parents[1]
# What a rebuild does not reproduce, and need not: when it was built, and the checks' measured
# numbers (floating-point differences against PyTorch, probabilities: they may differ in the
# last digits between CPUs). build_model refuses to write a package whose checks fail, so a
# rebuild that succeeds has passed them. Every other field, and model.onnx, must be identical.
NOT_REPRODUCED = ("created_at", "checks")
# PyTorch folds each batch norm into its convolution's weights with the CPU's vector units: an
# AVX-512 CPU and an AVX2 one round a few weights differently in the last bit (measured: 94 of
# the tensors, at most 3.8e-6 apart, committed on an Intel Xeon, rebuilt on an AMD EPYC). A
# change of the build code or of PyTorch moves weights far more than this.
WEIGHT_RTOL, WEIGHT_ATOL = 1e-5, 1e-5


def lib_variable(name: str) -> Path:
    script = f'source "{REPO}/scripts/lib.sh"; printf %s "${name}"'
    return Path(subprocess.run(["bash", "-c", script], capture_output=True, text=True,
                               check=True).stdout)


BASE = lib_variable("BASE_MODEL_DIR")
KEY = lib_variable("BASE_MODEL_KEY")


def reproduced_fields(package: Path) -> dict:
    """The manifest's fields a rebuild reproduces exactly; model.onnx's hash and size are the
    network's, compared by same_network."""
    manifest = json.loads((package / "manifest.json").read_text())
    fields = {field: value for field, value in manifest.items() if field not in NOT_REPRODUCED}
    fields["files"] = {name: entry for name, entry in fields["files"].items()
                       if name != "model.onnx"}
    return fields


def same_network(rebuilt: Path, committed: Path) -> str | None:
    """None when the two model.onnx files hold the same graph (every node, input, output and
    initializer's name, type and shape) and the same weights to float32 rounding; else what
    differs."""
    import numpy as np
    import onnx
    from onnx import numpy_helper

    if rebuilt.read_bytes() == committed.read_bytes():
        return None
    ours, theirs = onnx.load(str(rebuilt)), onnx.load(str(committed))
    for part in ("node", "input", "output"):
        if ([item.SerializeToString() for item in getattr(ours.graph, part)]
                != [item.SerializeToString() for item in getattr(theirs.graph, part)]):
            return f"the graph's {part}s differ"
    weights = {init.name: numpy_helper.to_array(init) for init in theirs.graph.initializer}
    rebuilt_weights = {init.name: numpy_helper.to_array(init) for init in ours.graph.initializer}
    if rebuilt_weights.keys() != weights.keys():
        return "the initializers differ"
    for name, value in rebuilt_weights.items():
        if value.dtype != weights[name].dtype or value.shape != weights[name].shape:
            committed_one = weights[name]
            return (f"initializer {name}: {value.dtype}{value.shape} vs "
                    f"{committed_one.dtype}{committed_one.shape}")
        if not np.allclose(value, weights[name], rtol=WEIGHT_RTOL, atol=WEIGHT_ATOL):
            gap = float(np.max(np.abs(value.astype(np.float64) - weights[name])))
            return f"initializer {name} differs by up to {gap:g}"
    return None


def test_the_base_package_verifies_and_is_signed_by_the_committed_key():
    manifest = verify(BASE)
    assert sorted(path.name for path in BASE.iterdir()) == ["manifest.json", "model.onnx",
                                                             "model.sig"]
    assert (manifest.name, manifest.version) == ("efficientnet-lite0-imagenet", "1.0.0")
    (trusted,) = load_trusted_keys([str(KEY)])
    assert verify_signature(BASE, (trusted,)) == trusted


def test_start_installs_it_from_a_local_store_checking_the_signature(tmp_path, settings):
    # What ./scripts/start does: publish the committed package to a folder store, then
    # fetch_model with the committed public key as the only trusted one.
    settings.MODEL_STORE = str(tmp_path / "store")
    settings.MODEL_TRUSTED_KEYS = [str(KEY)]
    call_command("publish_model", str(BASE), stdout=StringIO())
    call_command("fetch_model", "--version", "latest", "--dest", str(tmp_path / "model"),
                 stdout=StringIO())
    installed = tmp_path / "model" / "current"
    assert (installed / "model.onnx").read_bytes() == (BASE / "model.onnx").read_bytes()
    assert (installed / "model.sig").exists()


@pytest.mark.slow
def test_build_model_rebuilds_the_base_package(tmp_path):
    committed = json.loads((BASE / "manifest.json").read_text())
    rebuilt = tmp_path / "rebuilt"
    call_command("build_model", "--out", str(rebuilt), "--version", committed["version"],
                 stdout=StringIO())
    remedy = ("build_model no longer makes the committed base package: rebuild and re-sign it "
              "(docs/development.md, 'The base model')")
    difference = same_network(rebuilt / "model.onnx", BASE / "model.onnx")
    assert difference is None, f"{difference}: {remedy}"
    assert reproduced_fields(rebuilt) == reproduced_fields(BASE), remedy
    # The fields left out are there, and the rebuild's checks passed (or it would not exist).
    assert set(NOT_REPRODUCED) <= set(json.loads((rebuilt / "manifest.json").read_text()))
