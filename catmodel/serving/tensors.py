"""The service's tensors, as both the server and the client name and encode them.

Open Inference Protocol v2 with the binary data extension (the one Triton and KServe share):
the body is a JSON header, then the raw bytes of each input whose ``parameters`` give a
``binary_data_size``; the ``Inference-Header-Content-Length`` header says where the JSON ends.
A BYTES tensor's raw form is each element as a 4-byte little-endian length and its bytes.
https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_binary_data.md
"""
from __future__ import annotations

import struct

# Inputs: encoded photos (any format the decoder accepts), one element per photo; or the
# network's own input tensor (FP32 [N, 3, size, size]) under the manifest's input name.
IMAGES = "images"
# Outputs: the probability of every label, and the labels themselves (the same order).
PROBABILITIES = "probabilities"
LABELS = "labels"

HEADER_LENGTH = "Inference-Header-Content-Length"
_LENGTH = struct.Struct("<I")


def encode_bytes_tensor(elements) -> bytes:
    """bytes elements -> the raw form of a BYTES tensor."""
    return b"".join(_LENGTH.pack(len(element)) + bytes(element) for element in elements)


def decode_bytes_tensor(raw: bytes) -> list[bytes]:
    """The raw form of a BYTES tensor -> its elements. Raises ValueError when a length runs
    past the end (a truncated or mislabelled body)."""
    view = memoryview(raw)
    elements, offset = [], 0
    while offset < len(view):
        if offset + _LENGTH.size > len(view):
            raise ValueError(f"a BYTES element length is cut off at byte {offset}")
        (length,) = _LENGTH.unpack_from(view, offset)
        offset += _LENGTH.size
        if offset + length > len(view):
            raise ValueError(f"a BYTES element of {length} bytes runs past the end of its data")
        elements.append(bytes(view[offset:offset + length]))
        offset += length
    return elements
