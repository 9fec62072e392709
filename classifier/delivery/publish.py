"""Publishing a package to a store: files first, the manifest last, then ``latest`` moved
with a conditional write, so two publishers racing cannot silently overwrite each other."""
from dataclasses import dataclass, field
from pathlib import Path

from classifier.delivery.errors import AlreadyExists, Conflict, DeliveryError, NotFound
from classifier.delivery.packages import check_name, check_servable, verify_package
from classifier.delivery.progress import progress_factory
from classifier.delivery.store import Store, latest_key, version_key
from classifier.inference.package import MANIFEST

LATEST_MAX_BYTES = 256


@dataclass
class PublishResult:
    name: str
    version: str
    previous_latest: str | None
    uploaded: list[str] = field(default_factory=list)


def read_latest(store: Store, name: str) -> tuple[str | None, str | None]:
    """(version, etag) of ``<name>/latest``, or (None, None) when nothing is published yet."""
    try:
        data, etag = store.read_small(latest_key(name), LATEST_MAX_BYTES)
    except NotFound:
        return None, None
    return data.decode("utf-8", "replace").strip(), etag


def publish_package(store: Store, package_dir: Path, *, version: str | None = None,
                    force: bool = False, progress=None) -> PublishResult:
    """Upload ``package_dir`` as ``<name>/<version>/`` and point ``<name>/latest`` at it.

    ``version`` replaces the manifest's version in the published copy (the files are unchanged,
    so their hashes still hold). ``force`` replaces an already published version.
    ``progress`` is a function label -> Progress (see progress.py).
    """
    progress = progress or progress_factory(None)
    package_dir = Path(package_dir)
    manifest = verify_package(package_dir)
    check_servable(package_dir, str(package_dir))
    # The manifest exactly as verified, byte for byte, unless it is published as another version.
    manifest_data = (package_dir / MANIFEST).read_bytes()
    if version is not None and version != manifest.version:
        manifest = manifest.with_version(check_name(version, "--version"))
        manifest_data = manifest.to_bytes()
    name, version = manifest.name, manifest.version

    store.ensure_container()
    # Read latest before uploading: if it moves while we upload, our conditional write fails.
    previous, etag = read_latest(store, name)
    manifest_key = version_key(name, version, MANIFEST)
    if not force and store.exists(manifest_key):
        raise AlreadyExists(
            f"version {version} of model {name} is already published in {store.description}: "
            "publish under a new version (--version), or pass --force to replace it"
        )

    result = PublishResult(name=name, version=version, previous_latest=previous)
    for filename in manifest.files:
        bar = progress(filename)
        store.upload(version_key(name, version, filename), package_dir / filename,
                     overwrite=True, progress=bar.update)
        bar.finish()
        result.uploaded.append(filename)
    try:
        # The manifest marks the version complete; without --force it is created only if absent,
        # so of two publishers of the same version exactly one succeeds.
        store.upload(manifest_key, manifest_data, overwrite=force)
    except AlreadyExists:
        raise AlreadyExists(
            f"version {version} of model {name} was published by someone else while this "
            f"upload ran ({store.description}): check which package it holds, then publish "
            "under a new version or pass --force to replace it"
        ) from None
    result.uploaded.append(MANIFEST)

    try:
        store.put_if_unchanged(latest_key(name), version.encode() + b"\n", etag)
    except Conflict:
        now = _latest_now(store, name)
        raise Conflict(
            f"'latest' of model {name} moved from {previous or 'nothing'} to {now} while "
            f"version {version} was being published (another publisher?); {version} is uploaded "
            "but 'latest' was left alone: agree which version is latest, then run publish_model "
            "again with --force"
        ) from None
    return result


def _latest_now(store: Store, name: str) -> str:
    try:
        return read_latest(store, name)[0] or "nothing"
    except DeliveryError:
        return "an unknown version"
