"""Model delivery through Azure Blob Storage, against the real emulator (Azurite).

Each test works in a container of its own on a shared emulator; tests that stop the emulator
get one of their own. Checks on what is in the store use the SDK directly, not our code.
"""
from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
import uuid

import pytest
from azure.core.credentials import AccessToken
from azure.storage.blob import BlobServiceClient
from django.core.management import CommandError

from catmodel.delivery.errors import StoreNotConfigured, StoreUnreachable
from catmodel.delivery.fetch import fetch_model
from catmodel.delivery.progress import NoProgress
from catmodel.delivery.store_choice import store_from_settings
from classifier import runtime
from testsupport.azurite import ACCOUNT_KEY, connection_string_for
from testsupport.delivery import (
    NAME,
    assert_serves,
    current_version,
    fetch,
    make_package,
    publish,
    run_manage,
    snapshot,
    use_azure_store,
)

pytestmark = pytest.mark.azurite


@pytest.fixture
def store(settings, azurite, tmp_path):
    settings.MODEL_DIR = tmp_path / "model"
    return use_azure_store(settings, azurite.connection_string)


def container(settings, emulator):
    """The test's container, through the SDK and the emulator's full-access key."""
    service = BlobServiceClient.from_connection_string(emulator.connection_string)
    return service.get_container_client(settings.MODEL_STORE_CONTAINER)


def blob_text(settings, emulator, key: str) -> str:
    blob = container(settings, emulator).get_blob_client(f"catsite/{key}")
    return blob.download_blob().readall().decode()


def test_publish_then_fetch_latest(store, azurite, tmp_path):
    package = make_package(tmp_path / "build", "1.0.0", labels=1000)
    output = publish(package)
    # Progress shows in plain lines when stdout is not a terminal.
    assert "model.onnx: done, 16.3 kB" in output
    assert "Published tiny-colours 1.0.0 (unsigned) to Azure container" in output
    names = sorted(b.name for b in container(store, azurite).list_blobs())
    assert names[:2] + names[3:] == ["catsite/tiny-colours/1.0.0/manifest.json",
                                     "catsite/tiny-colours/1.0.0/model.onnx",
                                     "catsite/tiny-colours/latest"]
    # The move of 'latest', recorded: <name>/history/<alias>/<UTC time>-<version>.json
    assert re.fullmatch(r"catsite/tiny-colours/history/latest/\d{8}T\d{12}Z-1\.0\.0\.json",
                        names[2]), names
    assert blob_text(store, azurite, f"{NAME}/latest").strip() == "1.0.0"

    output = fetch()
    assert "downloaded 2 files" in output and "current: nothing -> 1.0.0" in output
    assert_serves(store.MODEL_DIR, "1.0.0")
    assert (store.MODEL_DIR / "versions" / "1.0.0" / "model.onnx").read_bytes() == (
        package / "model.onnx").read_bytes()


def test_fetch_a_pinned_version(store, tmp_path):
    publish(make_package(tmp_path / "build", "1.0.0"))
    publish(make_package(tmp_path / "build", "2.0.0"))
    fetch("--version", "1.0.0")
    assert_serves(store.MODEL_DIR, "1.0.0")


def test_second_version_moves_latest_and_keeps_the_first(store, azurite, tmp_path):
    publish(make_package(tmp_path / "build", "1.0.0"))
    fetch()
    output = publish(make_package(tmp_path / "build", "2.0.0"))
    assert "latest is now 2.0.0 (was 1.0.0)" in output
    assert blob_text(store, azurite, f"{NAME}/latest").strip() == "2.0.0"
    assert "current: 1.0.0 -> 2.0.0" in fetch()
    assert_serves(store.MODEL_DIR, "2.0.0")
    assert (store.MODEL_DIR / "versions" / "1.0.0" / "model.onnx").is_file()


def test_existing_version_is_refused_unless_forced(store, tmp_path):
    package = make_package(tmp_path / "build", "1.0.0")
    publish(package)
    with pytest.raises(CommandError, match="1.0.0 of model tiny-colours is already published"):
        publish(package)
    publish(package, "--force")


def test_refetch_downloads_nothing(store, azurite, tmp_path):
    publish(make_package(tmp_path / "build", "1.0.0"))
    fetch()
    installed = snapshot(store.MODEL_DIR)
    # Break the stored copy: a fetch that downloaded anything would now fail verification.
    container(store, azurite).upload_blob(f"catsite/{NAME}/1.0.0/model.onnx", b"garbage",
                                          overwrite=True)
    output = fetch()
    assert "already installed and verified, nothing downloaded; current is 1.0.0" in output
    assert snapshot(store.MODEL_DIR) == installed


