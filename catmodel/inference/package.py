"""The model package (docs/model-package.md, format ``catsite-model/1``): its one definition.

A package is a directory holding ``manifest.json``, exactly the files it lists (``model.onnx``
at least) and, optionally, the signature ``model.sig``; nothing else. Build, the build cache,
delivery (publish, fetch, install, stores) and the loader all use this module's names, name rule,
hashing and ``verify``. Every failure raises BadModelPackage naming the file and the problem,
so an operator can fix it; callers give it their own wording. Checking the labels against the
network's output shape needs the network: see model.py.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from .errors import BadModelPackage, ModelUnavailable

FORMAT = "catsite-model/1"
MANIFEST = "manifest.json"
MODEL_FILE = "model.onnx"
# The package's signature (issue 11, OpenSSF model signing). It signs the manifest and the files
# it lists, so the manifest cannot list it; a package may carry it beside them.
SIGNATURE_FILE = "model.sig"
# Files a manifest cannot list: the manifest itself and the signature over it.
RESERVED_FILES = frozenset({MANIFEST, SIGNATURE_FILE})
# A manifest of 1000 labels is about 40 KB; anything near this cap is not a manifest.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024

# Names (model name, version, file names) become one path component in a store and on disk.
NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]+")
NAME_RULE = "letters, digits, '.', '_' and '-' only"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK = 1 << 20


def is_valid_name(value) -> bool:
    """Whether ``value`` can be one path component: ``[A-Za-z0-9._-]+`` in full (``fullmatch``:
    ``$`` would let a trailing newline through), and neither ``.`` nor ``..``."""
    return isinstance(value, str) and bool(NAME_PATTERN.fullmatch(value)) and value not in (
        ".", "..")


# --- hashing -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FileEntry:
    """What a manifest records of one file, and what hashing a file finds."""

    sha256: str
    bytes: int


class Digest:
    """sha256 and size of bytes fed in chunks: a file as it streams from disk or from a store."""

    def __init__(self):
        self._sha256 = hashlib.sha256()
        self.bytes = 0

    def update(self, chunk: bytes) -> None:
        self._sha256.update(chunk)
        self.bytes += len(chunk)

    def entry(self) -> FileEntry:
        return FileEntry(sha256=self._sha256.hexdigest(), bytes=self.bytes)


def digest_bytes(data: bytes) -> FileEntry:
    digest = Digest()
    digest.update(data)
    return digest.entry()


def digest_file(path) -> FileEntry:
    """sha256 and size of the file at ``path``, streamed (a model is never held in memory)."""
    digest = Digest()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.entry()


class FileMismatch(BadModelPackage):
    """A file whose size or sha256 differs from its manifest entry (truncated, changed,
    tampered with). ``expected`` and ``found`` let callers word it for their audience."""

    def __init__(self, file: str, expected: FileEntry, found: FileEntry):
        self.expected, self.found = expected, found
        if found.bytes != expected.bytes:
            problem = f"is {found.bytes} bytes, {MANIFEST} says {expected.bytes}"
        else:
            problem = f"sha256 is {found.sha256}, {MANIFEST} says {expected.sha256}"
        super().__init__(file, problem)

    @property
    def size_differs(self) -> bool:
        return self.found.bytes != self.expected.bytes


def check_file(name: str, expected: FileEntry, found: FileEntry) -> None:
    """FileMismatch unless ``found`` (size, then sha256) is what the manifest lists."""
    if found != expected:
        raise FileMismatch(name, expected, found)


# --- the manifest --------------------------------------------------------------------------------
@dataclass(frozen=True)
class InputSpec:
    """How to turn a photo into the network's input: resize the shorter side to ``resize``,
    centre-crop ``size`` x ``size``, then ``(pixel - mean) / std`` on the 0-255 scale, NCHW RGB."""

    name: str
    size: int
    resize: int
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    @classmethod
    def from_dict(cls, spec: dict) -> InputSpec:
        return _parse_input(spec)


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    input: InputSpec
    output_name: str
    labels: tuple[str, ...]
    files: dict[str, FileEntry]
    raw: dict  # the whole document, for fields the app only reports (source, checks, ...)

    @classmethod
    def from_dict(cls, document) -> Manifest:
        """Validate a manifest document already parsed from JSON."""
        return _parse_document(document)

    def with_version(self, version: str) -> Manifest:
        """The same package under another version (its files, and so their hashes, unchanged)."""
        if not is_valid_name(version):
            raise BadModelPackage(MANIFEST, f"version {version!r} is not allowed: use {NAME_RULE}")
        return replace(self, version=version, raw={**self.raw, "version": version})

    def to_bytes(self) -> bytes:
        """The document as ``manifest.json`` holds it."""
        return (json.dumps(self.raw, indent=2, ensure_ascii=False) + "\n").encode()


def parse_manifest(data: bytes | str) -> Manifest:
    """The manifest in ``data`` (the bytes of a ``manifest.json``), validated."""
    if len(data) > MAX_MANIFEST_BYTES:
        raise BadModelPackage(MANIFEST, f"is larger than {MAX_MANIFEST_BYTES} bytes: not a "
                                        "manifest")
    try:
        document = json.loads(data)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadModelPackage(MANIFEST, f"not readable JSON ({exc})") from None
    return Manifest.from_dict(document)


def read_manifest(package_dir) -> Manifest:
    """``package_dir/manifest.json``, validated; the files it lists are not checked (``verify``).
    ModelUnavailable when there is no directory at all."""
    return parse_manifest(_manifest_bytes(package_dir))


def _manifest_bytes(package_dir) -> bytes:
    """The bytes of ``package_dir/manifest.json`` (at most one more than a manifest may have)."""
    package_dir = Path(package_dir)
    if not package_dir.is_dir():
        raise ModelUnavailable(f"No model package at {package_dir}.")
    try:
        with (package_dir / MANIFEST).open("rb") as stream:
            return stream.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError:
        raise BadModelPackage(MANIFEST, f"missing from {package_dir}") from None
    except OSError as exc:
        raise BadModelPackage(MANIFEST, f"not readable ({exc.strerror or exc})") from None


# --- the directory -------------------------------------------------------------------------------
def verify(package_dir) -> Manifest:
    """The manifest of the package in ``package_dir``, once everything checks out: a valid
    manifest, no file it does not list (besides the signature), and every listed file present
    with the listed size and sha256 (streamed). BadModelPackage (ModelUnavailable when there is
    no directory) otherwise."""
    return _verify(package_dir, keep_model=False)[0]


def verify_and_read_model(package_dir) -> tuple[Manifest, dict[str, bytes]]:
    """``verify``, also returning the bytes it read of ``manifest.json`` and ``model.onnx``
    (by file name), hashed from memory: parsing and loading these bytes (not the path again)
    means what runs is exactly what was verified, and a signature can be checked against them
    (signatures.verify_signature's ``held``)."""
    return _verify(package_dir, keep_model=True)


def _verify(package_dir, *, keep_model: bool) -> tuple[Manifest, dict[str, bytes]]:
    held = {MANIFEST: _manifest_bytes(package_dir)}
    manifest = parse_manifest(held[MANIFEST])
    _check_contents(package_dir, manifest)
    for name in manifest.files:
        if keep_model and name == MODEL_FILE:
            with _reading(name):
                held[name] = (Path(package_dir) / name).read_bytes()
            check_file(name, manifest.files[name], digest_bytes(held[name]))
        else:
            _verify_file(package_dir, manifest, name)
    return manifest, held


def _check_contents(package_dir, manifest: Manifest) -> None:
    """BadModelPackage when the directory holds anything besides the manifest, the files it
    lists and the signature: what is published, installed and signed is exactly what the
    manifest describes, and a stray file is an error, not silently left behind."""
    allowed = set(manifest.files) | RESERVED_FILES
    try:
        present = sorted(entry.name for entry in Path(package_dir).iterdir())
    except OSError as exc:
        raise BadModelPackage(MANIFEST, f"cannot list {package_dir} ({exc.strerror or exc})") \
            from None
    unlisted = [name for name in present if name not in allowed]
    if unlisted:
        raise BadModelPackage(unlisted[0], f"is in the package but not listed in {MANIFEST}: "
                                           "a package holds only the files its manifest lists")


def _verify_file(package_dir, manifest: Manifest, name: str) -> None:
    """FileMismatch unless the listed file ``name`` is there as the manifest says (streamed)."""
    with _reading(name):
        found = digest_file(Path(package_dir) / name)
    check_file(name, manifest.files[name], found)


@contextmanager
def _reading(name: str):
    """OS errors while reading the listed file ``name`` as BadModelPackage."""
    try:
        yield
    except FileNotFoundError:
        raise BadModelPackage(name, f"listed in {MANIFEST} but missing") from None
    except OSError as exc:
        raise BadModelPackage(name, f"not readable ({exc.strerror or exc})") from None


# --- validation of the document ------------------------------------------------------------------
def _parse_document(document) -> Manifest:
    if not isinstance(document, dict):
        raise BadModelPackage(MANIFEST, "must hold a JSON object")
    if document.get("format") != FORMAT:
        raise BadModelPackage(
            MANIFEST, f"format is {document.get('format')!r}, this app reads {FORMAT!r}"
        )
    name = _name(document, "name")
    version = _name(document, "version")
    output = _require(document, "output", dict)
    if output.get("kind") != "logits":
        raise BadModelPackage(MANIFEST, f"output.kind is {output.get('kind')!r}, expected 'logits'")
    labels = _require(document, "labels", list)
    if not labels or not all(isinstance(label, str) and label.strip() for label in labels):
        raise BadModelPackage(MANIFEST, "labels must be a non-empty list of non-empty strings")
    return Manifest(
        name=name,
        version=version,
        input=_parse_input(_require(document, "input", dict)),
        output_name=_require(output, "name", str, "output.name"),
        labels=tuple(labels),
        files=_parse_files(_require(document, "files", dict)),
        raw=document,
    )


def _parse_input(spec: dict) -> InputSpec:
    for key, expected in (("layout", "NCHW"), ("color", "RGB")):
        if spec.get(key) != expected:
            raise BadModelPackage(
                MANIFEST, f"input.{key} is {spec.get(key)!r}, this app feeds {expected!r}"
            )
    size = _require(spec, "size", int, "input.size")
    resize = _require(spec, "resize", int, "input.resize")
    if not 0 < size <= resize:
        raise BadModelPackage(MANIFEST, f"input needs 0 < size <= resize, got {size} and {resize}")
    mean = _triple(spec, "mean")
    std = _triple(spec, "std")
    if not all(value > 0 for value in std):
        raise BadModelPackage(MANIFEST, f"input.std must be positive, got {list(std)}")
    return InputSpec(
        name=_require(spec, "name", str, "input.name"), size=size, resize=resize, mean=mean, std=std
    )


def _parse_files(files: dict) -> dict[str, FileEntry]:
    if MODEL_FILE not in files:
        raise BadModelPackage(MANIFEST, f"files does not list {MODEL_FILE}")
    entries = {}
    for name, entry in files.items():
        # A listed name must stay inside the package: no directories, no "..".
        if not is_valid_name(name) or name in RESERVED_FILES:
            raise BadModelPackage(MANIFEST, f"files lists an invalid file name {name!r}")
        if not isinstance(entry, dict):
            raise BadModelPackage(MANIFEST, f"files.{name} must be an object")
        sha256 = _require(entry, "sha256", str, f"files.{name}.sha256")
        if not _SHA256.fullmatch(sha256):
            raise BadModelPackage(MANIFEST, f"files.{name}.sha256 is not 64 lowercase hex digits")
        size = _require(entry, "bytes", int, f"files.{name}.bytes")
        if size < 0:
            raise BadModelPackage(MANIFEST, f"files.{name}.bytes is negative")
        entries[name] = FileEntry(sha256=sha256, bytes=size)
    return entries


def _name(document: dict, key: str) -> str:
    value = _require(document, key, str)
    if not is_valid_name(value):
        raise BadModelPackage(MANIFEST, f"{key} {value!r} must match {NAME_PATTERN.pattern} "
                                        "(and not be '.' or '..')")
    return value


def _triple(spec: dict, key: str) -> tuple[float, float, float]:
    value = spec.get(key)
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not all(_is_number(v) and math.isfinite(v) for v in value)
    ):
        raise BadModelPackage(MANIFEST, f"input.{key} must be a list of 3 numbers (R, G, B)")
    red, green, blue = (float(v) for v in value)
    return red, green, blue


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _require(mapping: dict, key: str, kind: type, where: str | None = None):
    value = mapping.get(key)
    # bool is an int in Python; a manifest saying "size": true is still wrong.
    if not isinstance(value, kind) or isinstance(value, bool) or value in ("", None):
        raise BadModelPackage(
            MANIFEST, f"{where or key} must be a {kind.__name__}, got {value!r}"
        )
    return value
