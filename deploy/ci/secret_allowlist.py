"""Fail when a CI job receives a secret that deploy/ci/ci-secrets.yml does not allow it, or gets
an allowed one outside the environment the allow-list names (issue 24, item 12).

    python3 deploy/ci/secret_allowlist.py deploy/ci/ci-secrets.yml azure-pipelines.yml \
        .github/workflows/*.yml

Names are not enough (write_credentials.py recognises credentials by name, so a secret called
REGISTRY_PASSWORD slipped through): here every secret a job references is checked. GitHub:
``secrets.NAME`` / ``secrets['NAME']`` anywhere in the job or the workflow's ``env``; ``secrets:
inherit`` or a bare ``secrets`` (toJSON(secrets)) hands out all of them and always fails. Azure:
``$(NAME)`` of the variables the allow-list declares secret, and service connections (task
inputs such as containerRegistry or azureSubscription).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

# Secrets are only reachable inside ${{ }} expressions: look there, not in prose.
_EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
_GITHUB_SECRET = re.compile(
    r"\bsecrets\b\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_]*)|\[\s*['\"]([^'\"]+)['\"]\s*\])?")
_AZURE_MACRO = re.compile(r"\$\(\s*([A-Za-z_][A-Za-z0-9_.]*)\s*\)")
# Task inputs that name a service connection (a credential held by Azure DevOps).
_CONNECTION_INPUTS = re.compile(
    r"^(containerRegistry|azureSubscription|connectedServiceName\w*|kubernetesServiceConnection"
    r"|dockerRegistryServiceConnection|azureResourceManagerConnection)$")


def _strings(node) -> list[str]:
    """Every key and string value under ``node``."""
    if isinstance(node, dict):
        return [s for key, value in node.items() for s in (str(key), *_strings(value))]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return [node] if isinstance(node, str) else []


def _environment(job: dict) -> str | None:
    env = job.get("environment")
    return env.get("name") if isinstance(env, dict) else env


def _judge(where: str, job_name: str, found: set[str], environment: str | None,
           rules: dict) -> list[str]:
    rule = rules.get(job_name)
    if rule is None:
        return [f"{where}: job {job_name!r} receives {', '.join(sorted(found))}, but "
                "deploy/ci/ci-secrets.yml allows it no secret"] if found else []
    allowed = set(rule.get("secrets", [])) | set(rule.get("connections", []))
    problems = []
    if found - allowed:
        problems.append(f"{where}: job {job_name!r} receives {', '.join(sorted(found - allowed))}"
                        ", which deploy/ci/ci-secrets.yml does not allow it")
    wanted = rule.get("environment")
    if found and wanted and environment != wanted:
        problems.append(f"{where}: job {job_name!r} receives secrets outside its environment "
                        f"{wanted!r} (it runs in {environment or 'none'})")
    return problems


def github_problems(document: dict, where: str, rules: dict) -> list[str]:
    shared = _strings(document.get("env") or {})
    problems = []
    for job_name, job in (document.get("jobs") or {}).items():
        found = set()
        if job.get("secrets") is not None:  # a reusable workflow call: inherit or a map
            found.add("secrets: inherit" if job["secrets"] == "inherit" else "secrets:")
        for text in shared + _strings(job):
            for expression in _EXPRESSION.findall(text):
                for match in _GITHUB_SECRET.finditer(expression):
                    found.add(match.group(1) or match.group(2) or "all secrets (bare `secrets`)")
        problems += _judge(where, job_name, found, _environment(job), rules)
    return problems


def azure_problems(document: dict, where: str, rules: dict) -> list[str]:
    secret_variables = set(rules.get("secret_variables", []))
    shared = [m for text in _strings(document.get("variables") or [])
              for m in _AZURE_MACRO.findall(text) if m in secret_variables]
    problems = []
    for stage in document.get("stages", []):
        for job in stage.get("jobs", []):
            name = f"{stage.get('stage')}.{job.get('deployment') or job.get('job')}"
            found = set(shared)
            found |= {m for text in _strings(job) for m in _AZURE_MACRO.findall(text)
                      if m in secret_variables}
            found |= set(_connections(job))
            problems += _judge(where, name, found, _environment(job), rules.get("jobs", {}))
    return problems


def _connections(node) -> list[str]:
    if isinstance(node, dict):
        return [value for key, value in node.items()
                if _CONNECTION_INPUTS.match(str(key)) and isinstance(value, str)] + [
            c for value in node.values() for c in _connections(value)]
    if isinstance(node, list):
        return [c for value in node for c in _connections(value)]
    return []


def problems_in(allowlist: dict, path: Path) -> list[str]:
    document = yaml.safe_load(path.read_text()) or {}
    if "stages" in document:
        return azure_problems(document, path.name, allowlist.get("azure") or {})
    return github_problems(document, path.name, allowlist.get("github") or {})


def main(args: list[str]) -> int:
    allowlist = yaml.safe_load(Path(args[0]).read_text()) or {}
    problems = [p for path in args[1:] for p in problems_in(allowlist, Path(path))]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
