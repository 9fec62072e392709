"""Production settings: `manage.py check --deploy` is clean, and missing secrets fail loudly.

Each case runs manage.py in a fresh process with only the environment production would have,
since settings are read once, at import.
"""
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROJECT_KEY = REPO / "deploy" / "keys" / "catsite-models-2026-12.pub"
# Settings that a developer's shell or CI may export and that must not leak into these runs.
CATSITE_VARIABLES = ("DJANGO_", "DATABASE_URL", "CACHE_URL", "MODEL_", "MEDIA_", "STATIC_ROOT",
                     "SERVE_MEDIA", "APP_REVISION")


def manage(*args, tmp_path, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(CATSITE_VARIABLES)}
    clean.update(DJANGO_SETTINGS_MODULE="catsite.settings", CATSITE_VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=clean, capture_output=True,
        text=True, timeout=120, check=False,
    )


def production_env(**changes):
    env = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "cats.example.org",
        "DJANGO_HTTPS": "1",
        "MODEL_TRUSTED_KEYS": str(PROJECT_KEY),
    }
    env.update(changes)
    return env


def test_check_deploy_reports_nothing_in_production(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "DEBUG", tmp_path=tmp_path,
                    **production_env())
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_check_deploy_catches_a_site_served_without_https(tmp_path):
    # The same check must be able to fail, or the test above proves nothing.
    result = manage("check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path,
                    **production_env(DJANGO_HTTPS="0"))
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout  # SECURE_SSL_REDIRECT


def test_check_deploy_fails_when_model_signatures_are_not_required(tmp_path):
    # Issue 24 item 10: an error, as the web process refuses to start on these settings.
    result = manage("check", "--deploy", tmp_path=tmp_path,
                    **production_env(MODEL_TRUSTED_KEYS=""))
    assert result.returncode != 0
    assert "classifier.E014" in result.stderr + result.stdout
    assert "or MODEL_ALLOW_UNSIGNED=1 to serve unsigned models" in result.stderr + result.stdout


def test_check_deploy_warns_when_unsigned_models_are_allowed_deliberately(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", tmp_path=tmp_path,
                    **production_env(MODEL_TRUSTED_KEYS="", MODEL_ALLOW_UNSIGNED="1"))
    assert result.returncode != 0
    assert "classifier.W001" in result.stderr + result.stdout
    assert "classifier.E014" not in result.stderr + result.stdout


def test_an_unreadable_trusted_key_fails_the_checks(tmp_path):
    result = manage("check", "--deploy", tmp_path=tmp_path,
                    **production_env(MODEL_TRUSTED_KEYS=str(tmp_path / "missing.pub")))
    assert result.returncode != 0
    assert "classifier.E013" in result.stderr + result.stdout


def test_a_missing_secret_key_with_debug_off_stops_with_a_clear_message(tmp_path):
    env = production_env()
    del env["DJANGO_SECRET_KEY"]
    result = manage("check", tmp_path=tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY is not set" in result.stderr


def test_debug_runs_without_a_secret_key_for_local_development(tmp_path):
    result = manage("check", tmp_path=tmp_path, DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("url,engine", [
    ("postgres://catsite:pw@db.internal:5432/catsite", "django.db.backends.postgresql"),
    ("sqlite:////tmp/catsite-test.sqlite3", "django.db.backends.sqlite3"),
])
def test_the_database_comes_from_database_url(tmp_path, url, engine):
    code = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    result = manage(
        "shell", "--no-imports", "-c", code, tmp_path=tmp_path, **production_env(DATABASE_URL=url)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == engine


def test_without_database_url_a_newcomer_gets_an_sqlite_file(tmp_path):
    code = "from django.conf import settings; print(settings.DATABASES['default']['NAME'])"
    result = manage("shell", "--no-imports", "-c", code, tmp_path=tmp_path, DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "db.sqlite3")


def test_an_sqlite_database_writes_ahead_and_syncs_only_at_checkpoints(tmp_path):
    code = ("from django.db import connection\n"
            "with connection.cursor() as cursor:\n"
            "    modes = [cursor.execute(f'PRAGMA {p}').fetchone()[0]\n"
            "             for p in ('journal_mode', 'synchronous')]\n"
            "print(modes)")
    result = manage("shell", "--no-imports", "-c", code, tmp_path=tmp_path, DJANGO_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['wal', 1]"  # synchronous 1: NORMAL (the default is 2)


def test_importing_the_settings_does_no_io(tmp_path):
    """Settings only read the environment: no .git read, no folder made, no Azure credential
    built (each happens where it is used: catsite/revision.py, catsite/apps.py, the storage)."""
    probe = (
        "import json, sys\n"
        "events = []\n"
        "def hook(event, args):\n"
        "    if event == 'os.mkdir' or (event == 'open' and '.git' in str(args[0])):\n"
        "        events.append([event, str(args[0])])\n"
        "sys.addaudithook(hook)\n"
        "import catsite.settings\n"
        "print(json.dumps({'events': events, 'identity': 'azure.identity' in sys.modules}))\n"
    )
    clean = {k: v for k, v in os.environ.items() if not k.startswith(CATSITE_VARIABLES)}
    clean.update(CATSITE_VAR_DIR=str(tmp_path / "var"), AZURE_MEDIA_CONTAINER="media",
                 AZURE_ACCOUNT_NAME="acct", **production_env())
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=clean,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen == {"events": [], "identity": False}
    assert not (tmp_path / "var").exists()
