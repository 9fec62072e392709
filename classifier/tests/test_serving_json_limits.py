"""catmodel/serving/json_limits.py: which bytes are JSON, and the bounds checked on them
before parsing (the service itself: test_serving_memory.py)."""
from __future__ import annotations

import json

import pytest

from catmodel.serving.json_limits import (
    MAX_JSON_BYTES,
    MAX_JSON_DEPTH,
    MAX_JSON_VALUES,
    JsonRefused,
    check_json,
    json_part,
)

HEAD = b'{"inputs": []}'
BODY = HEAD + b"\x00[[[[binary"


@pytest.mark.parametrize("headers, part", [
    ({b"inference-header-content-length": b"14"}, HEAD),  # tritonclient: no Content-Type
    ({b"content-type": b"application/octet-stream",
      b"inference-header-content-length": b" 14 "}, HEAD),
    ({b"content-type": b"application/json"}, BODY),  # FastAPI parses it whole
    ({b"content-type": b"application/json; charset=utf-8",
      b"inference-header-content-length": b"14"}, BODY),
    ({b"content-type": b"application/cloudevents+json"}, BODY),
    ({b"content-type": b"application/octet-stream"}, BODY),  # our parser: all JSON
    ({}, BODY),
])
def test_the_json_part_is_what_will_be_parsed_as_json(headers, part):
    assert json_part(BODY, headers) == part


def tensor(depth: int, values: int) -> bytes:
    data = "[" * (depth - 3) + ",".join(["0.5"] * values) + "]" * (depth - 3)
    return f'{{"inputs": [{{"name": "x", "data": {data}}}]}}'.encode()


def test_a_request_within_the_bounds_passes():
    check_json(tensor(MAX_JSON_DEPTH, MAX_JSON_VALUES - 100))
    # One 224 x 224 image as nested JSON numbers, full precision.
    image = json.dumps([[[1.234567890123e-5] * 224] * 224] * 3).encode()
    check_json(b'{"inputs": [{"name": "input", "data": [' + image + b"]}]}")


def refusal(raw: bytes) -> JsonRefused:
    with pytest.raises(JsonRefused) as refused:
        check_json(raw)
    return refused.value


def test_too_deep_too_many_values_or_too_large_is_refused():
    deep = refusal(tensor(MAX_JSON_DEPTH + 1, 1))
    assert deep.status == 400 and f"{MAX_JSON_DEPTH + 1} levels" in deep.message
    many = refusal(tensor(4, MAX_JSON_VALUES + 1))
    assert many.status == 400 and "values" in many.message
    large = refusal(b'"' + b"x" * MAX_JSON_BYTES + b'"')
    assert large.status == 413 and "binary data extension" in large.message


def test_brackets_and_commas_inside_strings_do_not_count():
    text = json.dumps({"inputs": [{"name": "[" * 1000 + "," * (MAX_JSON_VALUES + 1),
                                   "data": ['"[{', "\\\"]]"]}]}).encode()
    check_json(text)
    # An escaped quote does not end a string.
    check_json(b'{"a": "\\"[[[[[[[[[[[[[[[[[[[[[[[[["}')


def test_nesting_split_across_the_scans_chunks_is_counted():
    raw = b" " * (1024 * 1024 - 5) + b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)
    assert refusal(raw).status == 400
