"""The roles: one optional group of pyproject.toml each, compiled by scripts/lock into a hashed
lock, requirements/<role>.txt, that each role installs alone (scripts/lib.sh ensure_venv ROLE).
deploy/ci/check-roles.sh builds every role's environment and runs `pip check` in it."""
from __future__ import annotations

import json
import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
ROLES = ("web", "model", "build", "dev")
GIGABYTE = 10**9
# What the web role (./scripts/start, the web image) must never install: PyTorch and CUDA, the
# model server, the test tools.
NOT_IN_WEB = ("torch", "torchvision", "triton", "kserve", "onnx", "timm", "pytest",
              "playwright", "schemathesis", "mlflow", "hypothesis", "tritonclient")
NVIDIA = re.compile(r"^(nvidia-|cuda-)")


def lock_requirements(role: str) -> list[Requirement]:
    """The lock's pins (with their markers), the hash lines left out."""
    text = (REPO / "requirements" / f"{role}.txt").read_text()
    lines = re.findall(r"^[A-Za-z0-9][^\n]*", text, re.M)
    return [Requirement(line.rstrip(" \\")) for line in lines]


def installed_here(role: str) -> dict[str, str]:
    """name -> version of what the role installs on this Python and platform."""
    environment = default_environment()
    return {r.name.lower(): next(iter(r.specifier)).version for r in lock_requirements(role)
            if r.marker is None or r.marker.evaluate(environment)}


def groups() -> dict[str, list[Requirement]]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return {role: [Requirement(each) for each in requirements]
            for role, requirements in project["optional-dependencies"].items()}


def test_the_roles_are_the_groups_of_pyproject_and_of_the_shell_library():
    assert tuple(groups()) == ROLES
    listed = subprocess.run(["bash", "-c", f'source "{REPO}/scripts/lib.sh"; echo "${{ROLES[*]}}"'],
                            capture_output=True, text=True, check=True).stdout.split()
    assert tuple(listed) == ROLES
    assert sorted(path.stem for path in (REPO / "requirements").glob("*.txt")) == sorted(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_every_pin_is_exact_and_carries_hashes(role):
    text = (REPO / "requirements" / f"{role}.txt").read_text()
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert len(blocks) > 50
    for block in blocks:
        requirement = Requirement(block.split("\n", 1)[0].rstrip(" \\"))
        (specifier,) = requirement.specifier
        assert specifier.operator == "==", block
        assert "--hash=sha256:" in block, f"{requirement.name} has no hash"


def test_the_web_role_installs_no_pytorch_cuda_model_server_or_test_tools():
    web = installed_here("web")
    assert not set(web) & set(NOT_IN_WEB)
    assert not [name for name in web if NVIDIA.match(name)]
    assert {"django", "onnxruntime", "pillow", "model-signing", "mlflow-skinny"} <= set(web)


def test_the_model_role_adds_kserve_and_the_build_role_pytorch():
    model, build = installed_here("model"), installed_here("build")
    assert "kserve" in model and not {"torch", "pytest"} & set(model)
    assert (build["torch"], build["torchvision"]) == ("2.14.1", "0.29.1")
    assert not {"kserve", "pytest"} & set(build)
    assert set(installed_here("web")) < set(model) and set(installed_here("web")) < set(build)


def test_a_package_has_the_same_version_in_every_role():
    # scripts/lock compiles dev first and constrains the other roles with it: the tests (dev)
    # run the versions the site and the model service run.
    # (Markers may differ: tzdata is Windows-only for the site, needed everywhere by pandas.)
    dev = {(r.name.lower(), str(r.specifier)) for r in lock_requirements("dev")}
    for role in ("web", "model", "build"):
        pins = {(r.name.lower(), str(r.specifier)) for r in lock_requirements(role)}
        assert pins <= dev, f"{role} pins what dev does not: {sorted(pins - dev)[:5]}"


@pytest.mark.parametrize("role", ROLES)
def test_each_lock_satisfies_its_group(role):
    # A group edited without `scripts/lock` fails here (scripts/lock --check, in
    # deploy/ci/check-roles.sh, recompiles to be sure).
    all_groups, pinned = groups(), installed_here(role)

    def direct(group):
        for requirement in all_groups[group]:
            if requirement.name == "catsite":
                for extra in requirement.extras:
                    yield from direct(extra)
            else:
                yield requirement

    for requirement in direct(role):
        name = requirement.name.lower()
        assert name in pinned, f"{requirement} is in the {role} group but not in its lock"
        assert requirement.specifier.contains(pinned[name], prereleases=True), \
            f"{role} lock pins {name}=={pinned[name]}, the group asks for {requirement}"


@pytest.mark.slow
def test_the_web_environment_has_no_pytorch_passes_pip_check_and_stays_under_a_gigabyte():
    # The environment ./scripts/start builds (cached by the lock's hash; built if missing).
    built = subprocess.run(
        ["bash", "-c", f'source "{REPO}/scripts/lib.sh"; ensure_venv web >&2; role_venv web'],
        capture_output=True, text=True, env={**os.environ}, timeout=900)
    assert built.returncode == 0, built.stderr[-3000:]
    venv = Path(built.stdout.strip())
    listed = subprocess.run([venv / "bin" / "pip", "list", "--format", "json"],
                            capture_output=True, text=True, check=True).stdout
    names = {package["name"].lower() for package in json.loads(listed)}
    assert "django" in names and not names & set(NOT_IN_WEB)
    assert not [name for name in names if NVIDIA.match(name)]
    check = subprocess.run([venv / "bin" / "pip", "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout
    size = sum(path.lstat().st_size for path in venv.rglob("*") if not path.is_symlink())
    assert size < GIGABYTE, f"the web environment is {size / 1e6:.0f} MB"
