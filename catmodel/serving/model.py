"""catsite's model as a KServe custom model (``kserve.Model``).

KServe's steps, as KServe's own transformers use them:
    preprocess   the request's photos (BYTES) -> decoded and preprocessed by catsite's own
                 decoder and limits (catmodel.inference) -> the network's FP32 input tensor;
                 a request that already sends that tensor is only checked
    predict      ONNX Runtime on the tensor -> softmax -> probabilities FP32 [N, labels],
                 with the labels as a BYTES output, the model's version in every answer, and
                 the milliseconds of each step in the answer's parameters (decode_ms,
                 preprocess_ms, inference_ms)
Every fault of the request is a 400 with the protocol's error body (``{"error": message}``,
plus the ``code`` of catsite's error vocabulary); only our own failures are 500.
"""
from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import numpy as np
from kserve import InferInput, InferOutput, InferRequest, InferResponse, Model
from kserve.errors import InferenceError, InvalidInput

from catmodel.cpus import available_cpus
from catmodel.inference import (
    ClassifierError,
    DecodeBudget,
    ImageClassifier,
    InferenceFailed,
    softmax,
    warm_up_photo,
)

from .tensors import IMAGES, LABELS, PROBABILITIES

# Photos or tensors in one request. Each photo is decoded on its own (one full-size decode per
# decoding thread), but a batch's preprocessed tensors (600 KB each) are held together. The
# photos' decodes together stay within what one photo may take (max_decode_bytes, the web
# side's IDENTIFY_DECODE_MEMORY_MB): 64 phone JPEGs (draft-decoded, under 1 MB each) fit, 64
# WebPs of 3000 x 3000 (144 MB each) do not.
MAX_BATCH = 64
# Images per ONNX Runtime run. Its activations grow with the batch, and its arena keeps what it
# once needed: one request of 64 small photos run at once took the service from 310 MB to
# 880 MB and kept it. Runs of 8 take under 100 MB, as fast per image on a CPU.
PREDICT_CHUNK = 8
# Where preprocess leaves its timings for predict, in the request it hands on.
_TIMINGS = "catsite.timings"


class BadRequest(InvalidInput):
    """A request the service refuses: 400, ``{"error": message, "code": code}``. The code is
    catsite's (``invalid_image``, ``unsupported_format``, ``too_many_pixels``, ``invalid_request``)
    so the web process answers its users as it would with the model in process."""

    def __init__(self, message: str, code: str = "invalid_request"):
        super().__init__(message)
        self.code = code


