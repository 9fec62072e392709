"""Bounds on the JSON of a request to the model service, checked on its bytes before anything
parses it.

Parsed JSON costs many times its size: 18 MB of tensor numbers took the service from 320 MB to
805 MB, 20 MB of ``{},`` to 952 MB (a Python object per value, then FastAPI's and pydantic's
copies), and deep nesting ends in a RecursionError. Photos travel in the binary data extension
(the web side's client and tritonclient send them so), where only the small JSON header is
parsed; JSON tensors are for a few images at most. So, before parsing:
- the JSON part is at most MAX_JSON_BYTES (413 beyond);
- it nests at most MAX_JSON_DEPTH arrays and objects (a request needs 8: the envelope and an
  [N, 3, H, W] tensor);
- it holds at most MAX_JSON_VALUES values (two 224 x 224 RGB images are 301,056 numbers).
Brackets and commas inside strings are not counted (strings are blanked first). Written here
because the JSON parsers at hand (json, orjson, pydantic) offer no such limits.
"""
from __future__ import annotations

import re

import numpy as np

MAX_JSON_BYTES = 8 * 1024 * 1024
MAX_JSON_DEPTH = 16
MAX_JSON_VALUES = 400_000

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_OPEN, _CLOSE = (ord("["), ord("{")), (ord("]"), ord("}"))
_COMMA = ord(",")
_CHUNK = 1024 * 1024
_BINARY_HEADER = b"inference-header-content-length"


class JsonRefused(Exception):
    """JSON over one of the bounds: ``status`` 413 (bytes) or 400 (depth, values)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def json_part(body: bytes, headers: dict[bytes, bytes]) -> bytes:
    """The bytes of a request that will be parsed as JSON: the first
    Inference-Header-Content-Length bytes of a binary request, else the whole body. FastAPI
    parses a body with a JSON Content-Type whole; one without a Content-Type it leaves as bytes
    (``strict_content_type``, its default) for our binary parser, which reads the header's
    length of JSON, or the whole body without the header."""
    content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
    is_json = content_type.endswith((b"/json", b"+json"))
    length = headers.get(_BINARY_HEADER, b"").strip()
    if not is_json and length.isdigit():
        return body[:int(length)]
    return body


def check_json(raw: bytes) -> None:
    """Raise JsonRefused when ``raw`` is over a bound; it need not be valid JSON (the parser
    says what else is wrong)."""
    if len(raw) > MAX_JSON_BYTES:
        raise JsonRefused(413, f"The JSON part of the request is larger than the "
                               f"{MAX_JSON_BYTES // 2**20} MB accepted. Send tensors and photos "
                               "in the binary data extension.")
    depth, values = _depth_and_values(_STRING.sub(b'""', raw))
    if depth > MAX_JSON_DEPTH:
        raise JsonRefused(400, f"The request's JSON nests {depth} levels deep, more than the "
                               f"{MAX_JSON_DEPTH} accepted.")
    if values > MAX_JSON_VALUES:
        raise JsonRefused(400, f"The request's JSON holds about {values} values, more than the "
                               f"{MAX_JSON_VALUES} accepted. Send tensors and photos in the "
                               "binary data extension.")


def _depth_and_values(bare: bytes) -> tuple[int, int]:
    """The deepest nesting and (an upper bound of) the number of values of JSON without
    strings, a chunk at a time so the scan's own arrays stay small."""
    depth = deepest = 0
    values = 1
    for start in range(0, len(bare), _CHUNK):
        codes = np.frombuffer(bare, dtype=np.uint8, count=min(_CHUNK, len(bare) - start),
                              offset=start)
        opens = np.isin(codes, _OPEN)
        running = np.cumsum(opens.astype(np.int32) - np.isin(codes, _CLOSE),
                            dtype=np.int32) + depth
        deepest, depth = max(deepest, int(running.max())), int(running[-1])
        values += int(np.count_nonzero(codes == _COMMA)) + int(np.count_nonzero(opens))
    return deepest, values
