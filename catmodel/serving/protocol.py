"""Where catsite's service adds to KServe's Open Inference Protocol v2 data plane.

- Binary request bodies (the binary data extension, what tritonclient sends by default) are
  parsed here, keeping BYTES elements as bytes: KServe 0.21 turns every binary input back into
  JSON text, and JPEG bytes are not UTF-8, so it would answer 500 to every photo.
- Model metadata names the version (the protocol's optional ``versions``).
- Requests the web framework refuses before our code runs (malformed JSON, a body that fails
  validation, an unknown route) answer in the protocol's error shape, ``{"error": message}``,
  with 400 rather than FastAPI's 422 ``{"detail": ...}``.
"""
from __future__ import annotations

import json

import numpy as np
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from kserve import InferInput, InferRequest
from kserve.constants.constants import INFERENCE_CONTENT_LENGTH_HEADER
from kserve.protocol.dataplane import DataPlane
from kserve.protocol.infer_type import RequestedOutput
from kserve.utils.numpy_codec import to_np_dtype
from starlette.exceptions import HTTPException

from .model import BadRequest
from .tensors import decode_bytes_tensor


class CatsiteDataPlane(DataPlane):
    def decode_inference_request(self, body, headers, model_name) -> InferRequest:
        if isinstance(body, bytes):
            return request_from_binary(body, headers.get(INFERENCE_CONTENT_LENGTH_HEADER),
                                       model_name)
        return super().decode_inference_request(body, headers, model_name)

    async def model_metadata(self, model_name: str) -> dict:
        metadata = await super().model_metadata(model_name)
        version = getattr(self.get_model_from_registry(model_name), "version", None)
        if version:
            metadata["versions"] = [version]
        return metadata


def request_from_binary(body: bytes, header_length, model_name: str) -> InferRequest:
    """A body the web framework left as bytes (the binary data extension, or JSON sent without
    a JSON Content-Type) -> an InferRequest whose inputs hold numpy arrays."""
    if header_length is None:
        # Without the header the whole body is JSON (a client that sent no Content-Type).
        header_length = len(body)
    try:
        json_length = int(header_length)
    except ValueError:
        raise BadRequest(f"{INFERENCE_CONTENT_LENGTH_HEADER} must be the length of the "
                         "request's JSON part in bytes.") from None
    if not 0 < json_length <= len(body):
        raise BadRequest(f"{INFERENCE_CONTENT_LENGTH_HEADER} is {json_length}, the body has "
                         f"{len(body)} bytes.")
    try:
        header = json.loads(body[:json_length])
        specs = header["inputs"]
        if not isinstance(specs, list):
            raise TypeError("inputs is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise BadRequest(
            f"The JSON part of the request is not an inference request: {exc}") from None
    offset, inputs = json_length, []
    for spec in specs:
        tensor, offset = _input_from_binary(spec, body, offset)
        inputs.append(tensor)
    if offset != len(body):
        raise BadRequest(f"{len(body) - offset} bytes follow the last input's binary data.")
    outputs = header.get("outputs")
    try:
        requested = [RequestedOutput(name=o["name"], parameters=o.get("parameters"))
                     for o in outputs] if outputs else None
    except (KeyError, TypeError):
        raise BadRequest("Each requested output needs a name.") from None
    return InferRequest(model_name=model_name, infer_inputs=inputs, request_id=header.get("id"),
                        parameters=header.get("parameters"), request_outputs=requested)


def _input_from_binary(spec, body: bytes, offset: int) -> tuple[InferInput, int]:
    try:
        name, shape, datatype = spec["name"], list(spec["shape"]), spec["datatype"]
        size = (spec.get("parameters") or {}).get("binary_data_size")
        if not (isinstance(name, str) and all(isinstance(d, int) and d >= 0 for d in shape)):
            raise TypeError("bad name or shape")
    except (KeyError, TypeError, AttributeError):
        raise BadRequest("Each input needs a name, a shape of non-negative integers and a "
                         "datatype.") from None
    dtype = to_np_dtype(datatype)
    if dtype is None:
        raise BadRequest(f"Input {name!r} has an unknown datatype {datatype!r}.")
    if size is None:
        if "data" not in spec:
            raise BadRequest(f"Input {name!r} has neither data nor binary_data_size.")
        return InferInput(name, shape, datatype, data=spec["data"]), offset
    if not isinstance(size, int) or size < 0 or offset + size > len(body):
        raise BadRequest(f"Input {name!r}: binary_data_size {size!r} does not fit the "
                         f"{len(body) - offset} bytes left in the body.")
    chunk = body[offset:offset + size]
    try:
        if datatype == "BYTES":
            data = np.array(decode_bytes_tensor(chunk) or [], dtype=object)
        else:
            data = np.frombuffer(chunk, dtype=np.dtype(dtype).newbyteorder("<"))
    except ValueError as exc:
        raise BadRequest(f"Input {name!r}: {exc}.") from None
    return InferInput(name, shape, datatype, data=data), offset + size


async def bad_request_handler(_request, error: BadRequest) -> JSONResponse:
    return JSONResponse({"error": str(error), "code": error.code}, status_code=400)


async def validation_error_handler(_request, error: RequestValidationError) -> JSONResponse:
    problems = "; ".join(
        f"{'.'.join(str(part) for part in problem.get('loc', ()))}: {problem.get('msg')}"
        for problem in error.errors()[:5]
    )
    return JSONResponse({"error": f"The request is not a valid inference request: {problems}",
                         "code": "invalid_request"}, status_code=400)


async def http_error_handler(_request, error: HTTPException) -> JSONResponse:
    return JSONResponse({"error": str(error.detail)}, status_code=error.status_code,
                        headers=getattr(error, "headers", None))


EXCEPTION_HANDLERS = {
    BadRequest: bad_request_handler,
    RequestValidationError: validation_error_handler,
    HTTPException: http_error_handler,
}