def test_tampered_blob_is_rejected_and_the_old_model_stays(store, azurite, tmp_path):
    publish(make_package(tmp_path / "build", "1.0.0"))
    fetch()
    installed = snapshot(store.MODEL_DIR)
    publish(make_package(tmp_path / "build", "2.0.0"))
    blob = container(store, azurite).get_blob_client(f"catsite/{NAME}/2.0.0/model.onnx")
    original = blob.download_blob().readall()

    tampered = bytearray(original)
    tampered[100] ^= 0x01
    blob.upload_blob(bytes(tampered), overwrite=True)
    with pytest.raises(CommandError, match=r"model.onnx of tiny-colours 2.0.0 .* has sha256"):
        fetch()
    assert snapshot(store.MODEL_DIR) == installed

    blob.upload_blob(original + b"appended", overwrite=True)
    with pytest.raises(CommandError, match="is larger than the 345 bytes in its manifest"):
        fetch()
    blob.upload_blob(original[:-1], overwrite=True)
    with pytest.raises(CommandError, match="is 344 bytes but its manifest says 345"):
        fetch()
    assert snapshot(store.MODEL_DIR) == installed
    assert_serves(store.MODEL_DIR, "1.0.0")


def test_missing_version_container_file_and_latest(store, azurite, tmp_path):
    with pytest.raises(CommandError, match="Azure container 'models-.*' at .* does not exist"):
        fetch()
    publish(make_package(tmp_path / "build", "1.0.0"))
    fetch()
    installed = snapshot(store.MODEL_DIR)
    with pytest.raises(CommandError, match="version 9.9.9 of model tiny-colours is not in"):
        fetch("--version", "9.9.9")
    with pytest.raises(CommandError, match="model other has no 'latest'"):
        fetch("--name", "other")

    blobs = container(store, azurite)
    blobs.upload_blob(f"catsite/{NAME}/latest", b"5.0.0\n", overwrite=True)
    with pytest.raises(CommandError, match="'latest' of model tiny-colours points to version "
                                           "5.0.0, which is not in"):
        fetch()
    publish(make_package(tmp_path / "build", "6.0.0"))
    blobs.delete_blob(f"catsite/{NAME}/6.0.0/model.onnx")
    with pytest.raises(CommandError, match="model.onnx of tiny-colours 6.0.0 .* is missing: "
                                           "the publish was incomplete"):
        fetch()
    assert snapshot(store.MODEL_DIR) == installed


def test_read_only_sas_fetches_but_cannot_publish(store, azurite, tmp_path):
    publish(make_package(tmp_path / "build", "1.0.0"))
    sas = azurite.sas_token(read=True, write=False)
    store.AZURE_STORAGE_CONNECTION_STRING = ""
    store.AZURE_STORAGE_ACCOUNT_URL = azurite.account_url
    store.AZURE_STORAGE_SAS_TOKEN = sas
    fetch()
    assert_serves(store.MODEL_DIR, "1.0.0")

    with pytest.raises(CommandError) as error:
        publish(make_package(tmp_path / "build", "2.0.0"))
    message = str(error.value)
    assert message.startswith("access denied (403 AuthorizationPermissionMismatch) when writing "
                              "catsite/tiny-colours/2.0.0/model.onnx")
    assert "a SAS with create and write permissions" in message
    signature = dict(part.split("=", 1) for part in sas.split("&"))["sig"]
    assert signature not in message


def test_emulator_stopped_mid_download(settings, private_azurite, tmp_path):
    settings.MODEL_DIR = tmp_path / "model"
    use_azure_store(settings, private_azurite.connection_string)
    publish(make_package(tmp_path / "build", "1.0.0"))
    fetch()
    installed = snapshot(settings.MODEL_DIR)
    publish(make_package(tmp_path / "build", "2.0.0", labels=1000))  # 16 kB in 4 kB chunks
    chunks = {"max_single_get_size": 4096, "max_chunk_get_size": 4096}
    store = store_from_settings(settings, client_options=chunks)
    seen = []

    class StopAfterFirstChunk(NoProgress):
        def update(self, done, total):
            seen.append(done)
            if len(seen) == 1:
                private_azurite.stop()

    with pytest.raises(StoreUnreachable, match=r"cannot reach Azure container .* after 1 retries "
                                               r"with a 2 s timeout when downloading"):
        fetch_model(store, NAME, settings.MODEL_DIR, progress=lambda label: StopAfterFirstChunk())
    assert seen == [4096]  # it did stop in the middle
    assert snapshot(settings.MODEL_DIR) == installed
    assert_serves(settings.MODEL_DIR, "1.0.0")


