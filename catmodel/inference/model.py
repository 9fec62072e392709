"""The loaded model: one ONNX Runtime session per process, shared by every thread.

``InferenceSession.run`` is thread-safe, so a single ImageClassifier serves all request threads.
The steps follow KServe's model interface: decode + preprocess, predict, postprocess.
"""
from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime
from PIL import Image

from ..cpus import available_cpus
from .decode import DEFAULT_MAX_PIXELS, decode_image
from .decode_memory import DEFAULT_MAX_DECODE_BYTES, DecodeBudget, DecodeGate
from .errors import BadModelPackage, InferenceFailed
from .external_data import MalformedModel, external_data_tensors
from .package import MODEL_FILE, Manifest, verify_and_read_model
from .preprocess import preprocess_image
from .signatures import TrustedKey, verify_signature

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelScore:
    """One model label and its probability. (The answer about species that the site gives is
    ``classifier.answer.Prediction``; this is the model's raw view, one label at a time.)"""

    label: str
    index: int
    probability: float


@dataclass(frozen=True)
class Timings:
    """Milliseconds spent in each step of one classification."""

    decode_ms: float
    preprocess_ms: float
    inference_ms: float
    total_ms: float


@dataclass(frozen=True)
class Classification:
    model_name: str
    model_version: str
    labels: tuple[str, ...]  # the model's labels (an answer names the ones it was computed with)
    # Read-only, float64, one per label, indexed like the labels; sums to 1.
    probabilities: np.ndarray
    top: tuple[LabelScore, ...]  # the most probable labels, best first
    timings: Timings
    # The decoded photo (upright RGB, reduced near the model's size, not cropped) when the caller
    # asked to keep it: the identify page shows it without decoding the upload again.
    image: Image.Image | None = None


class ImageClassifier:
    def __init__(self, manifest: Manifest, session: onnxruntime.InferenceSession,
                 max_pixels: int = DEFAULT_MAX_PIXELS,
                 max_decode_bytes: int = DEFAULT_MAX_DECODE_BYTES,
                 decode_gate: DecodeGate | None = None):
        self.manifest = manifest
        self.session = session
        self.max_pixels = max_pixels
        self.max_decode_bytes = max_decode_bytes
        # One gate per classifier, so per process: the threads of a worker share it.
        self.decode_gate = decode_gate or DecodeGate()
        # The warm-up's answer, once warm_up() has run: ready only after it.
        self.warmed_up: Classification | None = None

    @property
    def name(self) -> str:
        return self.manifest.name

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def labels(self) -> tuple[str, ...]:
        return self.manifest.labels

    @property
    def ready(self) -> bool:
        """True once one warm-up inference has run (load_classifier runs it before returning)."""
        return self.warmed_up is not None

    @property
    def warm_up_ms(self) -> float | None:
        """Milliseconds of the warm-up inference; None before it has run."""
        return self.warmed_up.timings.total_ms if self.warmed_up is not None else None

    def warm_up(self) -> Classification:
        """One classification of a synthetic photo made in memory (a JPEG at the model's input
        size), through every step a visitor's photo takes: Pillow's JPEG decoder, the resize,
        ONNX Runtime's first run (its lazy initialisation and memory arena; 170 ms of a cold
        EfficientNet-Lite0 run against 15 ms warm on this project's machines) and the softmax.
        The first real photo then pays none of it. Raises InferenceFailed like classify."""
        result = self.classify(warm_up_photo(self.manifest.input.size))
        self.warmed_up = result
        return result

    def classify(self, data, top_k: int = 5, keep_image: bool = False) -> Classification:
        """Bytes or a binary file object -> label probabilities. Raises InvalidImage,
        UnsupportedFormat, TooManyPixels (the user's file), DecoderBusy (too many large photos
        at once) or InferenceFailed (ours). ``keep_image``: return the decoded photo too."""
        start = time.perf_counter()
        image = self.decode(data)
        decoded = time.perf_counter()
        batch = self.preprocess(image)
        preprocessed = time.perf_counter()
        logits = self.predict(batch)[0]
        predicted = time.perf_counter()
        probabilities, top = self.postprocess(logits, top_k)
        end = time.perf_counter()
        return Classification(
            model_name=self.name,
            model_version=self.version,
            labels=self.labels,
            probabilities=probabilities,
            top=top,
            timings=Timings(
                decode_ms=_ms(decoded - start),
                preprocess_ms=_ms(preprocessed - decoded),
                inference_ms=_ms(predicted - preprocessed),
                total_ms=_ms(end - start),
            ),
            image=image if keep_image else None,
        )

    def decode(self, data, budget: DecodeBudget | None = None) -> Image.Image:
        """``budget``: shared by photos whose decodes count together (see decode_image)."""
        # Decoding at the resize size (not the crop size) keeps the resize a true downscale.
        return decode_image(data, min_side=self.manifest.input.resize, max_pixels=self.max_pixels,
                            max_decode_bytes=self.max_decode_bytes, gate=self.decode_gate,
                            budget=budget)

    def preprocess(self, image: Image.Image) -> np.ndarray:
        return preprocess_image(image, self.manifest.input)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """(N, 3, size, size) float32 -> (N, labels) logits."""
        try:
            (logits,) = self.session.run(
                [self.manifest.output_name], {self.manifest.input.name: batch}
            )
        except Exception as exc:  # ONNX Runtime's own exception types are not a public API
            logger.exception("ONNX Runtime failed on a batch of shape %s", batch.shape)
            raise InferenceFailed() from exc
        if logits.shape != (batch.shape[0], len(self.labels)) or not np.all(np.isfinite(logits)):
            logger.error("The model returned logits of shape %s with non-finite values or "
                         "a shape other than (%d, %d)", logits.shape, batch.shape[0],
                         len(self.labels))
            raise InferenceFailed()
        return logits

    def postprocess(self, logits: np.ndarray, top_k: int = 5
                    ) -> tuple[np.ndarray, tuple[LabelScore, ...]]:
        probabilities = softmax(logits)
        probabilities.flags.writeable = False
        return probabilities, top_labels(probabilities, self.labels, top_k)


