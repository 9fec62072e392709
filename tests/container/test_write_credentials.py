"""deploy/ci/write_credentials.py: a CI job without a protected environment (every branch and
pull request runs it) must not receive a credential that can write the model store or sign."""
import subprocess
import sys

import yaml

from tests.container.chart_support import CI, ROOT

SCRIPT = CI / "write_credentials.py"


def run(*files):
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, files)], capture_output=True,
                          text=True, check=False)


def test_the_projects_pipelines_pass():
    result = run(ROOT / "azure-pipelines.yml", *sorted((ROOT / ".github/workflows").glob("*.yml")))
    assert result.returncode == 0, result.stderr


def test_a_connection_string_in_a_github_job_without_environment_fails(tmp_path):
    workflow = {"on": "push", "jobs": {
        "build": {"runs-on": "x", "env": {
            "AZURE_STORAGE_CONNECTION_STRING": "${{ secrets.MODEL_STORE_CONNECTION_STRING }}"},
            "steps": [{"run": "true"}]},
        "publish": {"runs-on": "x", "environment": "model-publishing", "env": {
            "MODEL_SIGNING_KEY": "${{ secrets.MODEL_SIGNING_KEY }}"}, "steps": [{"run": "true"}]},
    }}
    path = tmp_path / "ci.yml"
    path.write_text(yaml.safe_dump(workflow))
    result = run(path)
    assert result.returncode == 1
    assert "job 'build' has no environment" in result.stderr
    assert "publish" not in result.stderr  # behind an environment: allowed


def test_an_azure_job_with_a_signing_key_fails_unless_it_is_a_deployment(tmp_path):
    steps = [{"script": "manage.py publish_model", "env": {"MODEL_SIGNING_KEY": "$(KEY)"}}]
    pipeline = {"stages": [{"stage": "Build", "jobs": [{"job": "Image", "steps": steps}]},
                           {"stage": "Publish", "jobs": [{"deployment": "Publish",
                                                          "environment": "models",
                                                          "steps": steps}]}]}
    path = tmp_path / "azure-pipelines.yml"
    path.write_text(yaml.safe_dump(pipeline))
    result = run(path)
    assert result.returncode == 1
    assert "job 'Image' of stage 'Build'" in result.stderr and "SIGNING_KEY" in result.stderr
    assert "Publish" not in result.stderr.split("receives")[0].replace("Build", "")


def test_a_read_only_sas_is_allowed(tmp_path):
    workflow = {"on": "push", "jobs": {"build": {"runs-on": "x", "env": {
        "AZURE_STORAGE_SAS_TOKEN": "${{ secrets.MODEL_STORE_READ_SAS }}"},
        "steps": [{"run": "true"}]}}}
    path = tmp_path / "ci.yml"
    path.write_text(yaml.safe_dump(workflow))
    assert run(path).returncode == 0
