"""Fixtures for the fuzz tests: the real model package, installed for the web tests."""
from classifier.tests.conftest import model_package_dir  # noqa: F401 - fixture
from classifier.tests.web_fixtures import installed_model  # noqa: F401 - fixture