def top_labels(probabilities: np.ndarray, labels, top_k: int) -> tuple[LabelScore, ...]:
    """The ``top_k`` most probable labels, best first."""
    if top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    # A stable sort keeps equal probabilities in label order, so answers are reproducible.
    best = np.argsort(-probabilities, kind="stable")[:top_k]
    return tuple(
        LabelScore(label=labels[i], index=int(i), probability=float(probabilities[i]))
        for i in best
    )


def softmax(logits: np.ndarray) -> np.ndarray:
    """Probabilities from logits along the last axis (one row per image), in float64;
    subtracting the maximum keeps exp() finite."""
    logits = np.asarray(logits, dtype=np.float64)
    exponentials = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exponentials / exponentials.sum(axis=-1, keepdims=True)


def warm_up_photo(size: int) -> bytes:
    """A JPEG of ``size`` x ``size`` pixels, made in memory: a mid-grey with a gradient, so the
    decoder and the network see ordinary pixels."""
    ramp = np.linspace(64, 192, size, dtype=np.float32)
    pixels = np.stack(np.broadcast_arrays(ramp[np.newaxis, :], ramp[:, np.newaxis],
                                          np.full((size, size), 128.0)), axis=-1)
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8), "RGB").save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def load_classifier(package_dir, threads: int | None = None,
                    max_pixels: int = DEFAULT_MAX_PIXELS,
                    max_decode_bytes: int = DEFAULT_MAX_DECODE_BYTES,
                    decode_gate: DecodeGate | None = None,
                    trusted_keys: tuple[TrustedKey, ...] = (),
                    cgroup_root: Path | None = None) -> ImageClassifier:
    """Verify the package in ``package_dir``, load it into one CPU session and warm it up.

    ``threads``: ONNX Runtime's intra-op threads (None or 0: the CPUs this process may use, its
    container's CPU quota when it has one, read from ``cgroup_root``: catmodel/cpus.py; ONNX
    Runtime's own default, a thread per physical core of the node, ignores the quota).
    ``max_pixels``, ``max_decode_bytes`` and ``decode_gate``: the upload decoder's limits (see
    decode_image).
    ``trusted_keys``: when given, the package must be signed by one of them (signatures.py).
    Raises ModelUnavailable (no package there) or BadModelPackage (it fails a check;
    SignatureRefused for the signature).
    """
    # Resolved once (MODEL_DIR/current is a symlink that fetch_model flips): the manifest and
    # model are read once from there, and those very bytes are hashed, checked against the
    # signature and given to ONNX Runtime. Nothing is read through the symlink a second time.
    package_dir = Path(package_dir).resolve()
    manifest, held = verify_and_read_model(package_dir)
    if trusted_keys:
        verify_signature(package_dir, trusted_keys, held=held)
    model_bytes = held[MODEL_FILE]
    checked = refuse_external_data(model_bytes)
    session = _session(model_bytes, threads or available_cpus(cgroup_root))
    if not checked:
        # ONNX Runtime read what our scan could not: refuse rather than serve unchecked.
        raise BadModelPackage(MODEL_FILE, "could not be checked for external data (an ONNX "
                                          "encoding this app does not scan): re-export it")
    _check_signature(session, manifest)
    classifier = ImageClassifier(manifest, session, max_pixels=max_pixels,
                                 max_decode_bytes=max_decode_bytes, decode_gate=decode_gate)
    _warm_up(classifier)
    return classifier


