"""Fail when a CI job that runs without a protected environment receives a credential that can
write the model store or sign models (issue 11): such jobs run for every branch and pull request,
so a leaked variable there must be harmless (a read-only SAS is; a connection string is not).

    python3 deploy/ci/write_credentials.py azure-pipelines.yml .github/workflows/*.yml

A credential is recognised by the name of the secret or variable it comes from (or the variable
it is put in): connection strings, account keys, write SAS tokens, signing keys. Azure Pipelines
jobs with an environment are `deployment` jobs; GitHub Actions jobs name an `environment`.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

WRITE_CREDENTIAL = re.compile(
    r"CONNECTION_STRING|ACCOUNT_KEY|WRITE_SAS|SAS_WRITE|SIGNING_KEY|STORAGE_KEY", re.IGNORECASE)


def _strings(node, found: list[str]) -> list[str]:
    """Every key and string value under ``node`` (env blocks, inputs, scripts)."""
    if isinstance(node, dict):
        for key, value in node.items():
            found.append(str(key))
            _strings(value, found)
    elif isinstance(node, list):
        for value in node:
            _strings(value, found)
    elif isinstance(node, str):
        found.append(node)
    return found


def _offending(job) -> list[str]:
    return sorted({match.group(0) for text in _strings(job, [])
                   for match in [WRITE_CREDENTIAL.search(text)] if match})


def azure_problems(document: dict, name: str) -> list[str]:
    problems = []
    for stage in document.get("stages", []):
        for job in stage.get("jobs", []):
            if "deployment" in job and job.get("environment"):
                continue
            found = _offending(job)
            if found:
                problems.append(f"{name}: job {job.get('job')!r} of stage {stage.get('stage')!r} "
                                f"has no environment but receives {', '.join(found)}")
    return problems


def github_problems(document: dict, name: str) -> list[str]:
    problems = []
    for job_name, job in (document.get("jobs") or {}).items():
        if job.get("environment"):
            continue
        found = _offending(job)
        if found:
            problems.append(f"{name}: job {job_name!r} has no environment but receives "
                            f"{', '.join(found)}")
    return problems


def problems_in(path: Path) -> list[str]:
    document = yaml.safe_load(path.read_text()) or {}
    if "stages" in document:
        return azure_problems(document, path.name)
    return github_problems(document, path.name)


def main(paths: list[str]) -> int:
    problems = [problem for path in paths for problem in problems_in(Path(path))]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
