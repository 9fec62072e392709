"""Stopping the servers that tests and benchmarks start (gunicorn, Azurite, a registry).

Each is started with start_new_session=True, so it leads its own process group and stopping
the group also ends what it started (gunicorn's workers, node's children).
"""
from __future__ import annotations

import os
import signal
import subprocess


def stop_process_group(process: subprocess.Popen, grace_seconds: float = 10) -> None:
    """SIGTERM the process's group, then SIGKILL it if it has not exited after the grace."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace_seconds)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass
