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


SIX = ("six==1.17.0 \\\n"
       "    --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274 \\\n"
       "    --hash=sha256:ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81\n")


def build_venv(tmp_path: Path, lock_text: str) -> tuple[subprocess.CompletedProcess, Path]:
    lock = tmp_path / "lock.txt"
    lock.write_text(lock_text)
    venv = tmp_path / "venvs" / "test-0"
    venv.parent.mkdir(parents=True)
    result = subprocess.run(
        ["bash", "-c", f'set -euo pipefail; source "{REPO}/scripts/lib.sh"; '
                       f'build_venv "{venv}" "{lock}"'],
        env={**os.environ, "CATSITE_CACHE_DIR": str(tmp_path)},
        capture_output=True, text=True, timeout=300,
    )
    return result, venv


def test_build_venv_shows_its_phases_and_count_and_keeps_pip_output_in_the_log(tmp_path):
    result, venv = build_venv(tmp_path, SIX)
    assert result.returncode == 0, result.stderr
    assert (venv / ".complete").exists()
    for phase in ("upgrading pip", "downloading and installing 1 packages", "1/1 collected",
                  "unpacking 1 packages", "done in"):
        assert phase in result.stderr
    # pip's own lines (and any warning) go to the log, not the terminal.
    assert "Successfully installed six-1.17.0" in Path(f"{venv}.pip.log").read_text()
    assert "Successfully installed" not in result.stderr


def test_build_venv_shows_pips_error_and_fails(tmp_path):
    wrong_hash = SIX.replace("4721f391", "00000000").replace("ff70335d", "00000000")
    result, venv = build_venv(tmp_path, wrong_hash)
    assert result.returncode == 1
    assert "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES" in result.stderr
    assert f"pip install failed (full log: {venv}.pip.log)" in result.stderr
    assert not (venv / ".complete").exists()
