"""Media files in Azure Blob Storage (catsite/media_storage.py), against the Azurite emulator."""
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import override_settings

from catsite.media_storage import (
    BACKEND,
    AzureMediaStorage,
    azure_media_storage,
    parse_connection_string,
)
from testsupport.azurite import ACCOUNT, ACCOUNT_KEY

ROOT = Path(__file__).resolve().parents[2]


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def media_container(azurite):  # noqa: F811 - the fixture imported above
    name = f"media-{uuid.uuid4().hex[:12]}"
    BlobServiceClient.from_connection_string(azurite.connection_string).create_container(name)
    return name


def test_connection_string_values_keep_their_equals_signs():
    parsed = parse_connection_string(f"AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};")
    assert parsed == {"AccountName": ACCOUNT, "AccountKey": ACCOUNT_KEY}


def test_connection_string_gives_the_key_that_signs_urls():
    entry = azure_media_storage(container="media", connection_string=(
        f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={ACCOUNT_KEY}"))
    assert entry["BACKEND"] == BACKEND
    options = entry["OPTIONS"]
    assert (options["account_name"], options["account_key"]) == ("acct", ACCOUNT_KEY)
    assert options["expiration_secs"] == 3600
    assert options["client_options"]["retry_total"] == 2


def test_account_without_key_uses_the_given_token_credential():
    credential = object()
    options = azure_media_storage(container="media", account_name="acct",
                                  credential=credential)["OPTIONS"]
    assert options["token_credential"] is credential
    assert "account_key" not in options


def test_account_alone_builds_the_default_credential_with_the_storage_not_in_settings():
    from azure.identity import DefaultAzureCredential

    options = azure_media_storage(container="media", account_name="acct")["OPTIONS"]
    assert options["use_default_credential"] is True
    assert "token_credential" not in options  # nothing built while settings load
    storage = AzureMediaStorage(**options)
    assert isinstance(storage.token_credential, DefaultAzureCredential)


def test_missing_account_is_refused():
    with pytest.raises(ValueError, match="AZURE_ACCOUNT_NAME"):
        azure_media_storage(container="media")
    with pytest.raises(ValueError, match="container"):
        azure_media_storage(container="", account_name="acct")


def test_settings_switch_media_to_azure_only_when_a_container_is_set(azurite):  # noqa: F811
    script = ("from django.conf import settings; import json; print(json.dumps(["
              "settings.STORAGES['default']['BACKEND'], settings.SERVE_MEDIA]))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "catsite.test_settings"}
    env.pop("AZURE_MEDIA_CONTAINER", None)

    def run(extra):
        return subprocess.run([sys.executable, "-c", script], env={**env, **extra}, cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout.strip()

    assert run({}) == '["django.core.files.storage.FileSystemStorage", true]'
    assert run({"AZURE_MEDIA_CONTAINER": "media",
                "AZURE_MEDIA_CONNECTION_STRING": azurite.connection_string}) == (
        f'["{BACKEND}", false]')


def test_a_saved_image_is_readable_through_its_signed_url(azurite, media_container):  # noqa: F811
    storage = AzureMediaStorage(**azure_media_storage(
        container=media_container, connection_string=azurite.connection_string)["OPTIONS"])
    photo = b"\xff\xd8\xff\xe0 not really a jpeg, but bytes are bytes"
    name = storage.save("species/tabby.jpg", ContentFile(photo))

    assert name == "species/tabby.jpg"
    assert storage.exists(name)
    with storage.open(name) as stored:
        assert stored.read() == photo
    url = storage.url(name)
    assert "sig=" in url
    assert fetch(url) == (200, photo)
    # The container is private: the same blob without the signature is refused.
    assert fetch(url.split("?")[0])[0] in (403, 404)


def test_two_uploads_of_one_name_keep_both(azurite, media_container):  # noqa: F811
    storage = AzureMediaStorage(**azure_media_storage(
        container=media_container, connection_string=azurite.connection_string)["OPTIONS"])
    first = storage.save("species/lion.jpg", ContentFile(b"first"))
    second = storage.save("species/lion.jpg", ContentFile(b"second"))
    assert first != second
    assert storage.open(first).read() == b"first"
    assert storage.open(second).read() == b"second"


def test_django_default_storage_writes_to_the_blob_container(azurite, media_container):  # noqa: F811
    entry = azure_media_storage(container=media_container,
                                connection_string=azurite.connection_string)
    with override_settings(STORAGES={"default": entry,
                                     "staticfiles": storages.backends["staticfiles"]}):
        name = storages["default"].save("species/caracal.jpg", ContentFile(b"caracal"))
    blob = BlobServiceClient.from_connection_string(azurite.connection_string) \
        .get_blob_client(media_container, name)
    assert blob.download_blob().readall() == b"caracal"
