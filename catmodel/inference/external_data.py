"""Finding ONNX tensors that keep their data outside the model file ("external data").

An external-data tensor names a file path that ONNX Runtime reads when it loads the model: a
package could make the server read host files into the network's weights. Packages must be one
self-contained ``model.onnx``; build, fetch and load refuse anything else.

Written here rather than with the ``onnx`` package because that is a model-building dependency,
not a runtime one (the image has ONNX Runtime only): this walks the protobuf wire format along
the few fields that can hold a tensor, and skips everything else by its declared length.
"""
from __future__ import annotations

# Field numbers from onnx.proto (ONNX IR version 10). Each message maps the fields that can lead
# to a tensor to the message type they hold.
# A function's tensors are in its nodes and its attributes' default values (attribute_proto);
# a model's training_info holds two more graphs (initialization and algorithm).
_PATHS = {
    "ModelProto": {7: "GraphProto", 20: "TrainingInfoProto", 25: "FunctionProto"},
    "TrainingInfoProto": {1: "GraphProto", 2: "GraphProto"},
    "FunctionProto": {7: "NodeProto", 11: "AttributeProto"},
    "GraphProto": {1: "NodeProto", 5: "TensorProto", 15: "SparseTensorProto"},
    "NodeProto": {5: "AttributeProto"},
    "AttributeProto": {5: "TensorProto", 6: "GraphProto", 10: "TensorProto", 11: "GraphProto",
                       22: "SparseTensorProto", 23: "SparseTensorProto"},
    "SparseTensorProto": {1: "TensorProto", 2: "TensorProto"},
}
_TENSOR_NAME = 8
_TENSOR_EXTERNAL_DATA = 13
_TENSOR_DATA_LOCATION = 14
_EXTERNAL = 1
_MAX_DEPTH = 64  # subgraphs nest (If, Loop, Scan); a deeper file is hostile


class MalformedModel(ValueError):
    """The bytes are not a well-formed protobuf message."""


def external_data_tensors(model: bytes) -> list[str]:
    """Names of the tensors in the ONNX model ``model`` whose data is external (empty: none).
    MalformedModel when the bytes are not a protobuf message (ONNX Runtime would refuse them)."""
    found: list[str] = []
    _walk(memoryview(model), "ModelProto", found, 0)
    return found


def _walk(data: memoryview, message: str, found: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise MalformedModel("nested too deeply")
    children = _PATHS.get(message, {})
    name, external = "", False
    for field, wire_type, value in _fields(data):
        if message == "TensorProto":
            if field == _TENSOR_NAME and wire_type == 2:
                name = bytes(value).decode("utf-8", "replace")
            elif field == _TENSOR_EXTERNAL_DATA and wire_type == 2:
                external = True
            elif field == _TENSOR_DATA_LOCATION and wire_type == 0 and value == _EXTERNAL:
                external = True
        elif field in children and wire_type == 2:
            _walk(value, children[field], found, depth + 1)
    if external:
        found.append(name or "(unnamed)")


def _fields(data: memoryview):
    """(field number, wire type, value) of each field: an int for varints, a memoryview for
    length-delimited fields; fixed-size fields are skipped."""
    position, end = 0, len(data)
    while position < end:
        key, position = _varint(data, position)
        field, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, position = _varint(data, position)
            yield field, wire_type, value
        elif wire_type == 2:
            length, position = _varint(data, position)
            if position + length > end:
                raise MalformedModel("a field runs past the end")
            yield field, wire_type, data[position:position + length]
            position += length
        elif wire_type == 1:
            position += 8
        elif wire_type == 5:
            position += 4
        else:
            raise MalformedModel(f"unknown wire type {wire_type}")
    if position != end:
        raise MalformedModel("a field runs past the end")


def _varint(data: memoryview, position: int) -> tuple[int, int]:
    result, shift = 0, 0
    while True:
        if position >= len(data) or shift > 63:
            raise MalformedModel("truncated varint")
        byte = data[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, position
        shift += 7