class CountRequests:
    """A per-request hook: every attempt, retries included, passes through it."""

    def __init__(self):
        self.requests = []

    def __call__(self, request):
        self.requests.append(request.http_request)


def test_unreachable_store_fails_with_the_configured_retries_and_timeouts(settings, tmp_path):
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.MODEL_DIR = tmp_path / "model"
    use_azure_store(settings, connection_string_for(f"http://127.0.0.1:{port}"),
                    MODEL_STORE_TIMEOUT_SECONDS=1.5, MODEL_STORE_RETRIES=2)

    store = store_from_settings(settings)
    assert store.service._config.retry_policy.total_retries == 2
    connection = store.service._pipeline._transport.connection_config
    assert (connection.timeout, connection.read_timeout) == (1.5, 1.5)
    # Every client gets a policy object of its own (a shared one breaks authentication).
    assert store_from_settings(settings).service._config.retry_policy is not (
        store.service._config.retry_policy)

    attempts = CountRequests()
    with pytest.raises(CommandError, match=r"cannot reach Azure container .* \(\[Errno 111\] "
                                           r"Connection refused\) after 2 retries"):
        fetch(client_options={"raw_request_hook": attempts})
    assert len(attempts.requests) == 3  # the first try and two retries, then it gave up
    assert not settings.MODEL_DIR.exists() or snapshot(settings.MODEL_DIR) == {}


