"""An int8 model package from a float32 one: ``build_model --quantize int8`` (opt-in).

ONNX Runtime's static quantization in the QDQ format: every Conv and the classifier's Gemm get
int8 weights (per output channel) and uint8 activations, whose ranges are calibrated (min-max)
on photos scikit-image ships; the graph holds only standard ONNX operators (QuantizeLinear,
DequantizeLinear) and keeps the float32 input and logits output, so the package format, the
loader and the service are unchanged, and ONNX Runtime runs the int8 kernels (VNNI on CPUs that
have it). A built package is quantized as it is (``quantize_package``, the build cache's way)
or as the last step of a build (``build_quantized_package``, ``build_model --quantize int8``).

The calibration photos are none of the photos the build's sanity checks or the test datasets
use (chelsea, coffee, rocket, astronaut, ihc, the left motorcycle): what the package is judged
on is not what it was calibrated on. The quantized package is checked against the float32 one
on the sample photos (same top-1, the sanity predictions still hold) and the comparison goes in
``checks.quantization``; whether it may replace a float32 package is the champion gate's call
(``publish_model --alias champion --evaluate``), as for any other candidate.
"""
from __future__ import annotations

import io
import json
import logging
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image

from catmodel.inference import InputSpec, preprocess_image
from catmodel.inference.package import MANIFEST, MODEL_FILE, verify

from . import verification
from .build import BuildResult, created_at, file_entry, staged_build, write_manifest
from .build import build_package as build_float32_package
from .errors import BuildCheckFailed, ModelBuildError
from .samples import sample_photos

INT8 = "int8"
QUANTIZATIONS = (INT8,)
SCHEME = ("onnxruntime static quantization, QDQ format, int8 weights per channel, uint8 "
          "activations, min-max calibration")
# (scikit-image photo, crops of it): the calibration set, disjoint from every photo the checks
# and the test datasets use. Greyscale ones are repeated on the three channels.
CALIBRATION_PHOTOS = (("motorcycle_right", 3), ("hubble_deep_field", 3), ("retina", 3),
                      ("camera", 3), ("coins", 3), ("grass", 3), ("gravel", 3), ("brick", 3),
                      ("moon", 3), ("page", 3), ("cell", 3), ("horse", 3))
CALIBRATION_SEED = 900
# The quantized model must name the same top-1 class as the float32 one on the sample photos;
# its logits may move this much (measured about 1.5 on logits of -10..20).
MAX_LOGIT_DIFF = 4.0

Reporter = Callable[[str], None]


def _photo(name: str) -> Image.Image:
    from skimage import data

    pixels = data.stereo_motorcycle()[1] if name == "motorcycle_right" else getattr(data, name)()
    return Image.fromarray(pixels).convert("RGB")


def _crops(image: Image.Image, count: int, rng: np.random.Generator) -> Iterator[Image.Image]:
    """Random crops (50-100 % of each side), as JPEGs decode: what uploads look like."""
    for _ in range(count):
        fraction = rng.uniform(0.5, 1.0)
        width, height = round(image.width * fraction), round(image.height * fraction)
        left = int(rng.integers(0, image.width - width + 1))
        top = int(rng.integers(0, image.height - height + 1))
        buffer = io.BytesIO()
        image.crop((left, top, left + width, top + height)).save(buffer, "JPEG", quality=90)
        yield Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def calibration_batches(input_spec: dict) -> list[np.ndarray]:
    """The calibration inputs, (1, 3, size, size) each, through the app's own preprocessing."""
    spec = InputSpec.from_dict(input_spec)
    rng = np.random.default_rng(CALIBRATION_SEED)
    return [preprocess_image(crop, spec)
            for name, count in CALIBRATION_PHOTOS for crop in _crops(_photo(name), count, rng)]


def quantize_onnx(source: Path, target: Path, input_spec: dict) -> None:
    """Write the int8 (QDQ) quantization of the float32 ONNX model ``source`` to ``target``."""
    from onnxruntime.quantization import CalibrationDataReader

    batches = calibration_batches(input_spec)

    class Photos(CalibrationDataReader):
        def __init__(self):
            self._batches = iter(batches)

        def get_next(self):
            batch = next(self._batches, None)
            return None if batch is None else {input_spec["name"]: batch}

    root = logging.getLogger()
    level = root.level
    # ONNX Runtime's quantizer logs a line per tensor on the root logger (INFO): kept quiet.
    root.setLevel(max(level, logging.WARNING))
    try:
        with tempfile.TemporaryDirectory(prefix="catsite-quantize-") as scratch:
            _quantize(source, Path(scratch) / "prepared.onnx", target, Photos())
    finally:
        root.setLevel(level)


def _quantize(source: Path, prepared: Path, target: Path, photos) -> None:
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    # Shape inference and ONNX Runtime's basic folding, as ONNX Runtime recommends first.
    quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)
    quantize_static(str(prepared), str(target), photos, quant_format=QuantFormat.QDQ,
                    per_channel=True, activation_type=QuantType.QUInt8,
                    weight_type=QuantType.QInt8, calibrate_method=CalibrationMethod.MinMax)


