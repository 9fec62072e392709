"""Reading and validating a model package (docs/model-package.md, format ``catsite-model/1``).

A package is a directory with ``manifest.json`` and the files it lists (``model.onnx``). Every
check failure raises BadModelPackage naming the file and the problem, so an operator can fix it.
Checking the labels against the network's output shape needs the network: see model.py.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import BadModelPackage, ModelUnavailable

FORMAT = "catsite-model/1"
MANIFEST = "manifest.json"
MODEL_FILE = "model.onnx"
# Name and version become path components in the model store.
_PATH_COMPONENT = re.compile(r"^[A-Za-z0-9._-]+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


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
class FileEntry:
    sha256: str
    bytes: int


@dataclass(frozen=True)
class Manifest:
    name: str
    version: str
    input: InputSpec
    output_name: str
    labels: tuple[str, ...]
    files: dict[str, FileEntry]
    raw: dict  # the whole document, for fields the app only reports (source, checks, ...)


def load_manifest(package_dir, verify_files: bool = True) -> Manifest:
    """Parse and validate ``package_dir/manifest.json``; with ``verify_files`` also check that
    every listed file is present with the listed size and sha256 (streamed, not held in memory)."""
    package_dir = Path(package_dir)
    if not package_dir.is_dir():
        raise ModelUnavailable(f"No model package at {package_dir}.")
    path = package_dir / MANIFEST
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadModelPackage(MANIFEST, f"missing from {package_dir}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadModelPackage(MANIFEST, f"not readable JSON ({exc})") from None
    manifest = parse_manifest(document)
    if verify_files:
        for name in manifest.files:
            verify_file(package_dir, manifest, name)
    return manifest


def read_verified(package_dir, manifest: Manifest, name: str) -> bytes:
    """The bytes of one listed file, checked against the manifest. Loading the model from these
    bytes (not from the path again) means what runs is exactly what was verified."""
    path = Path(package_dir) / name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadModelPackage(name, f"listed in {MANIFEST} but missing") from None
    except OSError as exc:
        raise BadModelPackage(name, f"not readable ({exc})") from None
    _compare(name, manifest.files[name], len(data), hashlib.sha256(data).hexdigest())
    return data


def verify_file(package_dir, manifest: Manifest, name: str) -> None:
    path = Path(package_dir) / name
    digest = hashlib.sha256()
    try:
        with path.open("rb") as stream:
            size = 0
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
    except FileNotFoundError:
        raise BadModelPackage(name, f"listed in {MANIFEST} but missing") from None
    except OSError as exc:
        raise BadModelPackage(name, f"not readable ({exc})") from None
    _compare(name, manifest.files[name], size, digest.hexdigest())


def _compare(name: str, entry: FileEntry, size: int, sha256: str) -> None:
    if size != entry.bytes:
        raise BadModelPackage(name, f"is {size} bytes, {MANIFEST} says {entry.bytes}")
    if sha256 != entry.sha256:
        raise BadModelPackage(name, f"sha256 is {sha256}, {MANIFEST} says {entry.sha256}")


def parse_manifest(document) -> Manifest:
    """Validate a manifest already parsed from JSON (build_model can check what it writes)."""
    if not isinstance(document, dict):
        raise BadModelPackage(MANIFEST, "must hold a JSON object")
    if document.get("format") != FORMAT:
        raise BadModelPackage(
            MANIFEST, f"format is {document.get('format')!r}, this app reads {FORMAT!r}"
        )
    name = _path_component(document, "name")
    version = _path_component(document, "version")
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
        if not _PATH_COMPONENT.match(name) or name in (".", "..", MANIFEST):
            raise BadModelPackage(MANIFEST, f"files lists an invalid file name {name!r}")
        if not isinstance(entry, dict):
            raise BadModelPackage(MANIFEST, f"files.{name} must be an object")
        sha256 = _require(entry, "sha256", str, f"files.{name}.sha256")
        if not _SHA256.match(sha256):
            raise BadModelPackage(MANIFEST, f"files.{name}.sha256 is not 64 lowercase hex digits")
        size = _require(entry, "bytes", int, f"files.{name}.bytes")
        if size < 0:
            raise BadModelPackage(MANIFEST, f"files.{name}.bytes is negative")
        entries[name] = FileEntry(sha256=sha256, bytes=size)
    return entries


def _path_component(document: dict, key: str) -> str:
    value = _require(document, key, str)
    if not _PATH_COMPONENT.match(value):
        raise BadModelPackage(MANIFEST, f"{key} {value!r} must match [A-Za-z0-9._-]+")
    return value


def _triple(spec: dict, key: str) -> tuple[float, float, float]:
    value = spec.get(key)
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not all(_is_number(v) and math.isfinite(v) for v in value)
    ):
        raise BadModelPackage(MANIFEST, f"input.{key} must be a list of 3 numbers (R, G, B)")
    return tuple(float(v) for v in value)


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
