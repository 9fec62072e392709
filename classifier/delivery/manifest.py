"""Manifests and file checks for delivery, on top of the app's own package validation.

The app's rules (classifier/inference/package.py and model.py) decide what a valid package is;
this module gives their verdicts delivery's wording (where the bytes came from, what to do) and
adds the one check the loader has no need for: hashing a file while it streams from the store.
"""
import json
import re
from pathlib import Path

from classifier.delivery.errors import PackageInvalid, PackageMismatch
from classifier.inference import BadModelPackage, ClassifierError, load_classifier
from classifier.inference.package import MANIFEST, MODEL_FILE, load_manifest, verify_file
from classifier.inference.package import parse_manifest as parse_document

__all__ = ["MANIFEST", "MODEL_FILE"]

# A manifest of 1000 labels is about 40 KB; anything near this cap is not a manifest.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
_COMPONENT = re.compile(r"^[A-Za-z0-9._-]+$")


def check_component(value, what: str) -> str:
    """``value`` if it can be one path component in the store and on disk, else PackageInvalid."""
    if not isinstance(value, str) or not _COMPONENT.match(value) or value in (".", ".."):
        raise PackageInvalid(
            f"{what} {value!r} is not allowed: use letters, digits, '.', '_' and '-' only"
        )
    return value


def parse_manifest(data: bytes, origin: str) -> dict:
    """The manifest document in ``data`` (read from ``origin``), checked by the app's rules."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise PackageInvalid(f"{origin} is not valid JSON ({exc}); rebuild the package") from None
    try:
        parse_document(document)
    except BadModelPackage as exc:
        raise PackageInvalid(
            f"{origin} is not a package this app can serve: {exc.problem}; rebuild it with "
            "manage.py build_model"
        ) from None
    return document


def read_manifest(package_dir: Path) -> dict:
    path = Path(package_dir) / MANIFEST
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise PackageInvalid(f"{path} does not exist: is {package_dir} a model package?") from None
    except OSError as exc:
        raise PackageInvalid(f"cannot read {path}: {exc.strerror}") from None
    return parse_manifest(data, str(path))


def manifest_bytes(manifest: dict) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()


def verify_package(package_dir: Path) -> None:
    """PackageMismatch unless every file the manifest lists is in ``package_dir`` as recorded."""
    try:
        manifest = load_manifest(package_dir, verify_files=False)
        for name in manifest.files:
            verify_file(package_dir, manifest, name)
    except BadModelPackage as exc:
        raise PackageMismatch(
            f"{Path(package_dir) / exc.file} does not match its manifest: {exc.problem}; "
            "rebuild the package"
        ) from None


def check_digest(label: str, expected: dict, sha256: str, size: int) -> None:
    """PackageMismatch unless (sha256, size) is what the manifest entry ``expected`` says."""
    if size != expected["bytes"]:
        raise PackageMismatch(
            f"{label} is {size} bytes but its manifest says {expected['bytes']}: it is "
            "truncated or was tampered with; republish the version"
        )
    if sha256 != expected["sha256"]:
        raise PackageMismatch(
            f"{label} has sha256 {sha256[:12]}... but its manifest says "
            f"{expected['sha256'][:12]}...: it was changed or tampered with; republish the version"
        )


def check_servable(package_dir: Path, origin: str) -> None:
    """Load the package the way the web process will (ONNX Runtime session, input and output
    signature, labels against the output size, one trial run); PackageInvalid if it fails."""
    try:
        load_classifier(package_dir, threads=1)
    except ClassifierError as exc:
        raise PackageInvalid(
            f"{origin} cannot be served by this app: {exc.message}; rebuild and republish it"
        ) from None
