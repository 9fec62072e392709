"""scripts/lib.sh, the shell library of scripts/ and deploy/ci/, run by bash itself."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOUR = 3600


def lib(command: str, cache_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", f'set -euo pipefail; source "{REPO}/scripts/lib.sh"; {command}'],
        env={**os.environ, "CATSITE_CACHE_DIR": str(cache_dir)},
        capture_output=True, text=True, timeout=60,
    )


def make_venv(cache_dir: Path, name: str, last_used_hours_ago: float | None) -> Path:
    """A stand-in environment; ``None``: still being built (no .complete yet)."""
    venv = cache_dir / "venvs" / name
    (venv / "bin").mkdir(parents=True)
    if last_used_hours_ago is not None:
        stamp = time.time() - last_used_hours_ago * HOUR
        (venv / ".complete").touch()
        os.utime(venv / ".complete", (stamp, stamp))
    return venv


def test_pruning_keeps_the_two_last_used_and_every_one_used_within_a_day(tmp_path):
    ages = {"dev-now": 0, "dev-1h": 1, "dev-20h": 20, "dev-2d": 48, "dev-3d": 72,
            "dev-building": None}
    for name, age in ages.items():
        make_venv(tmp_path, name, age)
    result = lib("prune_venvs", tmp_path)
    assert result.returncode == 0, result.stderr
    left = sorted(path.name for path in (tmp_path / "venvs").iterdir())
    # dev-20h is third, beyond the two kept, but another worktree used it today.
    assert left == ["dev-1h", "dev-20h", "dev-building", "dev-now"]
    assert "Removing the environment" in result.stderr and "dev-3d" in result.stderr


def test_pruning_never_removes_the_two_last_used_however_old(tmp_path):
    for name, age in {"dev-a": 100, "dev-b": 200}.items():
        make_venv(tmp_path, name, age)
    assert lib("prune_venvs", tmp_path).returncode == 0
    assert sorted(path.name for path in (tmp_path / "venvs").iterdir()) == ["dev-a", "dev-b"]


def test_content_hash_is_the_cache_key_of_the_files_contents(tmp_path):
    (tmp_path / "a.txt").write_text("one\n")
    (tmp_path / "b.txt").write_text("two\n")
    first = lib(f'content_hash "{tmp_path}/a.txt" "{tmp_path}/b.txt"', tmp_path).stdout.strip()
    again = lib(f'content_hash "{tmp_path}/a.txt" <(echo two)', tmp_path).stdout.strip()
    assert len(first) == 16 and first == again
    (tmp_path / "b.txt").write_text("three\n")
    assert lib(f'content_hash "{tmp_path}/a.txt" "{tmp_path}/b.txt"', tmp_path).stdout.strip() \
        != first


def test_die_names_the_script_and_fails(tmp_path):
    result = lib('die "the model is missing"', tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == "==> [bash] error: the model is missing"
