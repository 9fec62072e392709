"""The web process's client of the model service (``INFERENCE_URL``): the standard library only.

    classifier = RemoteClassifier(InferenceClient(url, model_name, timeout, retries))
    classifier.classify(upload)   # a Classification, as ImageClassifier.classify gives

One request a photo: ``POST {url}/v2/models/{name}/infer`` with the photo as a BYTES tensor in
the binary data extension; the answer carries the probabilities, the labels (so each answer
is consistent on its own, even while the service rolls to another version) and the version.

Failures, in catsite's error vocabulary:
- the service refuses the photo (400/413): the same error the local decoder would raise;
- refused connection, reset, 502/503/504: retried ``retries`` times after a short pause (a
  pod restarting, a rolling update), then ModelServiceUnavailable (503 with Retry-After);
- no answer within ``timeout`` seconds: ModelServiceUnavailable at once (a slow service is not
  asked again: that would double the wait);
- anything else the service answers (404, 500, a malformed answer): ModelServiceUnavailable, logged.
"""
from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

import numpy as np

from catmodel.inference import (
    Classification,
    FileTooLarge,
    InvalidImage,
    ModelUnavailable,
    Timings,
    TooManyPixels,
    UnsupportedFormat,
    top_labels,
)

from .tensors import HEADER_LENGTH, IMAGES, LABELS, PROBABILITIES, encode_bytes_tensor

logger = logging.getLogger(__name__)

_RETRIED_STATUSES = {502, 503, 504}
# The service is inside the cluster: never through an HTTP(S)_PROXY of the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_RETRY_PAUSE_SECONDS = 0.2


class ModelServiceUnavailable(ModelUnavailable):
    """The model service did not answer, or not usefully: identification is down for now."""

    retry_after = 30

    def __init__(self, message: str | None = None):
        super().__init__(message or "Photo identification is not available right now. "
                                    f"Please try again in {self.retry_after} seconds.")

    @property
    def headers(self) -> dict:
        return {"Retry-After": str(self.retry_after)}


@dataclass(frozen=True)
class Answer:
    model_name: str
    model_version: str
    labels: tuple[str, ...]
    probabilities: np.ndarray  # float64, one per label
    timings: dict  # the service's milliseconds: decode_ms, preprocess_ms, inference_ms


class InferenceClient:
    def __init__(self, url: str, model_name: str, timeout: float = 10.0, retries: int = 1):
        self.base_url = url.rstrip("/")
        self.model_name = model_name
        self.timeout = timeout
        self.retries = retries

    @property
    def model_url(self) -> str:
        return f"{self.base_url}/v2/models/{self.model_name}"

    def infer_photo(self, photo: bytes) -> Answer:
        """The service's probabilities for one encoded photo."""
        status, body = self._request(f"{self.model_url}/infer", *infer_request([photo]))
        if status in (400, 413) and (refusal := _refusal(status, body)):
            raise refusal
        if status != 200:
            raise self._unexpected(status, body)
        try:
            return _parse_answer(json.loads(body))
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            logger.error("The model service at %s sent an answer we cannot read: %s",
                         self.base_url, exc)
            raise ModelServiceUnavailable() from None

    def metadata(self, timeout: float | None = None) -> dict:
        """The model's metadata (name, versions, ...), ready or not; ModelServiceUnavailable when
        the service does not answer. One attempt: callers (probes) ask again anyway."""
        status, body = self._request(self.model_url, None, {}, timeout=timeout, retries=0)
        if status != 200:
            raise self._unexpected(status, body)
        try:
            return json.loads(body)
        except ValueError:
            raise ModelServiceUnavailable() from None

    def ready(self, timeout: float | None = None) -> bool:
        try:
            status, _ = self._request(f"{self.model_url}/ready", None, {}, timeout=timeout,
                                      retries=0)
        except ModelServiceUnavailable:
            return False
        return status == 200

    def _request(self, url, data, headers, timeout=None, retries=None) -> tuple[int, bytes]:
        """(status, body) of one exchange, retried after a refused connection or a 502-504."""
        timeout = self.timeout if timeout is None else timeout
        attempts = 1 + (self.retries if retries is None else retries)
        for attempt in range(1, attempts + 1):
            request = urllib.request.Request(url, data=data, headers=headers,
                                             method="POST" if data is not None else "GET")
            try:
                with _OPENER.open(request, timeout=timeout) as answer:
                    return answer.status, answer.read()
            except urllib.error.HTTPError as error:
                if error.code not in _RETRIED_STATUSES or attempt == attempts:
                    return error.code, error.read()
                reason = f"answered {error.code}"
            except (OSError, http.client.HTTPException) as error:  # URLError is an OSError
                cause = getattr(error, "reason", error)
                if isinstance(cause, TimeoutError):
                    logger.warning("The model service at %s did not answer within %g s",
                                   self.base_url, timeout)
                    raise ModelServiceUnavailable() from None
                reason = f"could not be reached ({cause})"
                if attempt == attempts:
                    logger.warning("The model service at %s %s", self.base_url, reason)
                    raise ModelServiceUnavailable() from None
            logger.info("The model service at %s %s; retrying", self.base_url, reason)
            time.sleep(_RETRY_PAUSE_SECONDS * attempt)
        raise AssertionError("unreachable")

    def _unexpected(self, status: int, body: bytes) -> ModelServiceUnavailable:
        logger.error("The model service at %s answered %d: %s", self.base_url, status,
                     body[:300].decode("utf-8", "replace"))
        return ModelServiceUnavailable()


