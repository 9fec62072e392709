"""What every model store must guarantee, checked on each kind: the local directory, Azure Blob
Storage (Azurite) and an MLflow registry (a real ``mlflow server``). Above all: two publishers
racing cannot both move an alias."""
from __future__ import annotations

import io
import json
import threading

import pytest
from django.core.management import CommandError, call_command

from catmodel.delivery.aliases import history, move_alias, read_alias
from catmodel.delivery.errors import AlreadyExists, Conflict, NotFound
from catmodel.delivery.progress import NoProgress
from catmodel.delivery.publish import publish_package, read_latest
from catmodel.delivery.store_base import alias_key, version_key
from catmodel.delivery.store_choice import store_from_settings
from testsupport.delivery import (
    NAME,
    assert_serves,
    current_version,
    fetch,
    make_package,
    publish,
    snapshot,
    use_azure_store,
)
from testsupport.mlflow_server import use_mlflow_store


@pytest.fixture(params=["local", pytest.param("azure", marks=pytest.mark.azurite),
                        pytest.param("mlflow", marks=pytest.mark.mlflow)])
def store_settings(request, settings, tmp_path):
    if request.param == "local":
        settings.MODEL_STORE = str(tmp_path / "store")
        settings.MODEL_STORE_PREFIX = ""
        settings.MODEL_NAME = NAME
    elif request.param == "azure":
        use_azure_store(settings, request.getfixturevalue("azurite").connection_string)
    else:
        use_mlflow_store(settings, request.getfixturevalue("mlflow_server"), NAME)
    store_from_settings(settings).ensure_container()
    return settings


def test_two_writers_of_an_alias_cannot_both_win(store_settings, tmp_path):
    for version in ("1.0.0", "2.0.0", "3.0.0"):
        publish_package(store_from_settings(store_settings), make_package(tmp_path / "b", version))
    first, second = store_from_settings(store_settings), store_from_settings(store_settings)
    # Both found no challenger; both try to create it, with the bare conditional write.
    key = alias_key(NAME, "challenger")
    first.put_if_unchanged(key, b"1.0.0\n", None)
    with pytest.raises(Conflict):
        second.put_if_unchanged(key, b"2.0.0\n", None)
    # Both read the same state; both try to move it, through the one alias mechanism.
    previous, etag = read_alias(first, NAME, "challenger")
    move_alias(second, NAME, "challenger", "3.0.0", etag, previous=previous)
    with pytest.raises(Conflict, match="'challenger' of model tiny-colours moved from 1.0.0 to "
                                       "3.0.0 while version 2.0.0 was being made 'challenger'"):
        move_alias(first, NAME, "challenger", "2.0.0", etag, previous=previous)
    assert read_alias(first, NAME, "challenger")[0] == "3.0.0"
    assert [m.to_version for m in history(first, NAME, "challenger")] == ["3.0.0"]
    assert [m.to_version for m in history(first, NAME, "latest")] == ["1.0.0", "2.0.0", "3.0.0"]


def test_concurrent_publishers_conflict_loudly(store_settings, tmp_path):
    publish_package(store_from_settings(store_settings), make_package(tmp_path / "b", "1.0.0"))
    rival = make_package(tmp_path / "b", "3.0.0")

    def progress_with_a_rival(label):
        # While this publisher uploads, another one publishes 3.0.0 from start to end.
        publish_package(store_from_settings(store_settings), rival)
        return NoProgress()

    store = store_from_settings(store_settings)
    with pytest.raises(Conflict, match="moved from 1.0.0 to 3.0.0 while version 2.0.0"):
        publish_package(store, make_package(tmp_path / "b", "2.0.0"),
                        progress=progress_with_a_rival)
    assert read_latest(store, NAME)[0] == "3.0.0"


def test_create_only_upload_refuses_an_existing_blob(store_settings):
    store = store_from_settings(store_settings)
    store.upload("m/1/manifest.json", b"first", overwrite=False)
    with pytest.raises(AlreadyExists):
        store.upload("m/1/manifest.json", b"second", overwrite=False)
    store.upload("m/1/manifest.json", b"third", overwrite=True)
    assert store.read_small("m/1/manifest.json", 100)[0] == b"third"


