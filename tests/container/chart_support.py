"""Paths and helpers of the deployment tests (the fixtures are in conftest.py)."""
import importlib.util
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "deploy" / "ci"
CHART = ROOT / "deploy" / "helm" / "catsite"
DIGEST = "sha256:" + "ab" * 32


def is_hook(obj):
    return "helm.sh/hook" in (obj["metadata"].get("annotations") or {})


def by_kind(objects, kind, hooks=False):
    """The objects of one kind: the release's own, or with hooks=True its hooks."""
    return [obj for obj in objects if obj["kind"] == kind and is_hook(obj) == hooks]


def one(objects, kind, hooks=False):
    found = by_kind(objects, kind, hooks)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def ci_script(name):
    """A Python script of deploy/ci (not a package), loaded from its file as a module."""
    spec = importlib.util.spec_from_file_location(name, CI / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_monitoring(tools_env, tmp_path, objects):
    """deploy/ci/check_monitoring.py on these objects: the finished process (the objects it
    hands on are in tmp_path/others.yaml)."""
    rendered = tmp_path / "rendered.yaml"
    rendered.write_text(yaml.safe_dump_all(objects))
    return subprocess.run(["python", str(CI / "check_monitoring.py"), str(rendered),
                           str(tmp_path / "others.yaml")], env=tools_env, capture_output=True,
                          text=True, check=False)


def assert_passes_chart_checks(tools_env, tmp_path, objects, kube_version):
    """What validate-chart.sh does with one render: check_monitoring.py, then the usual checks
    (kubernetes-validate, yamllint, checkov) on what it hands on."""
    checked = check_monitoring(tools_env, tmp_path, objects)
    assert checked.returncode == 0, checked.stderr
    checked = subprocess.run([str(CI / "validate-chart.sh"), "--check",
                              str(tmp_path / "others.yaml"), kube_version],
                             env=tools_env, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr[-3000:]
