"""Fetching a package from a store and installing it in the model directory.

Nothing unverified is ever served: files are downloaded into a temporary directory beside the
destination, every size and sha256 is checked against the manifest, the manifest is checked for
what the app needs, and only then does ``current`` switch, in one rename. Any failure leaves
the installed model exactly as it was.
"""
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from catmodel.delivery import install
from catmodel.delivery.aliases import resolve
from catmodel.delivery.checks import (
    PackageLimits,
    check_download,
    check_limits,
    check_name,
    check_servable,
    check_signature,
    check_signer,
    manifest_from,
)
from catmodel.delivery.errors import NotFound, PackageInvalid, PackageMismatch
from catmodel.delivery.progress import progress_factory
from catmodel.delivery.rollback import check_not_downgrade
from catmodel.delivery.store_base import ALIASES, LATEST, Store, version_key
from catmodel.inference.package import (
    MANIFEST,
    MAX_MANIFEST_BYTES,
    SIGNATURE_FILE,
    Digest,
    FileEntry,
    Manifest,
)
from catmodel.inference.signatures import MAX_SIGNATURE_BYTES, TrustedKey


@dataclass(frozen=True)
class FetchRules:
    """What a fetch checks besides the hashes: the keys one of which must have signed the
    package (none: signatures are not required) and the limits on its files."""

    trusted_keys: tuple[TrustedKey, ...] = ()
    limits: PackageLimits = field(default_factory=PackageLimits)


@dataclass
class FetchResult:
    name: str
    version: str
    path: Path
    previous: str | None
    switched: bool
    downloaded: list[str] = field(default_factory=list)
    downloaded_bytes: int = 0
    removed: list[str] = field(default_factory=list)


def fetch_model(store: Store, name: str, dest: Path, *, version: str = LATEST, keep: int = 2,
                progress=None, trusted_keys: tuple[TrustedKey, ...] = (),
                limits: PackageLimits | None = None, min_version: str = "",
                allow_downgrade: bool = False) -> FetchResult:
    """Install ``name`` at ``version`` (a version, or an alias: latest, champion, challenger)
    into ``dest`` and make it current.

    Already installed and verified: downloads nothing, only switches ``current`` if needed.
    ``keep``: how many versions besides the current one stay installed for rollback.
    ``trusted_keys``: when given, the version must be signed by one of them; it is checked
    before anything is installed (and an installed copy is checked again before it is reused).
    ``limits``: a manifest declaring more or larger files is refused before any file download.
    ``min_version``, ``allow_downgrade``: the rollback rules of rollback.py, checked before
    anything is downloaded or switched.
    """
    progress = progress or progress_factory(None)
    limits = limits or PackageLimits()
    check_name(name, "model name")
    resolved = resolve(store, name, version)
    via_alias = version if version in ALIASES else None
    dest = Path(dest)
    with install.exclusive(dest):
        previous = install.current_version(dest)
        check_not_downgrade(name, resolved, installed=previous, minimum=min_version,
                            via_alias=via_alias, allow_downgrade=allow_downgrade)
        result = FetchResult(name=name, version=resolved, path=dest / install.VERSIONS / resolved,
                             previous=previous, switched=previous != resolved)
        if not install.is_installed(dest, name, resolved, trusted_keys):
            _download_and_install(store, result, dest, via_alias=via_alias,
                                  progress=progress, trusted_keys=trusted_keys, limits=limits)
        if result.switched:
            install.switch_current(dest, resolved)
        result.removed = install.prune(dest, keep)
    return result