def test_download_streams_with_progress_and_reports_missing_blobs(store_settings, tmp_path):
    store = store_from_settings(store_settings)
    data = bytes(range(256)) * 64
    source = tmp_path / "blob"
    source.write_bytes(data)
    store.upload("m/1/model.onnx", source, overwrite=False)
    received, progress = [], []
    assert store.download("m/1/model.onnx", received.append,
                          progress=lambda done, total: progress.append((done, total))) == len(data)
    assert b"".join(received) == data
    assert progress[-1] == (len(data), len(data))
    assert store.exists("m/1/model.onnx") and not store.exists("m/2/model.onnx")
    with pytest.raises(NotFound):
        store.download("m/2/model.onnx", received.append)


def test_aliases_point_at_versions_and_fetch_resolves_them(store_settings, tmp_path):
    store_settings.MODEL_DIR = tmp_path / "model"
    store = store_from_settings(store_settings)
    with pytest.raises(CommandError, match=r"^model tiny-colours has no 'champion' in .*: point "
                                           r"it at a version with manage.py publish_model "
                                           r"--promote VERSION --alias champion") as error:
        fetch("--version", "champion")
    assert "\n" not in str(error.value)

    publish(make_package(tmp_path / "b", "1.0.0"), "--alias", "challenger")
    assert "current: nothing -> 1.0.0" in fetch("--version", "challenger")
    output = publish("--promote", "1.0.0", "--alias", "champion", "--force")
    assert "champion is now 1.0.0, forced: promoted without an evaluation" in output
    assert "already points at 1.0.0" in publish("--promote", "1.0.0", "--alias", "champion")
    publish(make_package(tmp_path / "b", "2.0.0"))
    assert [read_alias(store, NAME, alias)[0] for alias in ("latest", "champion", "challenger")] \
        == ["2.0.0", "1.0.0", "1.0.0"]
    assert "current is 1.0.0" in fetch("--version", "champion")
    assert "current: 1.0.0 -> 2.0.0" in fetch()

    moves = history(store, NAME, "latest")
    assert [(m.from_version, m.to_version, m.forced) for m in moves] == [
        (None, "1.0.0", False), ("1.0.0", "2.0.0", False)]
    (champion,) = history(store, NAME, "champion")
    assert (champion.to_version, champion.forced, champion.evaluation) == ("1.0.0", True, None)
    assert "@" in champion.by and champion.at.endswith("+00:00")

    shown = io.StringIO()
    call_command("model_aliases", "--history", stdout=shown)
    lines = [line for line in shown.getvalue().splitlines() if not line.startswith("    ")]
    assert lines[1:] == ["  latest: 2.0.0", "  champion: 1.0.0", "  challenger: 1.0.0"], lines
    assert "nothing -> 1.0.0, FORCED (promoted without an evaluation (--force))" in (
        shown.getvalue())
    as_json = io.StringIO()
    call_command("model_aliases", "--json", stdout=as_json)
    assert json.loads(as_json.getvalue())["aliases"] == {
        "latest": {"version": "2.0.0"}, "champion": {"version": "1.0.0"},
        "challenger": {"version": "1.0.0"}}

    with pytest.raises(CommandError, match="version 9.9.9 of model tiny-colours is not in"):
        publish("--promote", "9.9.9", "--alias", "challenger")
    with pytest.raises(CommandError, match="--version .champion. is not allowed: challenger, "
                                           "champion, history, latest name aliases"):
        publish(make_package(tmp_path / "b", "3.0.0"), "--version", "champion")


