"""Model delivery through a local-directory store: the newcomer's path, and everything about
verification and installation that does not depend on the kind of store."""
from __future__ import annotations

import io
import json
import re
import resource
from types import SimpleNamespace

import pytest
from django.core.management import CommandError

from catmodel.delivery.errors import (
    PackageInvalid,
    PackageMismatch,
    StoreNotConfigured,
)
from catmodel.delivery.fetch import fetch_model
from catmodel.delivery.local_store import LocalDirectoryStore
from catmodel.delivery.progress import Progress
from catmodel.delivery.publish import publish_package
from catmodel.delivery.store_choice import store_from_settings
from testsupport.delivery import (
    NAME,
    assert_serves,
    current_version,
    fetch,
    make_package,
    publish,
    run_manage,
    snapshot,
)


@pytest.fixture
def store_dir(settings, tmp_path):
    settings.MODEL_STORE = str(tmp_path / "store")
    settings.MODEL_NAME = NAME
    settings.MODEL_STORE_PREFIX = ""
    settings.MODEL_DIR = tmp_path / "model"
    return tmp_path / "store"


def test_publish_then_fetch_latest(store_dir, settings, tmp_path):
    package = make_package(tmp_path / "build", "1.0.0")
    output = publish(package)
    assert "Published tiny-colours 1.0.0" in output
    assert (store_dir / NAME / "latest").read_text().strip() == "1.0.0"
    assert (store_dir / NAME / "1.0.0" / "model.onnx").read_bytes() == (
        package / "model.onnx").read_bytes()

    output = fetch()
    assert "current: nothing -> 1.0.0" in output
    assert_serves(settings.MODEL_DIR, "1.0.0")
    # Only the installed layout is left: no temporary download directory.
    assert sorted(p.name for p in settings.MODEL_DIR.iterdir()) == [
        ".fetch.lock", "current", "versions"]


def test_leftovers_of_a_killed_fetch_are_cleaned_up(store_dir, settings, tmp_path):
    publish(make_package(tmp_path / "build", "1.0.0"))
    leftover = settings.MODEL_DIR / ".incoming-x1y2"
    leftover.mkdir(parents=True)
    (leftover / "model.onnx").write_bytes(b"half a download")
    (settings.MODEL_DIR / ".incoming-current-999").symlink_to("versions/0.0.9")
    fetch()
    assert sorted(p.name for p in settings.MODEL_DIR.iterdir()) == [
        ".fetch.lock", "current", "versions"]


def test_relative_store_path_is_under_the_project_folder(tmp_path):
    fake = SimpleNamespace(MODEL_STORE="var/model-store", MODEL_STORE_PREFIX="", BASE_DIR=tmp_path)
    store = store_from_settings(fake)
    assert isinstance(store, LocalDirectoryStore)
    assert store.root == tmp_path / "var" / "model-store"
    fake.MODEL_STORE = f"file://{tmp_path}/elsewhere"
    assert store_from_settings(fake).root == tmp_path / "elsewhere"


def test_prefix_places_packages_below_it(store_dir, settings, tmp_path):
    settings.MODEL_STORE_PREFIX = "team/models"
    publish(make_package(tmp_path / "build", "1.0.0"))
    assert (store_dir / "team" / "models" / NAME / "1.0.0" / "manifest.json").is_file()
    fetch()
    assert current_version(settings.MODEL_DIR) == "1.0.0"


def test_rollback_to_a_kept_version_downloads_nothing(store_dir, settings, tmp_path):
    publish(make_package(tmp_path / "build", "1.0.0"))
    fetch()
    publish(make_package(tmp_path / "build", "2.0.0"))
    fetch()
    assert current_version(settings.MODEL_DIR) == "2.0.0"
    # The store loses the old version; rolling back must not need it.
    (store_dir / NAME / "1.0.0" / "model.onnx").unlink()
    output = fetch("--version", "1.0.0")
    assert "nothing downloaded" in output and "current: 2.0.0 -> 1.0.0" in output
    assert_serves(settings.MODEL_DIR, "1.0.0")


def test_keep_limits_the_versions_kept_for_rollback(store_dir, settings, tmp_path):
    for version in ("1.0.0", "2.0.0", "3.0.0", "4.0.0"):
        publish(make_package(tmp_path / "build", version))
        fetch("--keep", "1")
    versions = sorted(p.name for p in (settings.MODEL_DIR / "versions").iterdir())
    assert versions == ["3.0.0", "4.0.0"]
    assert current_version(settings.MODEL_DIR) == "4.0.0"


def test_publishing_an_existing_version_needs_force(store_dir, tmp_path):
    package = make_package(tmp_path / "build", "1.0.0")
    publish(package)
    with pytest.raises(CommandError, match="already published.*--force"):
        publish(package)
    assert "Published" in publish(package, "--force")


def test_version_option_publishes_under_another_version(store_dir, settings, tmp_path):
    publish(make_package(tmp_path / "build", "1.0.0"), "--version", "1.0.1")
    manifest = json.loads((store_dir / NAME / "1.0.1" / "manifest.json").read_text())
    assert manifest["version"] == "1.0.1"
    fetch()
    assert_serves(settings.MODEL_DIR, "1.0.1")


def test_publish_refuses_files_that_do_not_match_the_manifest(store_dir, tmp_path):
    package = make_package(tmp_path / "build", "1.0.0")
    with open(package / "model.onnx", "ab") as stream:
        stream.write(b"\0")
    with pytest.raises(CommandError, match=r"does not match its manifest: is 346 bytes"):
        publish(package)
    assert not store_dir.exists()  # nothing was uploaded, not even the container made


def test_publish_refuses_a_file_the_manifest_does_not_list(store_dir, tmp_path):
    # The loader's rule: a package holds only what its manifest lists (and the signature).
    package = make_package(tmp_path / "build", "1.0.0")
    (package / "notes.txt").write_text("would not be published")
    with pytest.raises(CommandError, match=r"notes.txt does not match its manifest: is in the "
                                           r"package but not listed in manifest.json"):
        publish(package)
    assert not store_dir.exists()
    (package / "notes.txt").unlink()
    (package / "model.sig").write_bytes(b"a signature")  # reserved: may sit beside the files
    assert "Published tiny-colours 1.0.0" in publish(package)


@pytest.mark.parametrize("version", ["1.0.1\n", "../1.0.1", ".."])
def test_publish_and_fetch_refuse_a_version_that_is_not_one_path_component(store_dir, tmp_path,
                                                                           version):
    package = make_package(tmp_path / "build", "1.0.0")
    with pytest.raises(CommandError, match="--version .* is not allowed: use letters, digits"):
        publish(package, "--version", version)
    assert not store_dir.exists()
    with pytest.raises(CommandError, match="--version .* is not allowed"):
        fetch("--version", version)


def test_an_installed_version_with_a_stray_file_is_downloaded_again(store_dir, settings,
                                                                    tmp_path):
    publish(make_package(tmp_path / "build", "1.0.0"))
    fetch()
    installed = snapshot(settings.MODEL_DIR)
    stray = settings.MODEL_DIR / "versions" / "1.0.0" / "notes.txt"
    stray.write_text("not part of the package")
    output = fetch()
    assert "nothing downloaded" not in output
    assert not stray.exists()
    assert snapshot(settings.MODEL_DIR) == installed
    assert_serves(settings.MODEL_DIR, "1.0.0")


def test_publish_refuses_a_package_the_app_cannot_serve(store_dir, tmp_path):
    package = make_package(tmp_path / "build", "1.0.0")
    manifest = json.loads((package / "manifest.json").read_text())
    manifest["labels"] = manifest["labels"][:3]  # the network has 5 outputs
    (package / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="cannot be served by this app"):
        publish(package)
    manifest["format"] = "something-else/2"
    (package / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="not a package this app can serve: format"):
        publish(package)


def test_fetch_refuses_a_stored_package_the_app_cannot_serve(store_dir, settings, tmp_path):
    publish(make_package(tmp_path / "build", "1.0.0"))
    fetch()
    before = snapshot(settings.MODEL_DIR)
    # Written straight into the store, past publish_model's checks.
    bad = make_package(tmp_path / "bad", "2.0.0")
    manifest = json.loads((bad / "manifest.json").read_text())
    manifest["labels"] = manifest["labels"][:3]
    target = store_dir / NAME / "2.0.0"
    target.mkdir()
    (target / "model.onnx").write_bytes((bad / "model.onnx").read_bytes())
    (target / "manifest.json").write_text(json.dumps(manifest))
    (store_dir / NAME / "latest").write_text("2.0.0\n")
    with pytest.raises(CommandError, match="cannot be served by this app"):
        fetch()
    assert snapshot(settings.MODEL_DIR) == before


def test_tampered_file_in_the_store_is_rejected(store_dir, settings, tmp_path):
    publish(make_package(tmp_path / "build", "1.0.0"))
    fetch()
    before = snapshot(settings.MODEL_DIR)
    publish(make_package(tmp_path / "build", "2.0.0", labels=1000))
    stored = store_dir / NAME / "2.0.0" / "model.onnx"
    data = bytearray(stored.read_bytes())
    data[-1] ^= 0xFF  # same size, different bytes
    stored.write_bytes(bytes(data))
    with pytest.raises(CommandError, match="has sha256 .* tampered with"):
        fetch()
    assert snapshot(settings.MODEL_DIR) == before
    assert_serves(settings.MODEL_DIR, "1.0.0")