def refuse_external_data(model_bytes: bytes) -> bool:
    """BadModelPackage when the ONNX model keeps tensor data in other files (external data can
    name any path on the host); packages are one self-contained model.onnx. False when the
    bytes could not be scanned (not a protobuf message we read): ONNX Runtime then says what is
    wrong, and a model it does load anyway is refused by the caller."""
    try:
        external = external_data_tensors(model_bytes)
    except MalformedModel:
        return False
    if external:
        raise BadModelPackage(
            MODEL_FILE, f"tensor {external[0]!r} keeps its data outside the file (ONNX external "
                        "data, which can name any file on the host): export the model as one "
                        "self-contained file")
    return True


def _session(model_bytes: bytes, threads: int) -> onnxruntime.InferenceSession:
    # ONNX Runtime's telemetry (it tries to persist a device id; the container log shows it
    # failing on the read-only file system): off, before any session exists.
    onnxruntime.disable_telemetry_events()
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    # Idle intra-op threads would otherwise spin on the cores the web workers need.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return onnxruntime.InferenceSession(
            model_bytes, sess_options=options, providers=["CPUExecutionProvider"]
        )
    # ONNX Runtime's own exception types are not a public API.
    except Exception as exc:  # noqa: BLE001
        raise BadModelPackage(MODEL_FILE, f"ONNX Runtime cannot load it: {exc}") from None


def _check_signature(session: onnxruntime.InferenceSession, manifest: Manifest) -> None:
    inputs, outputs = session.get_inputs(), session.get_outputs()
    spec = manifest.input
    if len(inputs) != 1 or inputs[0].name != spec.name:
        raise BadModelPackage(MODEL_FILE, f"inputs are {[i.name for i in inputs]}, the manifest "
                                          f"says one input named {spec.name!r}")
    if inputs[0].type != "tensor(float)":
        raise BadModelPackage(MODEL_FILE, f"input {spec.name!r} is {inputs[0].type}, "
                                          "expected tensor(float)")
    if not _shape_fits(inputs[0].shape, (None, 3, spec.size, spec.size)):
        raise BadModelPackage(MODEL_FILE, f"input shape {inputs[0].shape} does not fit "
                                          f"(N, 3, {spec.size}, {spec.size})")
    names = [o.name for o in outputs]
    if manifest.output_name not in names:
        raise BadModelPackage(MODEL_FILE, f"outputs are {names}, the manifest says "
                                          f"{manifest.output_name!r}")
    shape = outputs[names.index(manifest.output_name)].shape
    if not _shape_fits(shape, (None, len(manifest.labels))):
        raise BadModelPackage(MODEL_FILE, f"output shape {shape} does not fit "
                                          f"(N, {len(manifest.labels)}): the manifest has "
                                          f"{len(manifest.labels)} labels")


def _shape_fits(shape, expected) -> bool:
    """Symbolic (str) or unknown (None) dimensions fit anything."""
    return len(shape) == len(expected) and all(
        not isinstance(got, int) or want is None or got == want
        for got, want in zip(shape, expected, strict=True)
    )


def _warm_up(classifier: ImageClassifier) -> None:
    """The warm-up inference, at load time: it also catches output sizes the graph leaves
    symbolic, and non-finite answers."""
    try:
        classifier.warm_up()
    except InferenceFailed:
        raise BadModelPackage(
            MODEL_FILE, f"does not produce finite logits of shape (1, {len(classifier.labels)}) "
                        "on a test image"
        ) from None


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)
