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
