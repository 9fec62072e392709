"""Signed model packages through Azure Blob Storage (the real emulator, Azurite): the signature
travels with the version, fetch_model refuses what a store attacker can do, the web process
checks the installed package at start-up, and two trusted keys make a rotation.

The attacker here has the store's full-access key (a leaked CI secret), as in the issue: they
can rewrite any blob, but hold no private key.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from azure.storage.blob import BlobServiceClient
from django.core.management import CommandError

from catmodel.inference import BadModelPackage, load_classifier
from catmodel.inference.signatures import (
    SignatureRefused,
    load_trusted_keys,
    sign_package,
    signed_files,
)
from classifier import runtime
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
from testsupport.signing import key_pair
from testsupport.tiny_package import tiny_onnx

pytestmark = pytest.mark.azurite

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def keys(tmp_path):
    directory = tmp_path / "keys"
    directory.mkdir()
    return {name: key_pair(directory, name) for name in ("current", "next", "stranger")}


@pytest.fixture
def store(settings, azurite, tmp_path):
    settings.MODEL_DIR = tmp_path / "model"
    return use_azure_store(settings, azurite.connection_string)


def blob(settings, emulator, filename: str, version: str = "1.0.0"):
    service = BlobServiceClient.from_connection_string(emulator.connection_string)
    return service.get_container_client(settings.MODEL_STORE_CONTAINER).get_blob_client(
        f"catsite/{NAME}/{version}/{filename}")


def refused(*args) -> str:
    with pytest.raises(CommandError) as raised:
        fetch(*args)
    message = str(raised.value)
    assert "\n" not in message  # one line
    return message


def test_signed_round_trip(store, azurite, keys, tmp_path):
    private, public = keys["current"]
    output = publish(make_package(tmp_path / "build", "1.0.0"), "--signing-key", str(private))
    assert "Published tiny-colours 1.0.0 (signed)" in output
    signature = blob(store, azurite, "model.sig").download_blob().readall()
    store.MODEL_TRUSTED_KEYS = [str(public)]
    output = fetch()
    assert "downloaded 3 files" in output
    installed = store.MODEL_DIR / "versions" / "1.0.0"
    # The signature travels with the version and lists exactly the package's files.
    assert (installed / "model.sig").read_bytes() == signature
    assert set(signed_files(installed / "model.sig")) == {"manifest.json", "model.onnx"}
    assert_serves(store.MODEL_DIR, "1.0.0")
    # The web process checks it at start-up with the same keys.
    assert runtime.load(force=True) is not None
    runtime.load(force=True)


def test_a_store_attacker_rewriting_model_and_manifest_consistently_is_refused(
        store, azurite, keys, tmp_path):
    private, public = keys["current"]
    publish(make_package(tmp_path / "build", "1.0.0"), "--signing-key", str(private))
    store.MODEL_TRUSTED_KEYS = [str(public)]
    fetch()
    before = snapshot(store.MODEL_DIR)
    publish(make_package(tmp_path / "build", "2.0.0"), "--signing-key", str(private))

    # The attacker swaps in another network and rewrites the manifest so every hash matches:
    # without signatures this installs (the next test proves the swap itself is consistent).
    evil_model = tiny_onnx(unary_ops=["Abs"])
    manifest = json.loads(blob(store, azurite, "manifest.json", "2.0.0").download_blob().readall())
    manifest["files"]["model.onnx"] = {"sha256": hashlib.sha256(evil_model).hexdigest(),
                                       "bytes": len(evil_model)}
    blob(store, azurite, "model.onnx", "2.0.0").upload_blob(evil_model, overwrite=True)
    blob(store, azurite, "manifest.json", "2.0.0").upload_blob(
        json.dumps(manifest).encode(), overwrite=True)

    message = refused()
    assert "tiny-colours 2.0.0" in message and "refused" in message
    assert "differ from what was signed" in message and "model.onnx" in message
    assert snapshot(store.MODEL_DIR) == before  # the installed model untouched
    assert current_version(store.MODEL_DIR) == "1.0.0"

    # Without trusted keys the same consistent rewrite is accepted: the signature is what stops
    # it, not the manifest's hashes.
    store.MODEL_TRUSTED_KEYS = []
    fetch()
    assert current_version(store.MODEL_DIR) == "2.0.0"


def test_a_package_signed_by_an_untrusted_key_is_refused_before_its_model_is_downloaded(
        store, azurite, keys, tmp_path):
    publish(make_package(tmp_path / "build", "1.0.0"), "--signing-key", str(keys["stranger"][0]))
    store.MODEL_TRUSTED_KEYS = [str(keys["current"][1])]
    message = refused()
    assert "signed by a key that is not trusted" in message
    assert "MODEL_TRUSTED_KEYS" in message
    assert snapshot(store.MODEL_DIR) == {}


def test_a_missing_signature_with_trusted_keys_set_is_refused(store, azurite, keys, tmp_path):
    output = publish(make_package(tmp_path / "build", "1.0.0"))
    assert "(unsigned)" in output
    store.MODEL_TRUSTED_KEYS = [str(keys["current"][1])]
    message = refused()
    assert "model.sig missing: the package is not signed" in message
    assert "publish_model --signing-key" in message
    assert snapshot(store.MODEL_DIR) == {}


def test_a_deleted_signature_cannot_downgrade_an_installed_signed_version(
        store, azurite, keys, tmp_path):
    private, public = keys["current"]
    publish(make_package(tmp_path / "build", "1.0.0"), "--signing-key", str(private))
    store.MODEL_TRUSTED_KEYS = [str(public)]
    fetch()
    blob(store, azurite, "model.sig").delete_blob()
    # Already installed and still signed on disk: nothing to download, nothing refused.
    assert "already installed and verified" in fetch()


def test_rotation_with_two_trusted_keys(store, azurite, keys, tmp_path):
    (old_private, old_public), (new_private, new_public) = keys["current"], keys["next"]
    publish(make_package(tmp_path / "build", "1.0.0"), "--signing-key", str(old_private))
    # Step 1 of a rotation: deployments trust both keys.
    store.MODEL_TRUSTED_KEYS = [str(old_public), str(new_public)]
    fetch()
    assert_serves(store.MODEL_DIR, "1.0.0")
    # Step 2: publishers sign with the new key; both versions are accepted.
    publish(make_package(tmp_path / "build", "2.0.0"), "--signing-key", str(new_private))
    fetch()
    assert_serves(store.MODEL_DIR, "2.0.0")
    # Step 3: the old key is retired; what it alone signed is refused from now on.
    store.MODEL_TRUSTED_KEYS = [str(new_public)]
    assert "signed by a key that is not trusted" in refused("--version", "1.0.0", "--keep", "0")
    assert current_version(store.MODEL_DIR) == "2.0.0"


def test_a_manifest_declaring_too_large_or_too_many_files_is_refused_before_downloading(
        store, azurite, tmp_path):
    package = make_package(tmp_path / "build", "1.0.0")
    publish(package)
    store.MODEL_MAX_FILE_BYTES = (package / "model.onnx").stat().st_size - 1
    message = refused()
    assert "more than the" in message and "MODEL_MAX_FILE_BYTES" in message
    store.MODEL_MAX_FILE_BYTES = 1024 ** 3
    store.MODEL_MAX_FILES = 0
    assert "MODEL_MAX_FILES" in refused()
    assert snapshot(store.MODEL_DIR) == {}


def test_publishing_under_another_version_needs_a_new_signature(store, keys, tmp_path):
    private, public = keys["current"]
    package = make_package(tmp_path / "build", "1.0.0")
    sign_package(package, private)
    with pytest.raises(CommandError, match="--signing-key"):
        publish(package, "--version", "1.0.1")
    publish(package, "--version", "1.0.1", "--signing-key", str(private))
    store.MODEL_TRUSTED_KEYS = [str(public)]
    fetch("--version", "1.0.1")
    assert_serves(store.MODEL_DIR, "1.0.1")


@pytest.mark.django_db
def test_the_web_process_refuses_an_installed_package_changed_on_disk(
        store, azurite, client, keys, tmp_path):
    private, public = keys["current"]
    publish(make_package(tmp_path / "build", "1.0.0"), "--signing-key", str(private))
    store.MODEL_TRUSTED_KEYS = [str(public)]
    fetch()
    installed = store.MODEL_DIR / "versions" / "1.0.0"
    manifest = json.loads((installed / "manifest.json").read_text())
    manifest["labels"][0] = "tampered"
    (installed / "manifest.json").write_text(json.dumps(manifest))
    try:
        assert runtime.load(force=True) is None
        status = runtime.status()
        assert "model.sig" in status["error"] and "differ from what was signed" in status["error"]
        store.MODEL_REQUIRED = True
        response = client.get("/readyz")
        assert response.status_code == 503
        # The public answer names the failed check; the details are for operators.
        assert response.json()["checks"]["model"]["error"] == (
            "the model package failed its model.sig check")
        store.HEALTH_SHOW_DETAILS = True
        assert "differ from what was signed" in json.dumps(client.get("/readyz").json())
    finally:
        runtime.load(force=True)


def test_the_loader_refuses_unsigned_and_foreign_packages(keys, tmp_path):
    package = make_package(tmp_path / "build", "1.0.0")
    trusted = load_trusted_keys([keys["current"][1]])
    with pytest.raises(SignatureRefused) as raised:
        load_classifier(package, threads=1, trusted_keys=trusted)
    assert raised.value.reason == "unsigned"
    sign_package(package, keys["stranger"][0])
    with pytest.raises(SignatureRefused) as raised:
        load_classifier(package, threads=1, trusted_keys=trusted)
    assert raised.value.reason == "untrusted_key"
    sign_package(package, keys["current"][0])
    assert load_classifier(package, threads=1, trusted_keys=trusted).version == "1.0.0"


def test_a_trusted_key_that_is_not_a_public_key_is_an_error(tmp_path):
    not_a_key = tmp_path / "key.pub"
    not_a_key.write_text("hello")
    with pytest.raises(BadModelPackage, match="not a PEM public key"):
        load_trusted_keys([not_a_key])


def test_the_repository_carries_the_projects_public_key():
    keys = sorted((REPO / "deploy" / "keys").glob("*.pub"))
    assert keys, "deploy/keys/ holds the public keys of the project's published models"
    assert load_trusted_keys(keys)
