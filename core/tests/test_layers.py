"""The layers, checked on the import statements of every module of the repository (functions and
conditionals included, tests and migrations too):

    catmodel                       the model library: no Django, no app, no core, no catsite
    species <- classifier <- feedback    the apps, one direction; core below them all
    catsite                        the project: the only package that knows every app
    testsupport                    helpers the suites share; bench/ and tests/ import only it
                                   and the product, never each other or an app's tests

and no import circles: neither between packages (an app's tests count as a package of their
own, above testsupport) nor between modules. Heavy dependencies stay in the library's parts
that need them (catmodel/tests/test_imports.py proves it on a real import as well).
"""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = "catmodel"
APPS = ("species", "classifier", "feedback")  # in their one direction: each may import those before
PROJECT = "catsite"
PRODUCT = (LIBRARY, "core", *APPS, PROJECT)
TOP_LEVEL = (*PRODUCT, "testsupport", "tests", "bench")
FRAMEWORKS = ("django", "rest_framework", "drf_spectacular", "django_filters", "storages")
# Heavy dependency -> the only parts of the library that may import it.
HEAVY = {
    "torch": ("catmodel.modelbuild",),
    "torchvision": ("catmodel.modelbuild",),
    "kserve": ("catmodel.serving",),
    "mlflow": ("catmodel.delivery.mlflow_store", "catmodel.mlflow_client", "catmodel.tracking"),
    "azure": ("catmodel.delivery.azure_store",),
}


def module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


@cache
def all_modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for top in TOP_LEVEL:
        for path in sorted((ROOT / top).rglob("*.py")):
            name, is_package = module_name(path)
            found[name] = (path, is_package)
    return found


def import_statements(source: str, module: str, is_package: bool):
    """(imported module, names taken from it or None for ``import m``) for every import
    statement, wherever it stands; relative imports resolved against ``module``."""
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            target = node.module
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            yield target, [alias.name for alias in node.names]


def imported_names(source: str, module: str = "", is_package: bool = False) -> set[str]:
    """Every module an import statement names; ``from P import x`` names P and P.x (P.x may be
    a name defined in P, not a module: prefix checks do not mind)."""
    names = set()
    for target, taken in import_statements(source, module, is_package):
        names.add(target)
        names.update(f"{target}.{name}" for name in taken or ())
    return names


@cache
def imports_of(module: str) -> frozenset[str]:
    path, is_package = all_modules()[module]
    return frozenset(imported_names(path.read_text(encoding="utf-8"), module, is_package))


def internal_imports(module: str) -> set[str]:
    """The repository's modules ``module`` imports: ``from P import x`` is an edge to the module
    P.x when there is one, else to P (x is defined in P's __init__); ``import a.b`` to a.b."""
    modules = all_modules()
    path, is_package = modules[module]
    found = set()
    for target, taken in import_statements(path.read_text(encoding="utf-8"), module, is_package):
        if taken is None:
            found.add(target)
        for name in taken or ():
            found.add(f"{target}.{name}" if f"{target}.{name}" in modules else target)
    return {name for name in found if name in modules and name != module}


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def layer_of(module: str) -> str:
    """The package a module belongs to; an app's (or the library's) tests are their own."""
    top, _, rest = module.partition(".")
    if top in PRODUCT and (rest == "tests" or rest.startswith("tests.")):
        return f"{top}.tests"
    return top


def violations(importers: tuple[str, ...], forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for module in all_modules():
        if any(within(module, package) for package in importers):
            for name in sorted(imports_of(module)):
                if any(within(name, package) for package in forbidden):
                    found.append(f"{module} imports {name}")
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan's algorithm)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def module_graph() -> dict[str, set[str]]:
    return {module: internal_imports(module) for module in all_modules()}


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, targets in module_graph().items():
        graph.setdefault(layer_of(module), set()).update(
            layer_of(target) for target in targets if layer_of(target) != layer_of(module))
    return graph


# The checks themselves, on sources made up for them.

@pytest.mark.parametrize("source,module,expected", [
    ("import catsite", "core.x", {"catsite"}),
    ("from catsite.security_headers import CSP", "core.x",
     {"catsite.security_headers", "catsite.security_headers.CSP"}),
    ("def f():\n    from catsite import views\n", "core.x", {"catsite", "catsite.views"}),
    ("from . import export", "catmodel.modelbuild.build",
     {"catmodel.modelbuild", "catmodel.modelbuild.export"}),
    ("from ..errors import X", "catmodel.modelbuild.training.data",
     {"catmodel.modelbuild.errors", "catmodel.modelbuild.errors.X"}),
    ("from .decode import X", "catmodel.inference", {"catmodel.inference.decode",
                                                     "catmodel.inference.decode.X"}),
])
def test_imports_are_read_from_every_statement(source, module, expected):
    is_package = module == "catmodel.inference"
    assert imported_names(source, module, is_package) == expected


def test_a_circle_is_found_and_a_chain_is_not():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_walk_sees_every_package():
    layers = {layer_of(module) for module in all_modules()}
    assert set(TOP_LEVEL) <= layers
    assert len(all_modules()) > 200


# The layers of this repository.

def test_the_model_library_imports_no_django_no_app_no_core_and_no_project():
    assert violations((LIBRARY,), (*FRAMEWORKS, "core", *APPS, PROJECT)) == []


@pytest.mark.parametrize("dependency", sorted(HEAVY))
def test_heavy_dependencies_stay_in_the_library_parts_that_need_them(dependency):
    found = [f"{module} imports {name}" for module in all_modules()
             if layer_of(module) == LIBRARY
             and not any(within(module, part) for part in HEAVY[dependency])
             for name in sorted(imports_of(module)) if within(name, dependency)]
    assert found == []


@pytest.mark.parametrize("app,later_apps", [
    (app, APPS[i + 1:]) for i, app in enumerate(APPS)])
def test_the_apps_import_only_down_the_chain(app, later_apps):
    """species imports neither classifier nor feedback; classifier does not import feedback."""
    assert violations((app,), later_apps) == []


def test_no_app_library_or_core_module_imports_the_project():
    assert violations((LIBRARY, "core", *APPS), (PROJECT,)) == []


def test_core_imports_no_app():
    assert violations(("core",), APPS) == []


@pytest.mark.parametrize("package", ["tests", "bench", "testsupport"])
def test_suites_and_bench_import_only_testsupport_and_the_product(package):
    others = {"tests": ("bench",), "bench": ("tests",), "testsupport": ("tests", "bench")}
    app_tests = tuple(f"{top}.tests" for top in PRODUCT)
    assert violations((package,), (*others[package], *app_tests)) == []


def test_no_circle_between_packages():
    assert cycles(package_graph()) == []


def test_no_circle_between_modules():
    assert cycles(module_graph()) == []
