"""The layers: the apps and the shared infrastructure never import the project package.

``catsite`` (settings, URLs, site pages) is built on the apps and on ``core``; if an app
imported it back, the app could not be understood, tested or moved without the whole site.
(catmodel.inference importing no Django: catmodel/tests/test_imports.py.)
bench/ and tests/ share their helpers through testsupport/ and never import each other.
"""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOWER_LAYERS = ("species", "classifier", "feedback", "core")
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


def imports_package(source: str, package: str) -> bool:
    return any(name == package or name.startswith(package + ".")
               for name in imported_modules(source))


def imports_project(source: str) -> bool:
    return imports_package(source, PROJECT_PACKAGE)


def modules_importing(package: str, folders: tuple[str, ...]) -> list[str]:
    modules = [path for folder in folders for path in sorted((ROOT / folder).rglob("*.py"))]
    assert len(modules) > 5  # the walk did find the code
    return [str(path.relative_to(ROOT)) for path in modules
            if imports_package(path.read_text(encoding="utf-8"), package)]


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
    assert modules_importing(PROJECT_PACKAGE, LOWER_LAYERS) == []


@pytest.mark.parametrize("package,folders", [
    ("tests", ("bench", "testsupport")),
    ("bench", ("tests", "testsupport", *LOWER_LAYERS)),
])
def test_bench_and_tests_share_testsupport_and_never_import_each_other(package, folders):
    assert modules_importing(package, folders) == []
