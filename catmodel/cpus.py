"""How many CPUs this process may use: the container's CPU quota when it has one, else the cores
it may run on. No Django here: gunicorn's config, the model service and ONNX Runtime's thread
count can all use it.

``os.cpu_count()`` is the node's core count: a pod limited to 2 CPUs on a 32-core node would
size every pool for 32 and be throttled. The quota is the cgroup's:
- cgroup v2: ``cpu.max`` holds "QUOTA PERIOD" (microseconds) or "max QUOTA";
- cgroup v1: ``cpu.cfs_quota_us`` (-1: none) over ``cpu.cfs_period_us``.
A container sees its own cgroup at the root of /sys/fs/cgroup (cgroup namespaces, the default
of Kubernetes and podman). A fractional quota rounds down (1.5 CPUs: 1), never below one, as
Go's automaxprocs does: a thread more than the quota only waits for the throttle.

The consumers, each sized from ``available_cpus`` (docs/configuration.md): ONNX Runtime's intra-op
threads when MODEL_THREADS is 0 (catmodel/inference/model.py), gunicorn's workers and
MODEL_THREADS (catsite/gunicorn_conf.py), and the model service's decode and request slots and
its thread pool (catmodel/serving/). ``CATSITE_CGROUP_ROOT`` points them all at another folder
of cgroup files (tests write quota files there; a host that mounts the cgroup elsewhere).
"""
from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
CGROUP_ROOT_VARIABLE = "CATSITE_CGROUP_ROOT"
# Where cgroup v1 mounts the cpu controller (alone, or joined with cpuacct).
_V1_CPU_DIRS = ("cpu", "cpu,cpuacct", "cpuacct,cpu")


def default_cgroup_root() -> Path:
    """Where the process's cgroup files are: CATSITE_CGROUP_ROOT, else /sys/fs/cgroup."""
    return Path(os.environ.get(CGROUP_ROOT_VARIABLE) or CGROUP_ROOT)


def available_cpus(cgroup_root: Path | None = None) -> int:
    """The CPUs this process may use: the smaller of its CPU affinity and its cgroup's quota.
    ``cgroup_root``: the cgroup's folder (default: ``default_cgroup_root()``)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    cores = cores or os.cpu_count() or 1
    quota = cpu_quota(cgroup_root)
    if quota is None:
        return cores
    return max(1, min(cores, math.floor(quota)))


def cpu_quota(cgroup_root: Path | None = None) -> float | None:
    """The cgroup's CPU quota in CPUs (1.5 for "150000 100000"); None when there is none or it
    cannot be read."""
    root = Path(cgroup_root) if cgroup_root is not None else default_cgroup_root()
    v2 = _read(root / "cpu.max")
    if v2 is not None:
        fields = v2.split()
        return _ratio(fields[0], fields[1] if len(fields) > 1 else "100000")
    for folder in _V1_CPU_DIRS:
        quota = _read(root / folder / "cpu.cfs_quota_us")
        if quota is not None:
            return _ratio(quota, _read(root / folder / "cpu.cfs_period_us") or "100000")
    return None


def _ratio(quota: str, period: str) -> float | None:
    try:
        quota_us, period_us = int(quota), int(period)
    except ValueError:  # "max": no quota
        return None
    if quota_us <= 0 or period_us <= 0:  # v1 writes -1 for none
        return None
    return quota_us / period_us


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip() or None
    except OSError:
        return None
