"""Model packages as delivery sees them: the rules of classifier.inference.package (the one
definition of a package), with delivery's wording (where the bytes came from, what to do).

fetch.py adds the one check the loader has no need for: hashing a file while it streams from
the store (package.Digest), so a wrong download stops early; ``check_download`` words the verdict.
"""
from pathlib import Path

from classifier.delivery.errors import PackageInvalid, PackageMismatch
from classifier.inference import BadModelPackage, ClassifierError, load_classifier
from classifier.inference.package import (
    MANIFEST,
    NAME_RULE,
    FileEntry,
    FileMismatch,
    Manifest,
    check_file,
    is_valid_name,
    parse_manifest,
    read_manifest,
    verify,
)


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
