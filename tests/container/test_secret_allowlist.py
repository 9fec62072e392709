"""deploy/ci/secret_allowlist.py (issue 24 item 12): a CI job receives only the secrets
deploy/ci/ci-secrets.yml allows it, and only in the environment it names; the registry password
reaches no job that every branch runs."""
import subprocess
import sys

import yaml

from tests.container.chart_support import CI, ROOT

SCRIPT = CI / "secret_allowlist.py"
ALLOWLIST = CI / "ci-secrets.yml"
PUSH_ENV = {"REGISTRY_USERNAME": "${{ secrets.REGISTRY_USERNAME }}",
            "REGISTRY_PASSWORD": "${{ secrets.REGISTRY_PASSWORD }}"}


def run(*files):
    return subprocess.run([sys.executable, str(SCRIPT), str(ALLOWLIST), *map(str, files)],
                          capture_output=True, text=True, check=False)


def workflow(tmp_path, jobs: dict, **top):
    path = tmp_path / "ci.yml"
    path.write_text(yaml.safe_dump({"on": "push", **top, "jobs": jobs}))
    return path


def job(env=None, **fields):
    return {"runs-on": "x", "env": env or {}, "steps": [{"run": "true"}], **fields}


def test_the_projects_pipelines_pass():
    result = run(ROOT / "azure-pipelines.yml", *sorted((ROOT / ".github/workflows").glob("*.yml")))
    assert result.returncode == 0, result.stderr


def test_the_registry_password_in_the_image_job_fails(tmp_path):
    # The shape before the fix: the job every branch runs held the registry credentials.
    result = run(workflow(tmp_path, {"image": job({
        "AZURE_STORAGE_SAS_TOKEN": "${{ secrets.MODEL_STORE_READ_SAS }}", **PUSH_ENV})}))
    assert result.returncode == 1
    assert ("job 'image' receives REGISTRY_PASSWORD, REGISTRY_USERNAME, which "
            "deploy/ci/ci-secrets.yml does not allow it") in result.stderr


def test_the_push_job_gets_them_only_in_its_environment(tmp_path):
    allowed = {"push": job(PUSH_ENV, environment="registry")}
    assert run(workflow(tmp_path, allowed)).returncode == 0
    for environment in (None, "staging", {"name": "other"}):
        fields = {"environment": environment} if environment else {}
        result = run(workflow(tmp_path, {"push": job(PUSH_ENV, **fields)}))
        assert result.returncode == 1
        assert "job 'push' receives secrets outside its environment 'registry'" in result.stderr


def test_a_job_outside_the_allowlist_or_a_secret_by_any_name_fails(tmp_path):
    cases = {
        "job 'lint' receives NPM_TOKEN": {"lint": job({"T": "${{ secrets['NPM_TOKEN'] }}"})},
        "job 'image' receives ANY_NAME_AT_ALL": {"image": job(
            steps=[{"run": "echo ${{ secrets.ANY_NAME_AT_ALL }}"}])},
        "job 'image' receives all secrets": {"image": job({"A": "${{ toJSON(secrets) }}"})},
        "job 'reuse' receives secrets: inherit": {"reuse": {"uses": "./.github/workflows/x.yml",
                                                           "secrets": "inherit"}},
    }
    for expected, jobs in cases.items():
        result = run(workflow(tmp_path, jobs))
        assert result.returncode == 1 and expected in result.stderr, (expected, result.stderr)
    # A workflow-level env hands its secrets to every job.
    result = run(workflow(tmp_path, {"image": job()},
                          env={"P": "${{ secrets.REGISTRY_PASSWORD }}"}))
    assert result.returncode == 1 and "job 'image' receives REGISTRY_PASSWORD" in result.stderr


def test_azure_registry_connection_outside_the_publish_environment_fails(tmp_path):
    login = {"task": "Docker@2", "inputs": {"command": "login", "containerRegistry": "catsite-acr"}}
    read_sas = {"script": "true", "env": {"AZURE_STORAGE_SAS_TOKEN": "$(MODEL_STORE_READ_SAS)"}}
    pipeline = {"stages": [
        {"stage": "Build", "jobs": [{"job": "Image", "steps": [read_sas, login]}]},
        {"stage": "Publish", "jobs": [{"deployment": "Push", "environment": "catsite-registry",
                                       "strategy": {"runOnce": {"deploy": {"steps": [login]}}}}]},
    ]}
    path = tmp_path / "azure-pipelines.yml"
    path.write_text(yaml.safe_dump(pipeline))
    result = run(path)
    assert result.returncode == 1
    assert result.stderr.strip() == ("azure-pipelines.yml: job 'Build.Image' receives catsite-acr, "
                                     "which deploy/ci/ci-secrets.yml does not allow it")