class CatsiteModel(Model):
    def __init__(self, classifier: ImageClassifier, decode_threads: int | None = None,
                 cgroup_root: Path | None = None):
        """``classifier``: a package loaded and verified by ``load_classifier``. At most
        ``decode_threads`` photos are decoded, and as many requests handled, at once (default:
        the CPUs this process may use, its container's quota read from ``cgroup_root``:
        catmodel/cpus.py); large decodes also wait for the classifier's DecodeGate. Not ready
        until ``load()`` has run its warm-up inference."""
        super().__init__(classifier.name)
        self.classifier = classifier
        self.version = classifier.version
        self.slots = slots = decode_threads or available_cpus(cgroup_root)
        self._decode_slots = asyncio.Semaphore(slots)
        # Requests between preprocess and the answer: each holds its tensors (600 KB an image)
        # and its runs (PREDICT_CHUNK images each); the others wait holding only their body.
        self._request_slots = asyncio.Semaphore(slots)
        spec = classifier.manifest.input
        if spec.name == IMAGES:
            raise ValueError(f"the network's input is named {IMAGES!r}, the name of the "
                             "service's photo input: rename it in the package")
        self._input_shape = (3, spec.size, spec.size)
        # The labels output is the same for every answer: encoded once.
        self._labels = np.array([label.encode() for label in classifier.labels], dtype=object)
        # KServe's flag, read by /v2/health/ready and /v2/models/<name>/ready: set by load().
        self.ready = False
        # The probabilities of the warm-up inference, once load() has run it.
        self.warmed_up: np.ndarray | None = None

    @property
    def threads(self) -> int:
        """Threads the service's event loop may hand work to: a decode per decode slot and a
        batch's ONNX Runtime run per request slot (KServe's own default counts the node's
        cores)."""
        return 2 * self.slots

    def load(self) -> bool:
        """One warm-up inference through the service's own steps (a synthetic photo made in
        memory, decoded, preprocessed and run as a batch), so the first request pays no cold
        start; ready only after it. Raises InferenceFailed when it fails."""
        photo = warm_up_photo(self.classifier.manifest.input.size)
        tensor = self._decode_and_preprocess(photo, {"decode_ms": 0.0, "preprocess_ms": 0.0},
                                             DecodeBudget(self.classifier.max_decode_bytes))
        self.warmed_up = softmax(self._predict_in_chunks(tensor)).astype(np.float32)
        self.ready = True
        return self.ready

    @property
    def tensor_input(self) -> str:
        return self.classifier.manifest.input.name

    def get_input_types(self) -> list[dict]:
        return [
            {"name": IMAGES, "datatype": "BYTES", "shape": [-1]},
            {"name": self.tensor_input, "datatype": "FP32", "shape": [-1, *self._input_shape]},
        ]

    def get_output_types(self) -> list[dict]:
        return [
            {"name": PROBABILITIES, "datatype": "FP32", "shape": [-1, len(self._labels)]},
            {"name": LABELS, "datatype": "BYTES", "shape": [len(self._labels)]},
        ]

    async def __call__(self, body, headers=None, *args, **kwargs):
        async with self._request_slots:
            return await super().__call__(body, headers, *args, **kwargs)

    async def preprocess(self, payload, headers=None) -> InferRequest:
        """The request -> a request holding only the network's input tensor."""
        if not isinstance(payload, InferRequest):
            raise BadRequest("Send an Open Inference Protocol v2 request to "
                             f"/v2/models/{self.name}/infer.")
        if len(payload.inputs) != 1 or payload.inputs[0].name not in (IMAGES, self.tensor_input):
            names = [tensor.name for tensor in payload.inputs]
            raise BadRequest(f"Send one input, {IMAGES!r} (BYTES, encoded photos) or "
                             f"{self.tensor_input!r} (FP32 {list(self._input_shape)} per "
                             f"image); got {names}.")
        tensor = payload.inputs[0]
        timings = {"decode_ms": 0.0, "preprocess_ms": 0.0}
        if tensor.name == IMAGES:
            batch = await self._photos_to_tensor(tensor, timings)
        else:
            batch = self._checked_tensor(tensor)
        return InferRequest(
            model_name=self.name, request_id=payload.id or str(uuid.uuid4()),
            infer_inputs=[InferInput(self.tensor_input, list(batch.shape), "FP32", data=batch)],
            request_outputs=payload.request_outputs,
            # The client's parameters (binary_data_output, ...) and, for predict, the timings.
            parameters={**(payload.parameters or {}), _TIMINGS: timings},
        )

    async def predict(self, payload: InferRequest, headers=None) -> InferResponse:
        batch = payload.inputs[0].data
        started = time.perf_counter()
        try:
            # In a thread: the event loop keeps answering health checks during a batch.
            logits = await asyncio.to_thread(self._predict_in_chunks, batch)
        except InferenceFailed as error:
            raise InferenceError(error.message) from error
        timings = {**payload.parameters[_TIMINGS],
                   "inference_ms": _ms(time.perf_counter() - started)}
        probabilities = softmax(logits).astype(np.float32)
        outputs = [
            InferOutput(PROBABILITIES, list(probabilities.shape), "FP32", data=probabilities),
            InferOutput(LABELS, [len(self._labels)], "BYTES", data=self._labels),
        ]
        return InferResponse(
            response_id=payload.id, model_name=self.name, model_version=self.version,
            infer_outputs=outputs, requested_outputs=payload.request_outputs,
            use_binary_outputs=payload.use_binary_outputs,
            # The answer's parameters: milliseconds spent in each step, as the site reports them.
            parameters=timings,
        )

    def _predict_in_chunks(self, batch: np.ndarray) -> np.ndarray:
        return np.concatenate([self.classifier.predict(batch[start:start + PREDICT_CHUNK])
                               for start in range(0, len(batch), PREDICT_CHUNK)])

    async def _photos_to_tensor(self, tensor: InferInput, timings: dict) -> np.ndarray:
        if tensor.datatype != "BYTES":
            raise BadRequest(f"Input {IMAGES!r} must be BYTES (encoded photos), "
                             f"not {tensor.datatype}.")
        try:
            photos = tensor.as_numpy().reshape(-1)
        except (ValueError, TypeError, InvalidInput) as exc:
            raise BadRequest(f"Input {IMAGES!r} does not match its shape {tensor.shape}: "
                             f"{exc}") from None
        _check_batch(len(photos))
        # One budget for the request's decodes; the first refusal ends the request: photos
        # still waiting for a slot are skipped, the ones decoding finish (a thread cannot be
        # stopped), so a refused request never holds a slot it does not use.
        budget = DecodeBudget(self.classifier.max_decode_bytes)
        refusals: list[Exception] = []
        batch = await asyncio.gather(*(
            self._photo_to_tensor(photo, index if len(photos) > 1 else None, timings, budget,
                                  refusals)
            for index, photo in enumerate(photos)), return_exceptions=True)
        if refusals:
            raise refusals[0]
        tensors: list[np.ndarray] = []
        for result in batch:
            if isinstance(result, BaseException):
                raise result
            assert result is not None  # a photo is skipped only after a refusal, raised above
            tensors.append(result)
        return np.concatenate(tensors)

    async def _photo_to_tensor(self, photo, index: int | None, timings: dict,
                               budget: DecodeBudget,
                               refusals: list[Exception]) -> np.ndarray | None:
        if isinstance(photo, str):  # JSON carries BYTES elements as text
            photo = photo.encode()
        async with self._decode_slots:
            if refusals:
                return None
            try:
                return await asyncio.to_thread(self._decode_and_preprocess, photo, timings,
                                               budget)
            except ClassifierError as error:
                where = "" if index is None else f"{IMAGES}[{index}]: "
                refusals.append(error if error.status >= 500
                                else BadRequest(where + error.message, code=error.code))
                return None

    def _decode_and_preprocess(self, photo: bytes, timings: dict,
                               budget: DecodeBudget) -> np.ndarray:
        """One photo -> its (1, 3, size, size) tensor; adds the time spent to ``timings``."""
        started = time.perf_counter()
        image = self.classifier.decode(photo, budget=budget)
        decoded = time.perf_counter()
        tensor = self.classifier.preprocess(image)
        timings["decode_ms"] += _ms(decoded - started)
        timings["preprocess_ms"] += _ms(time.perf_counter() - decoded)
        return tensor

    def _checked_tensor(self, tensor: InferInput) -> np.ndarray:
        name = self.tensor_input
        if tensor.datatype != "FP32":
            raise BadRequest(f"Input {name!r} must be FP32, not {tensor.datatype}.")
        shape = tuple(tensor.shape)
        if len(shape) != 4 or shape[1:] != self._input_shape:
            raise BadRequest(f"Input {name!r} must have the shape [N, "
                             f"{', '.join(map(str, self._input_shape))}], not {list(shape)}.")
        _check_batch(shape[0])
        try:
            batch = np.ascontiguousarray(tensor.as_numpy(), dtype=np.float32)
        except (ValueError, TypeError, InvalidInput) as exc:
            raise BadRequest(f"Input {name!r} does not hold {list(shape)} numbers: "
                             f"{exc}") from None
        if not np.all(np.isfinite(batch)):
            raise BadRequest(f"Input {name!r} holds NaN or infinite values.")
        return batch


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)


def _check_batch(size: int) -> None:
    if not 1 <= size <= MAX_BATCH:
        raise BadRequest(f"Send between 1 and {MAX_BATCH} images in one request, not {size}.")
