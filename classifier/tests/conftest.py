"""Fixtures shared by the classifier tests."""
from __future__ import annotations

import pytest

# The Azurite and MLflow server fixtures, for every module here (defined in their modules).
from classifier.tests.azurite import azurite, azurite_oauth, private_azurite  # noqa: F401
from classifier.tests.mlflow_server import (  # noqa: F401
    mlflow_server,
    mlflow_server_postgres,
    mlflow_servers,
    private_mlflow_server,
)


@pytest.fixture(scope="session")
def model_package_dir():
    """The real model package (model.onnx + manifest.json), from the build cache.

    Built once (a few seconds) into ``${CATSITE_CACHE_DIR:-~/.cache/catsite}/models/<key>/``
    and reused by later runs while the build code and library versions stay the same. Shared
    by every test: copy it before changing anything in it.
    """
    from classifier.modelbuild.cache import ensure_built

    return ensure_built()
