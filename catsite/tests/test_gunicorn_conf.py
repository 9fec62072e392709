"""catsite/gunicorn_conf.py sizes gunicorn from the container's CPU quota (catmodel/cpus.py),
not the node's cores; each worker is warm before it takes traffic. The configuration is
imported in a process of its own (it reads its environment once, at import), pointed at quota
files the test writes (CATSITE_CGROUP_ROOT)."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from catmodel.cpus import CGROUP_ROOT_VARIABLE
from testsupport import tiny_package
from testsupport.harness import (
    PYTHON,
    ROOT,
    GunicornServer,
    base_env,
    install_model,
    manage,
    request,
)

CORES = len(os.sched_getaffinity(0))
# What the configuration derives, read back after importing it.
READ_BACK = """
import json, os
import catsite.gunicorn_conf as conf
print(json.dumps({"workers": conf.workers, "threads": conf.threads,
                  "MODEL_THREADS": int(os.environ["MODEL_THREADS"]),
                  "IDENTIFY_MAX_CONCURRENT": int(os.environ["IDENTIFY_MAX_CONCURRENT"])}))
"""
DERIVED = ("WEB_CONCURRENCY", "GUNICORN_THREADS", "MODEL_THREADS", "IDENTIFY_MAX_CONCURRENT",
           "PROMETHEUS_MULTIPROC_DIR", CGROUP_ROOT_VARIABLE)


def quota_files(root, files: dict[str, str]):
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text + "\n")
    return root


def derived(cgroup_root, **env) -> dict:
    clean = {key: value for key, value in os.environ.items() if key not in DERIVED}
    result = subprocess.run([PYTHON, "-c", READ_BACK], cwd=ROOT, text=True,
                            capture_output=True, check=False,
                            env={**clean, CGROUP_ROOT_VARIABLE: str(cgroup_root), **env})
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("files, cpus", [
    ({"cpu.max": "150000 100000"}, 1),                                      # v2, 1.5 CPUs
    ({"cpu.max": "max 100000"}, CORES),                                     # v2, no limit
    ({"cpu/cpu.cfs_quota_us": "100000", "cpu/cpu.cfs_period_us": "100000"}, 1),   # v1
    ({"cpu,cpuacct/cpu.cfs_quota_us": "-1",
      "cpu,cpuacct/cpu.cfs_period_us": "100000"}, CORES),                   # v1, no limit
])
def test_workers_and_model_threads_follow_the_quota(tmp_path, files, cpus):
    values = derived(quota_files(tmp_path, files))
    workers = min(cpus, 4)
    assert values["workers"] == workers
    assert values["MODEL_THREADS"] == max(1, cpus // workers)
    # Not CPU-bound: threads read uploads while others infer; the cap leaves one to pages.
    assert values["threads"] == 4 and values["IDENTIFY_MAX_CONCURRENT"] == 3


def test_with_workers_given_the_quota_is_divided_between_them(tmp_path):
    root = quota_files(tmp_path, {"cpu.max": "max 100000"})
    assert derived(root, WEB_CONCURRENCY="1")["MODEL_THREADS"] == CORES
    assert derived(root, WEB_CONCURRENCY="1", MODEL_THREADS="3")["MODEL_THREADS"] == 3
    one_cpu = quota_files(tmp_path / "one", {"cpu.max": "100000 100000"})
    assert derived(one_cpu, WEB_CONCURRENCY="3")["MODEL_THREADS"] == 1  # never below one


def test_each_worker_warms_up_before_serving_in_a_one_cpu_container(tmp_path):
    """gunicorn with the project's configuration in a container of one CPU (the quota files
    of the test): one worker, which has run its warm-up inference before its first answer."""
    env = base_env(tmp_path)
    manage(env, "migrate", "--no-input", "-v", "0")  # /readyz needs no static files
    install_model(tiny_package.write_package(tmp_path / "tiny"), tmp_path / "model")
    root = quota_files(tmp_path / "cgroup", {"cpu.max": "100000 100000"})
    env.update(MODEL_REQUIRED="1", LOG_LEVEL="INFO", **{CGROUP_ROOT_VARIABLE: str(root)})
    for derived_here in DERIVED[:-1]:  # the test's own CATSITE_CGROUP_ROOT stays
        env.pop(derived_here, None)
    with GunicornServer(env) as server:
        status, _headers, body = request("GET", server.url + "/readyz", timeout=10)
        assert status == 200, body
        model = json.loads(body)["checks"]["model"]
        assert model["loaded"] and model["warm_up_ms"] > 0
        assert len(server.worker_pids()) == 1
        logs = server.logs()
    assert logs.count("Loaded model tiny-colours 0.0.1") == 1
    assert "(warm-up inference" in logs
