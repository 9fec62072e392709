"""The Azurite blob emulator for tests: a real Azure Blob Storage API on a free local port.

Fixtures (a pytest plugin, listed in the root conftest.py):
    azurite            one emulator for the whole session (tests use their own containers)
    private_azurite    an emulator of one test's own, for tests that stop it
    azurite_oauth      HTTPS with a self-signed certificate and --oauth basic, for token
                       credentials (Azurite accepts bearer tokens only over HTTPS)

The npm package is installed by scripts/install-azurite.sh (scripts/test runs it); without it
these tests fail with that instruction (testsupport.components.missing_component).
"""
from __future__ import annotations

import datetime
import os
import queue
import re
import subprocess
import threading
from pathlib import Path

import pytest

from testsupport.components import missing_component
from testsupport.processes import stop_process_group

ACCOUNT = "devstoreaccount1"
# Azurite's development account key: public, printed in Microsoft's documentation.
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
# Generous: a cold node start on a busy 2-core CI machine. Only bounds a broken start.
_START_SECONDS = 60
_LISTENING = re.compile(r"listens on (https?://[\d.]+:\d+)")


def azurite_binary() -> Path | None:
    """azurite-blob from $AZURITE_BLOB or where scripts/install-azurite.sh links it."""
    if os.environ.get("AZURITE_BLOB"):
        path = Path(os.environ["AZURITE_BLOB"])
    else:
        cache = Path(os.environ.get("CATSITE_CACHE_DIR", Path.home() / ".cache" / "catsite"))
        path = cache / "node" / "bin" / "azurite-blob"
    return path if path.exists() else None


def connection_string_for(endpoint: str) -> str:
    """The development account's connection string for an emulator at ``endpoint``
    (e.g. http://127.0.0.1:10000); the endpoint must carry the account name."""
    return (f"DefaultEndpointsProtocol={endpoint.split(':')[0]};AccountName={ACCOUNT};"
            f"AccountKey={ACCOUNT_KEY};BlobEndpoint={endpoint}/{ACCOUNT};")


class Azurite:
    """One azurite-blob process in its own process group, storing its data in ``workdir``."""

    def __init__(self, workdir: Path, *, cert: Path | None = None, key: Path | None = None,
                 oauth: bool = False):
        binary = azurite_binary()
        if binary is None:
            missing_component(
                "Azurite is not installed (no azurite-blob under $CATSITE_CACHE_DIR/node/bin)",
                "run scripts/install-azurite.sh (scripts/test does) or set AZURITE_BLOB")
        self.workdir = Path(workdir)
        self.cert = cert
        command = [
            str(binary), "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--loose",
            "--location", str(self.workdir), "--blobHost", "127.0.0.1", "--blobPort", "0",
        ]
        if cert:
            command += ["--cert", str(cert), "--key", str(key)]
        if oauth:
            command += ["--oauth", "basic"]
        # Its own session, hence process group: stop() ends node and anything it started.
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True,
        )
        self.output: list[str] = []
        lines: queue.Queue = queue.Queue()
        # Keep reading the output for the process's life, so a full pipe never blocks it.
        threading.Thread(target=self._drain, args=(lines,), daemon=True).start()
        self.endpoint = self._wait_listening(lines)

    def _drain(self, lines: queue.Queue) -> None:
        for line in self.process.stdout:
            self.output.append(line)
            lines.put(line)
        lines.put(None)

    def _wait_listening(self, lines: queue.Queue) -> str:
        while True:
            try:
                line = lines.get(timeout=_START_SECONDS)
            except queue.Empty:
                line = None
            if line is None:
                self.stop()
                raise RuntimeError("azurite-blob did not start:\n" + "".join(self.output))
            if match := _LISTENING.search(line):
                return match.group(1)

    @property
    def account_url(self) -> str:
        return f"{self.endpoint}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        return connection_string_for(self.endpoint)

    def sas_token(self, *, read=True, write=False, hours=1) -> str:
        """An account SAS for blobs and containers with the given permissions."""
        from azure.storage.blob import AccountSasPermissions, ResourceTypes, generate_account_sas

        return generate_account_sas(
            ACCOUNT, ACCOUNT_KEY,
            resource_types=ResourceTypes(service=True, container=True, object=True),
            permission=AccountSasPermissions(read=read, list=read, write=write, create=write,
                                             add=write),
            expiry=datetime.datetime.now(datetime.UTC) + datetime.timedelta(hours=hours),
        )

    def stop(self) -> None:
        stop_process_group(self.process)


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files (with the cryptography package)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ))
    return cert_path, key_path


@pytest.fixture(scope="session")
def azurite(tmp_path_factory):
    emulator = Azurite(tmp_path_factory.mktemp("azurite"))
    yield emulator
    emulator.stop()


@pytest.fixture
def private_azurite(tmp_path_factory):
    emulator = Azurite(tmp_path_factory.mktemp("azurite-private"))
    yield emulator
    emulator.stop()


@pytest.fixture(scope="session")
def azurite_oauth(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("azurite-oauth")
    cert, key = self_signed_certificate(workdir)
    emulator = Azurite(workdir / "data", cert=cert, key=key, oauth=True)
    yield emulator
    emulator.stop()
