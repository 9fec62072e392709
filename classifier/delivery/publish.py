"""Publishing a package to a store: files first, then its signature, the manifest last, then
``latest`` moved with a conditional write, so two publishers racing cannot silently overwrite
each other.

With a signing key the package is signed as it is published (the manifest's version may have
been replaced, so what is signed is exactly what is uploaded); without one, a signature the
package already carries (build_model --signing-key) travels with it when it still applies.
"""
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from classifier.delivery.errors import (
    AlreadyExists,
    Conflict,
    DeliveryError,
    NotFound,
    PackageInvalid,
)
from classifier.delivery.packages import check_name, check_servable, verify_package
from classifier.delivery.progress import progress_factory
from classifier.delivery.store import Store, latest_key, version_key
from classifier.inference import BadModelPackage
from classifier.inference.package import MANIFEST, SIGNATURE_FILE
from classifier.inference.signatures import sign_package

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
                    force: bool = False, progress=None,
                    signing_key: Path | None = None) -> PublishResult:
    """Upload ``package_dir`` as ``<name>/<version>/`` and point ``<name>/latest`` at it.

    ``version`` replaces the manifest's version in the published copy (the files are unchanged,
    so their hashes still hold). ``force`` replaces an already published version.
    ``progress`` is a function label -> Progress (see progress.py). ``signing_key``: the EC
    private key (PEM) that signs the published copy (``model.sig``).
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
    signature = _signature(package_dir, manifest, manifest_data, signing_key,
                           renamed=manifest_data != (package_dir / MANIFEST).read_bytes())

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
    if signature is not None:
        store.upload(version_key(name, version, SIGNATURE_FILE), signature, overwrite=True)
        result.uploaded.append(SIGNATURE_FILE)
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


def _signature(package_dir: Path, manifest, manifest_data: bytes, signing_key,
               renamed: bool) -> bytes | None:
    """The bytes of the signature to publish, or None to publish unsigned."""
    existing = package_dir / SIGNATURE_FILE
    if signing_key:
        return _sign_copy(package_dir, manifest, manifest_data, Path(signing_key))
    if not existing.exists():
        return None
    if renamed:
        raise PackageInvalid(
            f"{existing} signs version {_version_in(package_dir)}, and publishing it as "
            f"{manifest.version} changes {MANIFEST}: sign the published copy with "
            "--signing-key (or MODEL_SIGNING_KEY)")
    return existing.read_bytes()


def _sign_copy(package_dir: Path, manifest, manifest_data: bytes, signing_key: Path) -> bytes:
    """Sign exactly what will be uploaded: the listed files and ``manifest_data``, assembled in a
    scratch directory (hard links where the filesystem allows, else copies)."""
    with tempfile.TemporaryDirectory(prefix="catsite-sign-") as scratch:
        scratch = Path(scratch)
        for filename in manifest.files:
            try:
                os.link(package_dir / filename, scratch / filename)
            except OSError:
                shutil.copyfile(package_dir / filename, scratch / filename)
        (scratch / MANIFEST).write_bytes(manifest_data)
        try:
            return sign_package(scratch, signing_key).read_bytes()
        except BadModelPackage as exc:
            raise PackageInvalid(f"signing with {signing_key} failed: {exc.problem}; pass the "
                                 "path of an EC private key in PEM") from None


def _version_in(package_dir: Path) -> str:
    try:
        return verify_package(package_dir).version
    except DeliveryError:
        return "another version"


def _latest_now(store: Store, name: str) -> str:
    try:
        return read_latest(store, name)[0] or "nothing"
    except DeliveryError:
        return "an unknown version"