def infer_request(photos: list[bytes]) -> tuple[bytes, dict]:
    """The body and headers of an infer request for encoded photos: their BYTES tensor in the
    binary data extension, after the JSON header."""
    raw = encode_bytes_tensor(photos)
    head = json.dumps({
        "inputs": [{"name": IMAGES, "shape": [len(photos)], "datatype": "BYTES",
                    "parameters": {"binary_data_size": len(raw)}}],
        "outputs": [{"name": PROBABILITIES}, {"name": LABELS}],
    }).encode()
    return head + raw, {"Content-Type": "application/octet-stream", HEADER_LENGTH: str(len(head))}


class RemoteClassifier:
    """The model service behind the interface the web side uses for the local ImageClassifier
    (name, version, ready, classify). It loads no model: each ``classify`` is one request, and
    its Classification names the labels and the version that answered it."""

    # /readyz, /version and the identify page ask for the status; the service is asked at most
    # this often, and never with more than STATUS_TIMEOUT seconds of waiting.
    STATUS_SECONDS = 5.0
    STATUS_TIMEOUT = 2.0

    def __init__(self, client: InferenceClient):
        self.client = client
        self._status: tuple[float, dict] | None = None

    @property
    def name(self) -> str:
        return self.client.model_name

    @property
    def version(self) -> str | None:
        return self.status().get("version")

    @property
    def ready(self) -> bool:
        return self.status()["loaded"]

    def classify(self, data, top_k: int = 5) -> Classification:
        """Bytes or a binary file object -> the service's label probabilities. Raises the
        decoder's errors for a photo the service refuses, ModelServiceUnavailable when it does
        not answer."""
        if hasattr(data, "read"):
            data.seek(0)
            data = data.read()
        started = time.perf_counter()
        answer = self.client.infer_photo(bytes(data))
        total_ms = (time.perf_counter() - started) * 1000.0
        probabilities = answer.probabilities
        probabilities.flags.writeable = False
        service = answer.timings
        return Classification(
            model_name=answer.model_name, model_version=answer.model_version,
            labels=answer.labels, probabilities=probabilities,
            top=top_labels(probabilities, answer.labels, top_k),
            # The service's own steps; the total includes the trip to it and back.
            timings=Timings(decode_ms=float(service.get("decode_ms", 0.0)),
                            preprocess_ms=float(service.get("preprocess_ms", 0.0)),
                            inference_ms=float(service.get("inference_ms", 0.0)),
                            total_ms=round(total_ms, 3)),
        )

    def status(self) -> dict:
        """{"loaded": bool, "name", "version"} or {"loaded": False, "error"}, from the service's
        metadata and readiness; asked again after STATUS_SECONDS."""
        now = time.monotonic()
        if self._status and now - self._status[0] < self.STATUS_SECONDS:
            return self._status[1]
        timeout = min(self.client.timeout, self.STATUS_TIMEOUT)
        try:
            metadata = self.client.metadata(timeout=timeout)
            ready = self.client.ready(timeout=timeout)
        except ModelServiceUnavailable:
            status = {"loaded": False, "name": self.name,
                      "error": "the model service does not answer"}
        else:
            versions = metadata.get("versions") or [None]
            status = {"loaded": ready, "name": metadata.get("name", self.name),
                      "version": versions[0]}
            if not ready:
                status["error"] = "the model service is not ready"
        self._status = (now, status)
        return status


def _refusal(status: int, body: bytes) -> Exception | None:
    """The service's 400/413 about the photo -> the error the local decoder would raise for it;
    None for a refusal of our request itself (a protocol mismatch, not the user's photo)."""
    if status == 413:
        return FileTooLarge()
    try:
        error = json.loads(body)
        message, code = error["error"], error.get("code")
    except (ValueError, KeyError, TypeError):
        return None
    if code == "invalid_image":
        return InvalidImage(message)
    if code == "unsupported_format":
        return UnsupportedFormat(message=message)
    if code == "too_many_pixels":
        refusal = TooManyPixels()
        refusal.message = message
        return refusal
    return None


def _parse_answer(answer: dict) -> Answer:
    outputs = {output["name"]: output for output in answer["outputs"]}
    labels = tuple(outputs[LABELS]["data"])
    probabilities = np.asarray(outputs[PROBABILITIES]["data"], dtype=np.float64)
    if probabilities.shape != (len(labels),):
        probabilities = probabilities.reshape(-1)
    if probabilities.shape != (len(labels),) or not np.all(np.isfinite(probabilities)):
        raise ValueError(f"{probabilities.size} probabilities for {len(labels)} labels")
    return Answer(model_name=answer["model_name"], model_version=answer["model_version"],
                  labels=labels, probabilities=probabilities,
                  timings=answer.get("parameters") or {})
