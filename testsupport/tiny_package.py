"""A tiny but real model package for the inference tests: an ONNX graph made with onnx's helper
API whose answers can be worked out by hand.

The network averages each colour channel over the image (GlobalAveragePool) and applies a fixed
linear layer, so a pure red photo scores "red", a white one "bright", a black one "dark".
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

LABELS = ["red", "green", "blue", "dark", "bright"]
# One row per label: weights on the mean normalised (R, G, B).
WEIGHTS = np.array(
    [[2, -1, -1], [-1, 2, -1], [-1, -1, 2], [-1, -1, -1], [1, 1, 1]], dtype=np.float32
)
BIAS = np.zeros(len(LABELS), dtype=np.float32)
INPUT = {
    "name": "pixels", "layout": "NCHW", "color": "RGB", "size": 16, "resize": 20,
    "mean": [127.0, 127.0, 127.0], "std": [128.0, 128.0, 128.0],
}


def tiny_onnx(input_name="pixels", output_name="logits", size=16, labels: int | None = None,
              unary_ops=()) -> bytes:
    """``unary_ops`` (e.g. ``["Log"]``) are applied to the channel means before the linear
    layer: a Log makes a network that returns NaN on dark images, to test failures."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    labels = len(LABELS) if labels is None else labels
    weights = np.resize(WEIGHTS, (labels, 3)).astype(np.float32)
    names = ["channels"] + [f"{op.lower()}_{i}" for i, op in enumerate(unary_ops)]
    graph = helper.make_graph(
        [
            helper.make_node("GlobalAveragePool", [input_name], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["channels"], axis=1),
            *(helper.make_node(op, [names[i]], [names[i + 1]]) for i, op in enumerate(unary_ops)),
            helper.make_node("Gemm", [names[-1], "weights", "bias"], [output_name], transB=1),
        ],
        "tiny_colour_classifier",
        [helper.make_tensor_value_info(input_name, TensorProto.FLOAT, ["N", 3, size, size])],
        [helper.make_tensor_value_info(output_name, TensorProto.FLOAT, ["N", labels])],
        initializer=[
            numpy_helper.from_array(weights, "weights"),
            numpy_helper.from_array(np.zeros(labels, dtype=np.float32), "bias"),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8  # readable by any onnxruntime >= 1.10
    onnx.checker.check_model(model)
    return model.SerializeToString()


def manifest_for(model: bytes, **changes) -> dict:
    manifest = {
        "format": "catsite-model/1",
        "name": "tiny-colours",
        "version": "0.0.1",
        "created_at": "2025-01-01T00:00:00Z",
        "framework": {"onnx": "test", "opset": 17},
        "input": dict(INPUT),
        "output": {"name": "logits", "kind": "logits"},
        "labels": list(LABELS),
        "files": {
            "model.onnx": {"sha256": hashlib.sha256(model).hexdigest(), "bytes": len(model)}
        },
        "source": {"package": "tests", "version": "0", "file": "tiny_package.py",
                   "sha256": "0" * 64},
        "checks": {},
    }
    manifest.update(changes)
    return manifest


def write_package(directory: Path, model: bytes | None = None, **manifest_changes) -> Path:
    """Write model.onnx and its manifest into ``directory``; ``manifest_changes`` replace
    top-level manifest keys (to make broken packages)."""
    model = tiny_onnx() if model is None else model
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.onnx").write_bytes(model)
    manifest = manifest_for(model, **manifest_changes)
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return directory


def expected_logits(batch: np.ndarray) -> np.ndarray:
    """What the tiny network computes, in numpy: the reference for its ONNX Runtime output."""
    return batch.mean(axis=(2, 3)) @ WEIGHTS.T + BIAS


# Solid-colour photos the tiny network answers by hand: red scores "red" at about 0.94; this
# blue is dimmer and scores "blue" at about 0.75 (another confidence bin).
RED, BLUE = (250, 10, 10), (60, 60, 200)


def colour_photo(colour: tuple[int, int, int], shade: int = 0) -> bytes:
    """A 32x32 JPEG of one colour; ``shade`` moves red to green a little, so that photos of one
    colour differ (another sha256) and score nearly alike."""
    from PIL import Image

    from testsupport.images import jpeg

    r, g, b = colour
    return jpeg(Image.new("RGB", (32, 32), (r - shade, g + shade, b)))
