"""Fixtures shared by the classifier tests."""
from __future__ import annotations

import pytest

# The web fixtures, for test modules that only request them (modules that import them still
# get their own copy).
from classifier.tests.web_fixtures import installed_model, no_model  # noqa: F401


@pytest.fixture(scope="session")
def model_package_dir():
    """The real model package (model.onnx + manifest.json), from the build cache.

    Built once (a few seconds) into ``${CATSITE_CACHE_DIR:-~/.cache/catsite}/models/<key>/``
    and reused by later runs while the build code and library versions stay the same. Shared
    by every test: copy it before changing anything in it.
    """
    from classifier.modelbuild.cache import ensure_built

    return ensure_built()