@pytest.fixture
def hung_server():
    """Accepts connections and never answers: a store that hangs."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    server.close()


def test_hung_store_times_out_after_the_configured_retries(settings, tmp_path, hung_server):
    settings.MODEL_DIR = tmp_path / "model"
    use_azure_store(settings, connection_string_for(f"http://127.0.0.1:{hung_server}"),
                    MODEL_STORE_TIMEOUT_SECONDS=0.5, MODEL_STORE_RETRIES=1)
    attempts = CountRequests()
    with pytest.raises(CommandError, match=r"cannot reach .* \(timed out\) after 1 retries with a "
                                           r"0.5 s timeout"):
        fetch(client_options={"raw_request_hook": attempts})
    assert len(attempts.requests) == 2


def fake_entra_token(lifetime: int = 3600) -> str:
    """A token shaped like one from Microsoft Entra ID for Azure Storage. Azurite's basic OAuth
    checks issuer, audience and lifetime, not the signature (there is no network to fetch keys)."""
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    now = int(time.time())
    claims = {"aud": "https://storage.azure.com", "iss": f"https://sts.windows.net/{uuid.uuid4()}/",
              "iat": now - 60, "nbf": now - 60, "exp": now + lifetime, "oid": str(uuid.uuid4())}
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


class FakeWorkloadIdentity:
    """Stands in for DefaultAzureCredential, which cannot reach Entra ID from here."""

    def __init__(self, lifetime: int = 3600):
        self.lifetime = lifetime
        self.scopes = []

    def get_token(self, *scopes, **kwargs):
        self.scopes.extend(scopes)
        token = fake_entra_token(self.lifetime)
        return AccessToken(token, int(time.time()) + max(self.lifetime, 1))


def test_token_credential_path_against_azurite_oauth(settings, azurite_oauth, tmp_path):
    settings.MODEL_DIR = tmp_path / "model"
    use_azure_store(settings, "", AZURE_STORAGE_ACCOUNT_URL=azurite_oauth.account_url,
                    AZURE_USE_DEFAULT_CREDENTIAL=True)
    credential, requests = FakeWorkloadIdentity(), CountRequests()
    tls = {"connection_verify": str(azurite_oauth.cert), "raw_request_hook": requests}

    publish(make_package(tmp_path / "build", "1.0.0"), credential=credential, client_options=tls)
    fetch(credential=credential, client_options=tls)
    assert_serves(settings.MODEL_DIR, "1.0.0")
    assert credential.scopes and set(credential.scopes) == {"https://storage.azure.com/.default"}
    assert requests.requests and all(
        r.headers["Authorization"].startswith("Bearer ") for r in requests.requests)

    # The same store refuses a token whose lifetime is over: a clear message, model untouched.
    installed = snapshot(settings.MODEL_DIR)
    with pytest.raises(CommandError, match=r"^access denied \(\d+ \w+\) when reading .*: the "
                                           r"store rejected the credentials"):
        fetch("--version", "2.0.0", credential=FakeWorkloadIdentity(lifetime=-600),
              client_options=tls)
    assert snapshot(settings.MODEL_DIR) == installed


def test_default_credential_is_used_when_configured_and_nothing_is_injected(
        settings, azurite, azurite_oauth):
    from azure.identity import DefaultAzureCredential

    use_azure_store(settings, "", AZURE_STORAGE_ACCOUNT_URL=azurite_oauth.account_url,
                    AZURE_USE_DEFAULT_CREDENTIAL=True)
    assert isinstance(store_from_settings(settings).service.credential, DefaultAzureCredential)
    # Tokens travel only over HTTPS; a plain-HTTP account URL is a configuration error.
    settings.AZURE_STORAGE_ACCOUNT_URL = azurite.account_url
    with pytest.raises(StoreNotConfigured, match="Token credential is only supported with HTTPS"):
        store_from_settings(settings)
    settings.AZURE_USE_DEFAULT_CREDENTIAL = False
    with pytest.raises(StoreNotConfigured, match="no credentials are set"):
        store_from_settings(settings)
    settings.AZURE_STORAGE_CONNECTION_STRING = "AccountName=x;AccountKey=c2VjcmV0;Nonsense"
    with pytest.raises(StoreNotConfigured, match="not usable") as error:
        store_from_settings(settings)
    assert "c2VjcmV0" not in str(error.value)


def test_secrets_never_reach_the_output(store, azurite, tmp_path):
    """Failures with a SAS and with an account key, run as CI runs them, logging on DEBUG."""
    publish(make_package(tmp_path / "build", "1.0.0"))
    sas = azurite.sas_token(read=True, write=False)
    signature = dict(part.split("=", 1) for part in sas.split("&"))["sig"]
    wrong_key = base64.b64encode(b"not the key of this account, 64 bytes long.........").decode()
    common = {"MODEL_STORE": "azure", "MODEL_NAME": NAME,
              "LOG_LEVEL": "DEBUG", "AZURE_LOG_LEVEL": "DEBUG",
              "MODEL_STORE_CONTAINER": store.MODEL_STORE_CONTAINER, "MODEL_STORE_PREFIX": "catsite",
              "MODEL_DIR": str(tmp_path / "model"), "MODEL_STORE_RETRIES": "0"}
    package = str(make_package(tmp_path / "build", "2.0.0"))
    runs = {
        "read-only SAS publishing": (["publish_model", package], {
            "AZURE_STORAGE_ACCOUNT_URL": azurite.account_url, "AZURE_STORAGE_SAS_TOKEN": sas}),
        "SAS on a dead port": (["fetch_model"], {
            "AZURE_STORAGE_ACCOUNT_URL": "http://127.0.0.1:9/devstoreaccount1",
            "AZURE_STORAGE_SAS_TOKEN": sas}),
        "wrong account key": (["fetch_model"], {
            "AZURE_STORAGE_CONNECTION_STRING": azurite.connection_string.replace(
                ACCOUNT_KEY, wrong_key)}),
    }
    for what, (args, env) in runs.items():
        result = run_manage(*args, env={**common, **env})
        output = result.stdout + result.stderr
        assert result.returncode == 1, (what, output)
        assert result.stderr.strip().splitlines()[-1].startswith("CommandError: "), what
        # The SDK's own request logging was on, so its lines were checked too.
        assert "azure.core.pipeline.policies.http_logging_policy" in output, what
        for secret in (signature, wrong_key, ACCOUNT_KEY):
            assert secret not in output, (what, output)
    assert "403 AuthorizationFailure" in output and "rejected the credentials" in output


@pytest.mark.slow
def test_the_real_model_is_served_after_fetching_it(store, client, model_package_dir, tmp_path):
    manifest = json.loads((model_package_dir / "manifest.json").read_text())
    store.MODEL_NAME = manifest["name"]
    publish(model_package_dir)
    fetch()
    assert current_version(store.MODEL_DIR) == manifest["version"]
    try:
        assert runtime.load(force=True) is not None, runtime.status()
        body = client.get("/version").json()
        assert body["model"] == {"name": manifest["name"], "version": manifest["version"],
                                 "loaded": True, "service": False}
    finally:
        store.MODEL_DIR = tmp_path / "no-model"
        runtime.load(force=True)
