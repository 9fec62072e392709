"""Kept photos in a private Azure blob container (django-storages), against Azurite: the whole
keep -> review -> export -> delete path, and no anonymous read of the container."""
import io
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient
from django.core.management import call_command

from feedback import photos, services
from feedback.models import Feedback
from testsupport.feedback import has_location, identify, jpeg_with_gps

pytestmark = [pytest.mark.azurite, pytest.mark.django_db]
ROOT = Path(__file__).resolve().parents[2]
PHOTO = jpeg_with_gps()


@pytest.fixture
def private_container(azurite, settings):
    """A new private container (no public access) as the feedback storage."""
    name = f"feedback-{uuid.uuid4().hex[:12]}"
    BlobServiceClient.from_connection_string(azurite.connection_string).create_container(name)
    # django-storages' own backend: the project's subclass (catsite.media_storage, which the
    # settings use; see the test below) only adds timeouts, and apps never import catsite.
    settings.STORAGES = {**settings.STORAGES, "feedback": {
        "BACKEND": "storages.backends.azure_storage.AzureStorage",
        "OPTIONS": {"azure_container": name, "connection_string": azurite.connection_string,
                    "overwrite_files": False}}}
    return name


def anonymous_status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_feedback_loop_with_photos_in_a_private_container(
        azurite, private_container, make_species, staff_client, tmp_path,
        django_capture_on_commit_callbacks):
    tabby = make_species(common_name="Tabby test", slug="tabby-test", kind="breed")
    make_species(common_name="Lynx test", slug="lynx-test")
    feedback = services.feedback_create(
        identification_id=identify(PHOTO, tabby).id, correct=False, species="lynx-test",
        share_photo=True, photo=io.BytesIO(PHOTO))

    blobs = BlobServiceClient.from_connection_string(azurite.connection_string) \
        .get_container_client(private_container)
    assert [b.name for b in blobs.list_blobs()] == [feedback.photo]
    kept = blobs.download_blob(feedback.photo).readall()
    assert not has_location(kept)

    # Nobody reads the container without the account's key.
    assert anonymous_status(f"{azurite.account_url}/{private_container}/{feedback.photo}") in (
        403, 404)
    # Staff see it through the admin.
    response = staff_client.get(f"/admin/feedback/feedback/{feedback.pk}/photo/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == kept

    Feedback.objects.filter(pk=feedback.pk).update(status="accepted")
    call_command("export_dataset", "--out", str(tmp_path / "ds"), stdout=io.StringIO())
    manifest = json.loads((tmp_path / "ds" / "dataset.json").read_text())
    assert manifest["counts"]["labels"]["lynx-test"]["total"] == 1
    assert not has_location((tmp_path / "ds" / next(iter(manifest["images"]))).read_bytes())

    with django_capture_on_commit_callbacks(execute=True):
        Feedback.objects.get(pk=feedback.pk).delete()
    assert list(blobs.list_blobs()) == []
    assert not photos.storage().exists(feedback.photo)


def test_settings_put_feedback_photos_in_the_container_only_when_set(azurite):
    script = ("from django.conf import settings; import json; s = settings.STORAGES['feedback'];"
              " print(json.dumps([s['BACKEND'], s['OPTIONS'].get('azure_container', ''),"
              " str(s['OPTIONS'].get('location', ''))]))")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "catsite.test_settings",
           "CATSITE_VAR_DIR": "/srv/catsite"}
    env.pop("FEEDBACK_AZURE_CONTAINER", None)

    def run(extra):
        return json.loads(subprocess.run(
            [sys.executable, "-c", script], env={**env, **extra}, cwd=ROOT,
            capture_output=True, text=True, check=True).stdout)

    backend, _, location = run({})
    assert backend == "feedback.storage.PrivateFileSystemStorage"
    assert location == "/srv/catsite/feedback-photos"  # beside media, not under it
    assert run({"FEEDBACK_PHOTO_DIR": "/data/private"})[2] == "/data/private"
    backend, container, _ = run({"FEEDBACK_AZURE_CONTAINER": "feedback-private",
                                 "AZURE_MEDIA_CONNECTION_STRING": azurite.connection_string})
    assert (backend, container) == ("catsite.media_storage.AzureMediaStorage", "feedback-private")
