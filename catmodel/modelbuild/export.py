"""PyTorch -> ONNX: export, then fold the graph into plain Conv/Clip/Add/Gemm nodes.

The TorchScript exporter (``dynamo=False``) is used because it exports in about 1 s; the newer
dynamo exporter (the default since torch 2.9) needs onnxscript and took about 8 s here for the
same ~100-node graph. Switch when torch drops the TorchScript exporter. That exporter writes
every TF-style asymmetric padding as a chain of Shape/Slice/Concat nodes feeding a Pad, about
1000 nodes in all. ONNX Runtime's *basic* offline optimisation
folds those constants, merges each Pad into its Conv (ONNX Conv takes asymmetric pads) and fuses
batch norm into the convolutions, leaving about 100 standard ONNX operators. Only the basic
level is used because it is hardware-independent and emits no ONNX Runtime-specific operators
(https://onnxruntime.ai/docs/performance/model-optimizations/graph-optimizations.html).
"""
from __future__ import annotations

import warnings
from pathlib import Path

import onnx
import onnxruntime as ort
import torch

OPSET = 17  # widely supported by ONNX Runtime releases and other runtimes
INPUT_NAME = "input"
OUTPUT_NAME = "logits"


def export_onnx(model: torch.nn.Module, path: Path, image_size: int, opset: int = OPSET) -> None:
    """Export ``model`` with a dynamic batch axis, input ``input`` and output ``logits``."""
    example = torch.zeros(1, 3, image_size, image_size)
    with warnings.catch_warnings():
        # The padding chains it cannot fold are folded by optimize_onnx() below.
        warnings.filterwarnings("ignore", message="Constant folding - Only steps=1")
        # Chosen knowingly (see the module docstring); the torch version is pinned.
        warnings.filterwarnings("ignore", category=DeprecationWarning,
                                module=r"torch\.onnx|classifier\.modelbuild\.export")
        _export(model, example, path, opset)


def _export(model: torch.nn.Module, example: torch.Tensor, path: Path, opset: int) -> None:
    torch.onnx.export(
        model,
        (example,),
        str(path),
        dynamo=False,
        opset_version=opset,
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
    )


def optimize_onnx(source: Path, target: Path) -> None:
    """Write ONNX Runtime's basic-level optimisation of ``source`` to ``target``, checked."""
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(target)
    ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    model = onnx.load(str(target))
    _drop_unused_opset_imports(model)
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(target))


def _drop_unused_opset_imports(model: onnx.ModelProto) -> None:
    # ONNX Runtime declares all of its own domains in the saved model; keep only those used,
    # so other runtimes see a model that needs nothing but the standard operator set.
    used = {node.domain for node in model.graph.node} | {""}
    kept = [imp for imp in model.opset_import if imp.domain in used]
    del model.opset_import[:]
    model.opset_import.extend(kept)


def open_session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
