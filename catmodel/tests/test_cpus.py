"""catmodel/cpus.py: the CPU quota of a container, read from cgroup files the tests write."""
from __future__ import annotations

import os

import pytest

from catmodel.cpus import available_cpus, cpu_quota

CORES = len(os.sched_getaffinity(0))


def cgroup(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return tmp_path


@pytest.mark.parametrize("files, quota", [
    ({"cpu.max": "200000 100000"}, 2.0),                  # cgroup v2, limits.cpu: 2
    ({"cpu.max": "50000 100000"}, 0.5),                   # 500m
    ({"cpu.max": "max 100000"}, None),                    # no limit
    ({"cpu/cpu.cfs_quota_us": "150000", "cpu/cpu.cfs_period_us": "100000"}, 1.5),  # v1
    ({"cpu,cpuacct/cpu.cfs_quota_us": "100000",
      "cpu,cpuacct/cpu.cfs_period_us": "50000"}, 2.0),
    ({"cpu/cpu.cfs_quota_us": "-1", "cpu/cpu.cfs_period_us": "100000"}, None),
    ({}, None),                                           # no cgroup files at all
])
def test_the_quota_is_read_from_cgroup_v2_or_v1(tmp_path, files, quota):
    assert cpu_quota(cgroup(tmp_path, files)) == quota


def test_a_quota_below_the_cores_wins_rounded_down_and_never_below_one(tmp_path):
    assert available_cpus(cgroup(tmp_path / "a", {"cpu.max": "100000 100000"})) == 1
    assert available_cpus(cgroup(tmp_path / "b", {"cpu.max": "190000 100000"})) == 1
    assert available_cpus(cgroup(tmp_path / "c", {"cpu.max": "10000 100000"})) == 1


def test_without_a_quota_or_with_a_larger_one_the_cores_count(tmp_path):
    assert available_cpus(cgroup(tmp_path / "a", {"cpu.max": "max 100000"})) == CORES
    assert available_cpus(cgroup(tmp_path / "b", {"cpu.max": f"{64 * 100000} 100000"})) == CORES
    assert available_cpus(tmp_path / "missing") == CORES


# --- the consumers: each derives its size from the quota files of a cgroup_root ------------------
# (gunicorn's workers and MODEL_THREADS: catsite/tests/test_gunicorn_conf.py)
QUOTAS = [
    ({"cpu.max": "150000 100000"}, 1),                                      # v2, 1.5 CPUs
    ({"cpu.max": "max 100000"}, CORES),                                     # v2, no limit
    ({"cpu/cpu.cfs_quota_us": "100000", "cpu/cpu.cfs_period_us": "100000"}, 1),    # v1, 1 CPU
    ({"cpu,cpuacct/cpu.cfs_quota_us": "-1",
      "cpu,cpuacct/cpu.cfs_period_us": "100000"}, CORES),                   # v1, no limit
]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    from testsupport import tiny_package

    return tiny_package.write_package(tmp_path_factory.mktemp("tiny"))


@pytest.mark.parametrize("files, cpus", QUOTAS)
def test_onnx_runtime_threads_follow_the_quota_when_not_given(tmp_path, tiny_dir, files, cpus):
    from catmodel.inference import load_classifier

    classifier = load_classifier(tiny_dir, cgroup_root=cgroup(tmp_path, files))
    assert classifier.session.get_session_options().intra_op_num_threads == cpus


def test_a_thread_count_given_wins_over_the_quota(tmp_path, tiny_dir):
    from catmodel.inference import load_classifier

    root = cgroup(tmp_path, {"cpu.max": "100000 100000"})
    classifier = load_classifier(tiny_dir, threads=3, cgroup_root=root)
    assert classifier.session.get_session_options().intra_op_num_threads == 3


@pytest.mark.parametrize("files, cpus", QUOTAS)
def test_the_model_services_slots_and_threads_follow_the_quota(tmp_path, tiny_dir, files, cpus):
    from catmodel.inference import load_classifier
    from catmodel.serving.model import CatsiteModel

    model = CatsiteModel(load_classifier(tiny_dir, threads=1),
                         cgroup_root=cgroup(tmp_path, files))
    # Decode slots and request slots; the event loop's pool: a decode and a run per slot.
    assert model.slots == cpus
    assert model.threads == 2 * cpus


def test_catsite_cgroup_root_points_every_consumer_elsewhere(tmp_path, monkeypatch):
    from catmodel.cpus import CGROUP_ROOT_VARIABLE, default_cgroup_root

    root = cgroup(tmp_path, {"cpu.max": "100000 100000"})
    monkeypatch.setenv(CGROUP_ROOT_VARIABLE, str(root))
    assert default_cgroup_root() == root
    assert cpu_quota() == 1.0 and available_cpus() == 1
