"""What every model store must guarantee, checked on each kind: the local directory and Azure
Blob Storage (Azurite). Above all: two publishers racing cannot both move ``latest``."""
from __future__ import annotations

import pytest

from classifier.delivery.errors import AlreadyExists, Conflict, NotFound
from classifier.delivery.progress import NoProgress
from classifier.delivery.publish import publish_package, read_latest
from classifier.delivery.stores import store_from_settings
from classifier.tests.delivery_support import NAME, make_package, use_azure_store


@pytest.fixture(params=["local", pytest.param("azure", marks=pytest.mark.azurite)])
def store_settings(request, settings, tmp_path):
    if request.param == "local":
        settings.MODEL_STORE = str(tmp_path / "store")
        settings.MODEL_STORE_PREFIX = ""
        settings.MODEL_NAME = NAME
    else:
        use_azure_store(settings, request.getfixturevalue("azurite").connection_string)
    store_from_settings(settings).ensure_container()
    return settings


def test_two_writers_of_latest_cannot_both_win(store_settings):
    first, second = store_from_settings(store_settings), store_from_settings(store_settings)
    # Both found nothing published; both try to create latest.
    first.put_if_unchanged("m/latest", b"1\n", None)
    with pytest.raises(Conflict):
        second.put_if_unchanged("m/latest", b"2\n", None)
    # Both read the same latest; both try to move it.
    _, etag = first.read_small("m/latest", 100)
    second.put_if_unchanged("m/latest", b"3\n", etag)
    with pytest.raises(Conflict):
        first.put_if_unchanged("m/latest", b"4\n", etag)
    assert first.read_small("m/latest", 100)[0] == b"3\n"


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
