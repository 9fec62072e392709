"""Fetching a package from a store and installing it in the model directory.

Nothing unverified is ever served: files are downloaded into a temporary directory beside the
destination, every size and sha256 is checked against the manifest, the manifest is checked for
what the app needs, and only then does ``current`` switch, in one rename. Any failure leaves
the installed model exactly as it was.
"""
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from classifier.delivery import install
from classifier.delivery.errors import NotFound, PackageInvalid, PackageMismatch
from classifier.delivery.packages import check_download, check_name, check_servable, manifest_from
from classifier.delivery.progress import progress_factory
from classifier.delivery.publish import LATEST_MAX_BYTES
from classifier.delivery.store import Store, latest_key, version_key
from classifier.inference.package import MANIFEST, MAX_MANIFEST_BYTES, Digest, FileEntry, Manifest

LATEST = "latest"


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


def resolve_version(store: Store, name: str, version: str = LATEST) -> str:
    """The version to fetch: ``version`` itself, or what ``<name>/latest`` holds."""
    if version != LATEST:
        return check_name(version, "--version")
    try:
        data, _ = store.read_small(latest_key(name), LATEST_MAX_BYTES)
    except NotFound:
        raise NotFound(
            f"model {name} has no 'latest' in {store.description}: publish one with "
            "manage.py publish_model, or fetch a pinned --version"
        ) from None
    text = data.decode("utf-8", "replace").strip()
    return check_name(text, f"'latest' of model {name} in {store.description} holds")


def fetch_model(store: Store, name: str, dest: Path, *, version: str = LATEST, keep: int = 2,
                progress=None) -> FetchResult:
    """Install ``name`` at ``version`` (or latest) into ``dest`` and make it current.

    Already installed and verified: downloads nothing, only switches ``current`` if needed.
    ``keep``: how many versions besides the current one stay installed for rollback.
    """
    progress = progress or progress_factory(None)
    check_name(name, "model name")
    resolved = resolve_version(store, name, version)
    dest = Path(dest)
    with install.exclusive(dest):
        previous = install.current_version(dest)
        result = FetchResult(name=name, version=resolved, path=dest / install.VERSIONS / resolved,
                             previous=previous, switched=previous != resolved)
        if not install.is_installed(dest, name, resolved):
            _download_and_install(store, result, dest, via_latest=version == LATEST,
                                  progress=progress)
        if result.switched:
            install.switch_current(dest, resolved)
        result.removed = install.prune(dest, keep)
    return result


def _download_and_install(store: Store, result: FetchResult, dest: Path, *, via_latest: bool,
                          progress) -> None:
    """Download into a fresh directory beside the installed versions, verify, move into place."""
    name, version = result.name, result.version
    staged = install.incoming_dir(dest)
    try:
        manifest, size = _download_manifest(store, name, version, staged, via_latest=via_latest)
        result.downloaded.append(MANIFEST)
        result.downloaded_bytes += size
        for filename, expected in manifest.files.items():
            result.downloaded_bytes += _download_file(
                store, name, version, filename, expected, staged, progress(filename)
            )
            result.downloaded.append(filename)
        check_servable(staged, f"{name} {version} from {store.description}")
        install.install(dest, version, staged)
    finally:
        # After a successful install the directory has been renamed away: nothing to delete.
        shutil.rmtree(staged, ignore_errors=True)


def _download_manifest(store: Store, name: str, version: str, staged: Path, *,
                       via_latest: bool) -> tuple[Manifest, int]:
    key = version_key(name, version, MANIFEST)
    try:
        data, _ = store.read_small(key, MAX_MANIFEST_BYTES)
    except NotFound:
        if via_latest:
            raise NotFound(
                f"'latest' of model {name} points to version {version}, which is not in "
                f"{store.description} (no {MANIFEST}): republish {version}, or publish a new "
                "version to move 'latest'"
            ) from None
        raise NotFound(
            f"version {version} of model {name} is not in {store.description}: check --version "
            "(or fetch --version latest)"
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
