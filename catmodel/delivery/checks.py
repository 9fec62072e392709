"""Model packages as delivery sees them: the rules of catmodel.inference.package (the one
definition of a package), with delivery's wording (where the bytes came from, what to do).

fetch.py adds the one check the loader has no need for: hashing a file while it streams from
the store (package.Digest), so a wrong download stops early; ``check_download`` words the verdict.
"""
from dataclasses import dataclass
from pathlib import Path

from catmodel.delivery.errors import PackageInvalid, PackageMismatch, SignatureRefused
from catmodel.inference import BadModelPackage, ClassifierError, load_classifier
from catmodel.inference.package import (
    MANIFEST,
    NAME_RULE,
    SIGNATURE_FILE,
    FileEntry,
    FileMismatch,
    Manifest,
    check_file,
    is_valid_name,
    parse_manifest,
    read_manifest,
    verify,
)
from catmodel.inference.signatures import SignatureRefused as RefusedByKeys
from catmodel.inference.signatures import TrustedKey, signer_hint, verify_signature

# Defaults of MODEL_MAX_FILE_BYTES and MODEL_MAX_FILES.
DEFAULT_MAX_FILE_BYTES = 1024 ** 3
DEFAULT_MAX_FILES = 8


@dataclass(frozen=True)
class PackageLimits:
    """What a manifest may declare: a package of more or larger files is refused before any of
    them is downloaded (a store attacker could otherwise fill the disk)."""

    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_files: int = DEFAULT_MAX_FILES


def check_limits(manifest: Manifest, limits: PackageLimits, origin: str) -> None:
    if len(manifest.files) > limits.max_files:
        raise PackageInvalid(
            f"{origin} lists {len(manifest.files)} files, more than the {limits.max_files} "
            "accepted (MODEL_MAX_FILES): refused before downloading; check who published it")
    for filename, entry in manifest.files.items():
        if entry.bytes > limits.max_file_bytes:
            raise PackageInvalid(
                f"{origin}: {filename} is declared as {entry.bytes} bytes, more than the "
                f"{limits.max_file_bytes} accepted (MODEL_MAX_FILE_BYTES): refused before "
                "downloading; raise the limit if the model really is that large")


def check_signer(package_dir: Path, trusted_keys: tuple[TrustedKey, ...], origin: str) -> None:
    """SignatureRefused unless the package's signature names one of the trusted keys (the
    signature itself is checked by ``check_signature`` once the files are there)."""
    try:
        hint = signer_hint(Path(package_dir) / SIGNATURE_FILE)
    except RefusedByKeys as exc:
        raise _refused(origin, exc) from None
    if not any(key.hint == hint for key in trusted_keys):
        raise _refused(origin, RefusedByKeys(
            "untrusted_key", f"signed by a key that is not trusted (key sha256 {hint[:16]}...)"))


def check_signature(package_dir: Path, trusted_keys: tuple[TrustedKey, ...], origin: str) -> None:
    """SignatureRefused unless every file of the package is as a trusted key signed it."""
    try:
        verify_signature(package_dir, trusted_keys)
    except RefusedByKeys as exc:
        raise _refused(origin, exc) from None


def _refused(origin: str, exc: RefusedByKeys) -> SignatureRefused:
    advice = {
        "unsigned": "publish it signed (publish_model --signing-key)",
        "untrusted_key": "publish it signed with a trusted key, or add the signer's public key "
                         "to MODEL_TRUSTED_KEYS",
    }.get(exc.reason, "it was changed after signing: republish it from a trusted build")
    return SignatureRefused(f"{origin} is refused: {SIGNATURE_FILE} {exc.problem}; {advice}",
                            reason=exc.reason)


def check_name(value, what: str) -> str:
    """``value`` if it can be a model name or version (one path component in the store and on
    disk), else PackageInvalid."""
    if not is_valid_name(value):
        raise PackageInvalid(f"{what} {value!r} is not allowed: use {NAME_RULE}")
    return value


def manifest_from(data: bytes, origin: str) -> Manifest:
    """The manifest in ``data`` (read from ``origin``), checked by the package rules."""
    try:
        return parse_manifest(data)
    except BadModelPackage as exc:
        raise _not_servable(origin, exc) from None


def _manifest_of(package_dir: Path) -> Manifest:
    """The manifest of the package in ``package_dir``, checked by the package rules (its files
    are not: see ``verify_package``)."""
    path = Path(package_dir) / MANIFEST
    if not path.is_file():
        raise PackageInvalid(f"{path} does not exist: is {package_dir} a model package?")
    try:
        return read_manifest(package_dir)
    except BadModelPackage as exc:
        raise _not_servable(str(path), exc) from None


def verify_package(package_dir: Path) -> Manifest:
    """The package's manifest once ``verify`` passes: PackageInvalid for a bad manifest,
    PackageMismatch for a listed file that differs from it or a file it does not list."""
    _manifest_of(package_dir)  # a missing or invalid manifest, in its own words
    try:
        return verify(package_dir)
    except BadModelPackage as exc:
        raise PackageMismatch(
            f"{Path(package_dir) / exc.file} does not match its manifest: {exc.problem}; "
            "rebuild the package"
        ) from None


def _not_servable(origin: str, exc: BadModelPackage) -> PackageInvalid:
    return PackageInvalid(
        f"{origin} is not a package this app can serve: {exc.problem}; rebuild it with "
        "manage.py build_model"
    )


def check_download(label: str, expected: FileEntry, found: FileEntry) -> None:
    """PackageMismatch unless a downloaded file (``found``) is what its manifest entry says."""
    try:
        check_file(label, expected, found)
    except FileMismatch as exc:
        if exc.size_differs:
            raise PackageMismatch(
                f"{label} is {found.bytes} bytes but its manifest says {expected.bytes}: it is "
                "truncated or was tampered with; republish the version"
            ) from None
        raise PackageMismatch(
            f"{label} has sha256 {found.sha256[:12]}... but its manifest says "
            f"{expected.sha256[:12]}...: it was changed or tampered with; republish the version"
        ) from None


def check_servable(package_dir: Path, origin: str) -> None:
    """Load the package the way the web process will (ONNX Runtime session, input and output
    signature, labels against the output size, one trial run); PackageInvalid if it fails."""
    try:
        load_classifier(package_dir, threads=1)
    except ClassifierError as exc:
        raise PackageInvalid(
            f"{origin} cannot be served by this app: {exc.message}; rebuild and republish it"
        ) from None