def _download_and_install(store: Store, result: FetchResult, dest: Path, *,
                          via_alias: str | None,
                          progress, trusted_keys, limits: PackageLimits) -> None:
    """Download into a fresh directory beside the installed versions, verify, move into place."""
    name, version = result.name, result.version
    origin = f"{name} {version} from {store.description}"
    staged = install.incoming_dir(dest)
    try:
        manifest, size = _download_manifest(store, name, version, staged, via_alias=via_alias)
        result.downloaded.append(MANIFEST)
        result.downloaded_bytes += size
        check_limits(manifest, limits, origin)
        if _download_signature(store, name, version, staged, trusted_keys, origin):
            result.downloaded.append(SIGNATURE_FILE)
        for filename, expected in manifest.files.items():
            result.downloaded_bytes += _download_file(
                store, name, version, filename, expected, staged, progress(filename)
            )
            result.downloaded.append(filename)
        if trusted_keys:
            check_signature(staged, trusted_keys, origin)
        check_servable(staged, origin)
        install.install(dest, version, staged)
    finally:
        # After a successful install the directory has been renamed away: nothing to delete.
        shutil.rmtree(staged, ignore_errors=True)


def _download_manifest(store: Store, name: str, version: str, staged: Path, *,
                       via_alias: str | None) -> tuple[Manifest, int]:
    key = version_key(name, version, MANIFEST)
    try:
        data, _ = store.read_small(key, MAX_MANIFEST_BYTES)
    except NotFound:
        if via_alias:
            raise NotFound(
                f"'{via_alias}' of model {name} points to version {version}, which is not in "
                f"{store.description} (no {MANIFEST}): republish {version}, or point "
                f"'{via_alias}' at another version (publish_model --promote VERSION --alias "
                f"{via_alias})"
            ) from None
        raise NotFound(
            f"version {version} of model {name} is not in {store.description}: check --version "
            "(or an alias: --version latest, champion or challenger)"
        ) from None
    origin = f"{store.full_key(key)} in {store.description}"
    manifest = manifest_from(data, origin)
    if manifest.name != name or manifest.version != version:
        raise PackageInvalid(
            f"{origin} describes {manifest.name} {manifest.version}, not {name} {version}: "
            "the store is inconsistent; republish the version with publish_model --force"
        )
    with install.disk_errors(staged.parent, f"writing {MANIFEST}"):
        (staged / MANIFEST).write_bytes(data)
    return manifest, len(data)


def _download_signature(store: Store, name: str, version: str, staged: Path, trusted_keys,
                        origin: str) -> bool:
    """Download the version's signature when there is one (it travels with the version, so the
    web process can check it too). With trusted keys a missing signature or one by another key
    is refused here, before the model itself is downloaded."""
    try:
        data, _ = store.read_small(version_key(name, version, SIGNATURE_FILE),
                                   MAX_SIGNATURE_BYTES)
    except NotFound:
        data = None
    if data is not None:
        with install.disk_errors(staged.parent, f"writing {SIGNATURE_FILE}"):
            (staged / SIGNATURE_FILE).write_bytes(data)
    if trusted_keys:
        check_signer(staged, trusted_keys, origin)
    return data is not None


def _download_file(store: Store, name: str, version: str, filename: str, expected: FileEntry,
                   staged: Path, bar) -> int:
    """Stream one file to ``staged``, hashing as it comes; returns its size once verified."""
    key = version_key(name, version, filename)
    label = f"{filename} of {name} {version} from {store.description}"
    digest = Digest()
    with install.disk_errors(staged.parent, f"writing {filename}"), \
            open(staged / filename, "wb") as out:

        def write(chunk: bytes) -> None:
            digest.update(chunk)
            if digest.bytes > expected.bytes:
                # Stop at once: no reason to download gigabytes to learn they are wrong.
                raise PackageMismatch(
                    f"{label} is larger than the {expected.bytes} bytes in its manifest: it "
                    "was replaced or tampered with; republish the version"
                )
            # Disk errors become InstallFailed here, before a store could mistake them for its own.
            with install.disk_errors(staged.parent, f"writing {filename}"):
                out.write(chunk)

        try:
            store.download(key, write, progress=bar.update)
        except NotFound:
            raise NotFound(
                f"{label} is missing: the publish was incomplete; republish with "
                "publish_model --force", key
            ) from None
    bar.finish()
    found = digest.entry()
    check_download(label, expected, found)
    return found.bytes