def test_store_not_configured(settings):
    settings.MODEL_STORE = ""
    with pytest.raises(CommandError, match="no model store is configured: set MODEL_STORE"):
        fetch()
    with pytest.raises(StoreNotConfigured, match="AZURE_STORAGE_CONNECTION_STRING"):
        store_from_settings(SimpleNamespace(
            MODEL_STORE="azure", MODEL_STORE_PREFIX="", MODEL_STORE_CONTAINER="models",
            AZURE_STORAGE_CONNECTION_STRING="", AZURE_STORAGE_ACCOUNT_URL="",
            AZURE_STORAGE_SAS_TOKEN="", AZURE_USE_DEFAULT_CREDENTIAL=False,
            MODEL_STORE_TIMEOUT_SECONDS=1, MODEL_STORE_RETRIES=0,
        ))


def test_missing_store_directory_and_missing_version(store_dir, settings, tmp_path):
    with pytest.raises(CommandError, match="local model store .* does not exist"):
        fetch()
    publish(make_package(tmp_path / "build", "1.0.0"))
    with pytest.raises(CommandError, match="version 9.9.9 of model tiny-colours is not in"):
        fetch("--version", "9.9.9")
    assert not settings.MODEL_DIR.exists() or snapshot(settings.MODEL_DIR) == {}


def test_current_as_a_real_directory_is_not_replaced(store_dir, settings, tmp_path):
    publish(make_package(tmp_path / "build", "1.0.0"))
    (settings.MODEL_DIR / "current").mkdir(parents=True)
    (settings.MODEL_DIR / "current" / "keep-me").write_text("operator's file")
    with pytest.raises(CommandError, match="is a real directory, not a symlink"):
        fetch()
    assert (settings.MODEL_DIR / "current" / "keep-me").read_text() == "operator's file"


def test_disk_write_failure_leaves_the_installed_model(store_dir, settings, tmp_path):
    publish(make_package(tmp_path / "build", "1.0.0"))
    fetch()
    before = snapshot(settings.MODEL_DIR)
    publish(make_package(tmp_path / "build", "2.0.0", labels=1000))  # a 16 kB model.onnx

    def small_file_limit():
        # A file-size limit makes writes past 4 kB fail with EFBIG, as a full disk would fail.
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, resource.RLIM_INFINITY))

    result = run_manage("fetch_model", env={
        "MODEL_STORE": str(store_dir), "MODEL_NAME": NAME, "MODEL_DIR": str(settings.MODEL_DIR),
    }, preexec_fn=small_file_limit)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1, result.stderr  # one line
    assert re.match(r"CommandError: writing \S+ in \S+ failed: File too large; free disk space "
                    r"or fix the permissions", result.stderr), result.stderr
    assert snapshot(settings.MODEL_DIR) == before
    assert_serves(settings.MODEL_DIR, "1.0.0")


def test_fetch_by_api_reports_what_it_did(store_dir, settings, tmp_path):
    publish(make_package(tmp_path / "build", "1.0.0"))
    store = store_from_settings(settings)
    first = fetch_model(store, NAME, settings.MODEL_DIR)
    assert first.downloaded == ["manifest.json", "model.onnx"]
    assert first.downloaded_bytes == sum(
        p.stat().st_size for p in (store_dir / NAME / "1.0.0").iterdir())
    again = fetch_model(store, NAME, settings.MODEL_DIR)
    assert again.downloaded == [] and not again.switched


def test_progress_is_a_bar_on_a_terminal_and_a_few_lines_in_logs():
    log = io.StringIO()
    progress = Progress(log, "model.onnx", tty=False)
    for done in range(0, 20_000_001, 200_000):
        progress.update(done, 20_000_000)
    progress.finish()
    lines = log.getvalue().splitlines()
    assert lines == ["model.onnx: 25% of 20.0 MB", "model.onnx: 50% of 20.0 MB",
                     "model.onnx: 75% of 20.0 MB", "model.onnx: done, 20.0 MB"]

    terminal = io.StringIO()
    bar = Progress(terminal, "model.onnx", tty=True)
    bar.update(5_000_000, 20_000_000)
    bar.finish()
    assert terminal.getvalue().startswith("\rmodel.onnx [#######.......................]  25%")
    assert terminal.getvalue().endswith("\n")


def test_package_errors_are_one_line(tmp_path):
    with pytest.raises(PackageInvalid) as error:
        publish_package(LocalDirectoryStore(tmp_path / "s"), tmp_path / "nothing-here")
    assert "\n" not in str(error.value)
    package = make_package(tmp_path / "build", "1.0.0")
    (package / "model.onnx").write_bytes(b"x")
    with pytest.raises(PackageMismatch) as error:
        publish_package(LocalDirectoryStore(tmp_path / "s"), package)
    assert "\n" not in str(error.value)
