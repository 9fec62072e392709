"""Publishing a package to a store: files first, then its signature, the manifest last, then
``latest`` (and the alias asked for) moved with a conditional write, so two publishers racing
cannot silently overwrite each other. ``promote`` points an alias at a version already published.

With a signing key the package is signed as it is published (the manifest's version may have
been replaced, so what is signed is exactly what is uploaded); without one, a signature the
package already carries (build_model --signing-key) travels with it when it still applies.
"""
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from catmodel.delivery.aliases import (
    AliasMove,
    check_alias,
    check_version,
    move_alias,
    read_alias,
)
from catmodel.delivery.checks import check_servable, verify_package
from catmodel.delivery.errors import AlreadyExists, DeliveryError, NotFound, PackageInvalid
from catmodel.delivery.gate import Gate, check_promotion
from catmodel.delivery.progress import progress_factory
from catmodel.delivery.store_base import LATEST, Store, version_key
from catmodel.inference import BadModelPackage
from catmodel.inference.package import MANIFEST, SIGNATURE_FILE
from catmodel.inference.signatures import sign_package


@dataclass
class PublishResult:
    name: str
    version: str
    previous_latest: str | None
    uploaded: list[str] = field(default_factory=list)
    moves: list[AliasMove] = field(default_factory=list)  # latest first, then --alias


def read_latest(store: Store, name: str) -> tuple[str | None, str | None]:
    """(version, etag) of ``<name>/latest``, or (None, None) when nothing is published yet."""
    return read_alias(store, name, LATEST)


def publish_package(store: Store, package_dir: Path, *, version: str | None = None,
                    force: bool = False, progress=None, alias: str | None = None,
                    gate: Gate | None = None, signing_key: Path | None = None) -> PublishResult:
    """Upload ``package_dir`` as ``<name>/<version>/``, point ``latest`` at it, and ``alias``
    too when given (champion through the gate, see gate.py).

    ``version`` replaces the manifest's version in the published copy (the files are unchanged,
    so their hashes still hold). ``force`` replaces an already published version and overrides
    the gate. ``progress`` is a function label -> Progress (see progress.py). ``signing_key``:
    the EC private key (PEM) that signs the published copy (``model.sig``).
    """
    progress = progress or progress_factory(None)
    package_dir = Path(package_dir)
    manifest = verify_package(package_dir)
    check_servable(package_dir, str(package_dir))
    # The manifest exactly as verified, byte for byte, unless it is published as another version.
    manifest_data = (package_dir / MANIFEST).read_bytes()
    if version is not None and version != manifest.version:
        manifest = manifest.with_version(check_version(version, "--version"))
        manifest_data = manifest.to_bytes()
    name, version = manifest.name, check_version(manifest.version, "the package's version")
    aliases = [LATEST] + ([check_alias(alias)] if alias not in (None, LATEST) else [])
    signature = _signature(package_dir, manifest, manifest_data, signing_key,
                           renamed=manifest_data != (package_dir / MANIFEST).read_bytes())

    store.ensure_container()
    manifest_key = version_key(name, version, MANIFEST)
    if not force and store.exists(manifest_key):
        raise AlreadyExists(
            f"version {version} of model {name} is already published in {store.description}: "
            "publish under a new version (--version), or pass --force to replace it"
        )
    # Read the aliases (and run the gate) before uploading: if one moves meanwhile, our
    # conditional write fails. Nothing is uploaded when the gate refuses.
    promotions = [check_promotion(store, name, version, each, candidate_dir=package_dir,
                                  gate=gate, force=force) for each in aliases]

    result = PublishResult(name=name, version=version, previous_latest=promotions[0].previous)
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
    for promotion in promotions:
        result.moves.append(_move(store, name, version, promotion))
    return result


def promote(store: Store, name: str, version: str, alias: str, *, gate: Gate | None = None,
            force: bool = False) -> AliasMove | None:
    """Point ``alias`` at the published ``version`` (champion through the gate). None when it
    already points there."""
    check_alias(alias)
    check_version(version, "--promote")
    if not store.exists(version_key(name, version, MANIFEST)):
        raise NotFound(f"version {version} of model {name} is not in {store.description}: "
                       "publish it first (publish_model PACKAGE_DIR), or check --promote")
    promotion = check_promotion(store, name, version, alias, candidate_dir=None, gate=gate,
                                force=force)
    if promotion.previous == version:
        return None
    return _move(store, name, version, promotion)


def _move(store: Store, name: str, version: str, promotion) -> AliasMove:
    return move_alias(store, name, promotion.alias, version, promotion.etag,
                      previous=promotion.previous, forced=promotion.forced,
                      evaluation=promotion.evaluation, note=promotion.note)


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
    with tempfile.TemporaryDirectory(prefix="catsite-sign-") as scratch_name:
        scratch = Path(scratch_name)
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
