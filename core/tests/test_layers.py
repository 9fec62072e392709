"""The layers: the apps and the shared infrastructure never import the project package.

``catsite`` (settings, URLs, site pages) is built on the apps and on ``core``; if an app
imported it back, the app could not be understood, tested or moved without the whole site.
(classifier.inference importing no Django: classifier/tests/test_inference_imports.py.)
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOWER_LAYERS = ("species", "classifier", "core")
PROJECT_PACKAGE = "catsite"


def imported_modules(source: str) -> set[str]:
    """Every absolute module name an ``import`` or ``from ... import`` statement names,
    wherever it stands (functions and conditionals included)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def imports_project(source: str) -> bool:
    return any(name == PROJECT_PACKAGE or name.startswith(PROJECT_PACKAGE + ".")
               for name in imported_modules(source))


@pytest.mark.parametrize("source,expected", [
    ("import catsite", True),
    ("from catsite.security_headers import CONTENT_SECURITY_POLICY", True),
    ("def f():\n    from catsite import views\n", True),
    ("import catsite.settings as s", True),
    ("from core.errors import AppError", False),
    ("import catsitetools", False),
])
def test_the_import_check_recognises_the_project_package(source, expected):
    assert imports_project(source) is expected


def test_no_app_or_core_module_imports_the_project_package():
    modules = [path for layer in LOWER_LAYERS for path in sorted((ROOT / layer).rglob("*.py"))]
    assert len(modules) > 20  # the walk did find the code
    offenders = [str(path.relative_to(ROOT)) for path in modules
                 if imports_project(path.read_text(encoding="utf-8"))]
    assert offenders == [], f"these modules import {PROJECT_PACKAGE}: {offenders}"
