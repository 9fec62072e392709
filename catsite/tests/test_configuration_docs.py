"""Every environment variable catsite reads is documented in docs/configuration.md.

Two nets: the settings module is imported in a child process whose os.environ records every
name looked up (what django-environ and the settings read at import, whatever the spelling),
and the product's Python code is scanned for os.environ / os.getenv / env.*("NAME") reads (the
variables read later, at run time: gunicorn's config, the runtime, the stores).
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONFIGURATION_PAGE = REPO / "docs" / "configuration.md"
# Not product code: the tests, the benchmarks' and tests' helpers, migrations.
NOT_PRODUCT = ("tests", "testsupport", "bench", "migrations", ".venv", "node_modules", "var")
# Read by libraries or the platform, documented by them, not ours to list.
NOT_OURS = {"DJANGO_SETTINGS_MODULE", "HOME", "PATH", "TMPDIR", "PYTHONPATH"}

RECORD_SETTINGS_READS = r"""
import collections.abc, json, os, sys

class RecordingEnviron(collections.abc.MutableMapping):
    def __init__(self, real):
        self.real, self.read = real, set()
    def __getitem__(self, key):
        self.read.add(key)
        return self.real[key]
    def __contains__(self, key):
        self.read.add(key)
        return key in self.real
    def __setitem__(self, key, value):
        self.real[key] = value
    def __delitem__(self, key):
        del self.real[key]
    def __iter__(self):
        return iter(self.real)
    def __len__(self):
        return len(self.real)
    def copy(self):
        return dict(self.real)

os.environ = recording = RecordingEnviron(os.environ)
import catsite.settings  # noqa: E402,F401
print(json.dumps(sorted(recording.read)))
"""

ENV_READ = re.compile(
    r"""(?:\benv(?:\.\w+)?\(|os\.environ\.get\(|os\.getenv\(|os\.environ\[|environ\.get\()\s*
        ["']([A-Z][A-Z0-9_]{2,})["']""",
    re.VERBOSE,
)


def documented() -> set[str]:
    return set(re.findall(r"`([A-Z][A-Z0-9_]{2,})`", CONFIGURATION_PAGE.read_text()))


def settings_reads() -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update(DJANGO_SECRET_KEY="configuration-docs-test", PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", RECORD_SETTINGS_READS], cwd=REPO, env=env,
                         capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def code_reads() -> dict[str, str]:
    found = {}
    for path in REPO.rglob("*.py"):
        relative = path.relative_to(REPO)
        if any(part in NOT_PRODUCT or part.startswith("test_") for part in relative.parts):
            continue
        for name in ENV_READ.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, str(relative))
    return found


def test_every_variable_the_settings_read_is_documented():
    missing = sorted(settings_reads() - documented() - NOT_OURS)
    assert not missing, f"docs/configuration.md does not list {missing}: add a row for each"


def test_every_variable_the_code_reads_is_documented():
    reads = code_reads()
    missing = {name: where for name, where in reads.items()
               if name not in documented() and name not in NOT_OURS}
    assert not missing, f"docs/configuration.md does not list {missing}: add a row for each"


def test_the_recording_sees_what_the_settings_read():
    # The net itself: a variable the settings are known to read is seen, so an empty result
    # cannot pass the first test by accident.
    assert {"DJANGO_DEBUG", "DATABASE_URL", "MODEL_DIR"} <= settings_reads()
