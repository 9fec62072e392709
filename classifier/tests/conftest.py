"""Fixtures shared by the classifier tests."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def model_package_dir():
    """The real model package (model.onnx + manifest.json), from the build cache.

    Built once (a few seconds) into ``${CATSITE_CACHE_DIR:-~/.cache/catsite}/models/<key>/``
    and reused by later runs while the build code and library versions stay the same. Shared
    by every test: copy it before changing anything in it.
    """
    from classifier.modelbuild.cache import ensure_built

    return ensure_built()