def quantization_report(float_session, int8_session, input_spec: dict, labels: list[str]
                        ) -> tuple[dict, list[dict]]:
    """The int8 model against the float32 one on the sample photos and random images, and the
    sanity predictions of the int8 model; BuildCheckFailed when top-1 moves on a sample photo
    or the logits move more than MAX_LOGIT_DIFF."""
    photos = sample_photos()
    real = np.concatenate([preprocess_image(Image.fromarray(rgb).convert("RGB"),
                                            InputSpec.from_dict(input_spec))
                           for rgb in photos.values()])
    random = verification.random_images(verification.RANDOM_IMAGES, input_spec)
    name = input_spec["name"]
    float_real, float_random, int8_real, int8_random = (
        session.run(None, {name: batch})[0]
        for session, batch in ((float_session, real), (float_session, random),
                               (int8_session, real), (int8_session, random)))
    compared = verification.compare_logits(float_real, int8_real)
    report = {"scheme": SCHEME, "reference": "the float32 model this package was quantized from",
              "calibration": {"photos": [f"skimage.data.{n}" for n, _ in CALIBRATION_PHOTOS],
                              "crops": sum(count for _, count in CALIBRATION_PHOTOS),
                              "seed": CALIBRATION_SEED},
              "tolerance": MAX_LOGIT_DIFF, "real": compared,
              # Random pixels sit far from any photo: reported, not judged.
              "random": verification.compare_logits(float_random, int8_random)}
    if compared["top1_agreement"] < 1.0 or compared["max_abs_diff"] > MAX_LOGIT_DIFF:
        raise BuildCheckFailed(
            f"quantization check failed: on the sample photos the int8 model's logits differ "
            f"from the float32 model's by up to {compared['max_abs_diff']:.3g} (tolerance "
            f"{MAX_LOGIT_DIFF:g}), top-1 agreement {compared['top1_agreement']:.0%}; build "
            "without --quantize")
    sanity = verification.sanity_report(dict(zip(photos, int8_real, strict=True)), labels)
    return report, sanity


def quantize_into(staging: Path, document: dict, report: Reporter) -> dict:
    """Quantize ``staging/model.onnx`` (the float32 model of the manifest ``document``) in
    place; returns the manifest document of the int8 package (files, checks and framework
    updated; the float32 model's parity with PyTorch stays in ``checks.parity``)."""
    import onnx
    import onnxruntime as ort

    model_path = staging / MODEL_FILE
    report(f"Quantizing to int8 (calibration: {sum(c for _, c in CALIBRATION_PHOTOS)} crops "
           "of scikit-image photos)")
    with tempfile.TemporaryDirectory(prefix="catsite-int8-") as scratch:
        quantized = Path(scratch) / MODEL_FILE
        quantize_onnx(model_path, quantized, document["input"])
        model = onnx.load(str(quantized))
        onnx.checker.check_model(model, full_check=True)
        report("Checking the int8 model against the float32 one on real photos")
        float_session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
        int8_session = ort.InferenceSession(str(quantized), providers=["CPUExecutionProvider"])
        checks, sanity = quantization_report(float_session, int8_session, document["input"],
                                             document["labels"])
        quantized.replace(model_path)
    return {**document,
            "framework": {**document["framework"], "quantization": INT8},
            "files": {MODEL_FILE: file_entry(model_path)},
            "checks": {**document["checks"], "sanity": sanity, "quantization": checks}}


def build_quantized_package(out_dir: Path, version: str, quantize: str, force: bool = False,
                            report: Reporter | None = None) -> BuildResult:
    """``build_model --quantize int8``: the float32 package built and checked as always, then
    quantized before anything is moved into ``out_dir``."""
    if quantize not in QUANTIZATIONS:
        raise ModelBuildError(f"unknown quantization {quantize!r}: use one of "
                              f"{', '.join(QUANTIZATIONS)}, or none for float32")
    report = report or (lambda message: None)
    return build_float32_package(out_dir, version, force, report,
                                 finish=lambda staging, document: quantize_into(
                                     staging, document, report))


def quantize_package(source_dir: Path, out_dir: Path, version: str, force: bool = False,
                     report: Reporter | None = None) -> BuildResult:
    """An int8 package in ``out_dir`` from the float32 package in ``source_dir`` (verified
    first). The build cache's int8 entry is made this way, from its float32 entry."""
    report = report or (lambda message: None)
    source = verify(source_dir)
    if source.raw.get("framework", {}).get("quantization"):
        raise ModelBuildError(f"{source_dir} is already quantized "
                              f"({source.raw['framework']['quantization']})")

    def write(staging: Path):
        (staging / MODEL_FILE).write_bytes((Path(source_dir) / MODEL_FILE).read_bytes())
        document = json.loads((Path(source_dir) / MANIFEST).read_text())
        document = quantize_into(staging, {**document, "version": version,
                                           "created_at": created_at()}, report)
        return write_manifest(staging, document)

    return staged_build(out_dir, version, force, write)