def test_writers_racing_at_the_same_moment_cannot_both_win(store_settings, tmp_path):
    """Two threads, each with its own store client, move the alias from the same state at once:
    the store's own compare-and-set (a file lock, an ETag, the registry lock) lets one through."""
    for version in ("1.0.0", "2.0.0"):
        publish_package(store_from_settings(store_settings), make_package(tmp_path / "b", version))
    stores = [store_from_settings(store_settings) for _ in range(2)]
    start, outcomes = threading.Barrier(2), {}

    def move(store, version):
        previous, etag = read_alias(store, NAME, "challenger")
        start.wait()
        try:
            move_alias(store, NAME, "challenger", version, etag, previous=previous)
            outcomes[version] = "moved"
        except Conflict:
            outcomes[version] = "conflict"

    threads = [threading.Thread(target=move, args=(store, version))
               for store, version in zip(stores, ("1.0.0", "2.0.0"), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(outcomes.values()) == ["conflict", "moved"], outcomes
    (winner,) = [version for version, outcome in outcomes.items() if outcome == "moved"]
    assert read_alias(stores[0], NAME, "challenger")[0] == winner
    assert [m.to_version for m in history(stores[0], NAME, "challenger")] == [winner]


def test_stored_files_that_differ_from_the_manifest_are_refused(store_settings, tmp_path):
    """The same verification whatever the store: a changed, grown or truncated file (written
    straight into the store, past publish_model) is refused and the installed model stays; an
    installed and verified version is not downloaded again."""
    store_settings.MODEL_DIR = tmp_path / "model"
    publish(make_package(tmp_path / "b", "1.0.0"))
    fetch()
    installed = snapshot(store_settings.MODEL_DIR)
    publish(make_package(tmp_path / "b", "2.0.0"))
    store = store_from_settings(store_settings)
    key = version_key(NAME, "2.0.0", "model.onnx")
    original = b"".join(_chunks(store, key))
    changed = bytearray(original)
    changed[100] ^= 0x01
    for stored, message in ((bytes(changed), r"model.onnx of tiny-colours 2.0.0 .* has sha256"),
                            (original + b"grown", "is larger than the 345 bytes in its manifest"),
                            (original[:-1], "is 344 bytes but its manifest says 345")):
        store.upload(key, stored, overwrite=True)
        with pytest.raises(CommandError, match=message):
            fetch()
        assert snapshot(store_settings.MODEL_DIR) == installed
    store.upload(version_key(NAME, "1.0.0", "model.onnx"), b"garbage", overwrite=True)
    assert "nothing downloaded; current is 1.0.0" in fetch("--version", "1.0.0")
    assert_serves(store_settings.MODEL_DIR, "1.0.0")


def _chunks(store, key: str) -> list[bytes]:
    chunks = []
    store.download(key, chunks.append)
    return chunks


def test_an_alias_moved_back_by_a_store_writer_is_not_followed(store_settings, tmp_path):
    """Issue 24 item 9: whoever can write the store points champion at an older (validly
    published) version, with the store's own write: fetch_model refuses to go back, leaves the
    installed model alone, and installs it only when told to."""
    model_dir = store_settings.MODEL_DIR = tmp_path / "model"
    for version in ("1.9.0", "1.10.0"):
        publish(make_package(tmp_path / "b", version))
    publish("--promote", "1.10.0", "--alias", "champion", "--force")
    assert "current: nothing -> 1.10.0" in fetch("--version", "champion")
    installed = snapshot(model_dir)

    store = store_from_settings(store_settings)
    _, etag = read_alias(store, NAME, "champion")
    store.put_if_unchanged(alias_key(NAME, "champion"), b"1.9.0\n", etag)  # past publish_model
    with pytest.raises(CommandError, match=r"^'champion' of model tiny-colours points at 1\.9\.0, "
                                           r"which is below the installed 1\.10\.0: refused"):
        fetch("--version", "champion")
    assert snapshot(model_dir) == installed

    # A fresh model directory (an init container's) has nothing installed: the floor decides.
    store_settings.MODEL_MIN_VERSION = "1.10.0"
    fresh = tmp_path / "fresh"
    for args in (("--version", "champion"), ("--version", "1.9.0")):
        with pytest.raises(CommandError, match=r"1\.9\.0(, which| of model tiny-colours) is "
                                               r"below MODEL_MIN_VERSION 1\.10\.0: refused"):
            fetch(*args, "--dest", str(fresh))
        assert current_version(fresh) is None

    # Told to: the deliberate rollback goes through.
    assert "current: 1.10.0 -> 1.9.0" in fetch("--version", "champion", "--allow-downgrade")
    assert_serves(model_dir, "1.9.0")


def test_a_pinned_rollback_above_the_floor_needs_no_flag(store_settings, tmp_path):
    store_settings.MODEL_DIR = tmp_path / "model"
    store_settings.MODEL_MIN_VERSION = "1.0.0"
    for version in ("1.0.0", "2.0.0"):
        publish(make_package(tmp_path / "b", version))
    assert "current: nothing -> 2.0.0" in fetch()
    assert "current: 2.0.0 -> 1.0.0" in fetch("--version", "1.0.0")
