"""Hypothesis strategies for hostile image files: real images of every accepted format (and a
few others), then mutated the way broken or malicious uploads are: bytes flipped, cut short,
inserted, header dimensions rewritten, pieces of two files spliced."""
from __future__ import annotations

import struct
import zlib
from functools import lru_cache

from hypothesis import strategies as st

from testsupport import images


@lru_cache(maxsize=1)
def seeds() -> tuple[bytes, ...]:
    cat = images.chelsea().resize((96, 64))
    return (
        images.jpeg(cat),
        images.encode(cat, "JPEG", quality=80, progressive=True),
        images.cmyk_jpeg(cat),
        images.jpeg_with_orientation(cat, 6),
        images.encode(cat, "PNG"),
        images.palette_with_transparency(),
        images.grey16_png([0, 30000, 65535]),
        images.encode(cat, "WEBP"),
        images.encode(cat, "BMP"),
        images.encode(cat, "TIFF"),
        images.encode(cat.convert("P"), "GIF"),
        images.animated_gif([(255, 0, 0), (0, 255, 0), (0, 0, 255)]),
        images.encode(cat, "ICO"),
        images.encode(cat.convert("L"), "PPM"),
        images.png_declaring(40_000, 40_000),
        images.PDF_HEAD, images.SVG_TEXT, images.TEXT,
    )


def _png_with_size(data: bytes, width: int, height: int) -> bytes:
    if data[12:16] != b"IHDR":
        return data
    out = bytearray(data)
    out[16:24] = struct.pack(">II", width, height)
    out[29:33] = struct.pack(">I", zlib.crc32(bytes(out[12:29])))
    return bytes(out)


def _jpeg_with_size(data: bytes, width: int, height: int) -> bytes:
    """Rewrite the frame header (SOF0/SOF2) dimensions of a JPEG."""
    out = bytearray(data)
    for marker in (b"\xff\xc0", b"\xff\xc2"):
        at = out.find(marker)
        if at != -1:
            out[at + 5:at + 9] = struct.pack(">HH", height & 0xFFFF, width & 0xFFFF)
            break
    return bytes(out)


@st.composite
def hostile_images(draw) -> bytes:
    data = draw(st.sampled_from(seeds()))
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "dimensions", "splice"]))
        if not data:
            break
        if kind == "flip":
            at = draw(st.integers(0, len(data) - 1))
            data = data[:at] + bytes([draw(st.integers(0, 255))]) + data[at + 1:]
        elif kind == "truncate":
            data = data[:draw(st.integers(0, len(data)))]
        elif kind == "insert":
            at = draw(st.integers(0, len(data)))
            data = data[:at] + draw(st.binary(min_size=1, max_size=64)) + data[at:]
        elif kind == "dimensions":
            width = draw(st.sampled_from([0, 1, 255, 65535, 100_000, 2**31 - 1]))
            height = draw(st.sampled_from([0, 1, 255, 65535, 100_000, 2**31 - 1]))
            data = _jpeg_with_size(_png_with_size(data, width, height), width, height)
        else:
            other = draw(st.sampled_from(seeds()))
            data = data[:draw(st.integers(0, len(data)))] + other[draw(st.integers(0, len(other))):]
    return data


def random_bytes():
    return st.binary(min_size=0, max_size=4096)
