"""What a decode will cost in memory, known before a pixel is decoded, and the gate that lets
only a few expensive decodes run at once in a process.

Pillow decodes a frame into one full-size buffer in the file's own colour mode; only baseline
JPEGs can be decoded smaller (DCT scaling, ``Image.draft``). Measured on Pillow 13 with
7071 x 7071 images (catmodel/tests/test_decode_memory.py keeps these honest):
- PNG, GIF: the buffer only (1 byte a pixel for P and L, 2 for I;16, 4 for everything else:
  Pillow stores RGB in 4 bytes);
- WebP: libwebp's animation decoder keeps two RGBA canvases and Pillow copies the frame out
  before loading it: 16 bytes a pixel whatever the mode;
- JPEG with more than one scan (progressive, or sequential with separate scans): libjpeg keeps
  every DCT coefficient of the full-size image, 2 bytes a sample, even when decoding at 1/8.
"""
from __future__ import annotations

import math
import threading
from contextlib import contextmanager

from PIL import Image

from .errors import DecodeBudgetSpent, DecoderBusy

MB = 1024 * 1024
# The memory one decode may take (the lower pixel cap for formats without DCT scaling follows
# from it: 37 MP for an RGBA PNG, 9 MP for a WebP). A gunicorn worker holds about 210 MB with
# the model loaded and warm; one such decode at a time (IDENTIFY_LARGE_DECODES) plus small ones
# in its other threads keeps it under 400 MB (tests/load), and one decode stays within the
# 200 MB above the interpreter that catmodel/tests/test_decode_memory.py allows.
DEFAULT_MAX_DECODE_BYTES = 144 * MB
# Decodes below this (a 2-megapixel RGBA PNG, any draft-decoded baseline JPEG up to 50 MP) never
# wait for the gate: they take a few milliseconds and their memory is within a worker's noise.
SMALL_DECODE_BYTES = 8 * MB

_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
_WEBP_BYTES_PER_PIXEL = 16
_DCT_COEFFICIENT_BYTES = 2


def decode_cost(image: Image.Image, original_size: tuple[int, int], multi_scan: bool) -> int:
    """Bytes Pillow will allocate to decode ``image``'s first frame (opened, maybe drafted, not
    loaded). ``original_size`` is the size the file declares (a draft shrinks ``image.size``);
    ``multi_scan``: a JPEG that libjpeg decodes through its full-size coefficient buffer
    (jpeg_structure.JpegLayout.multi_scan; False for other formats)."""
    width, height = image.size
    full_pixels = original_size[0] * original_size[1]
    cost: float = width * height * _BYTES_PER_PIXEL.get(image.mode, 4)
    if image.format == "WEBP":
        cost = full_pixels * _WEBP_BYTES_PER_PIXEL
    elif multi_scan:
        cost += full_pixels * _DCT_COEFFICIENT_BYTES * _sample_fraction(image)
    return int(cost)


def _sample_fraction(image: Image.Image) -> float:
    """Samples per pixel that a JPEG stores: 3 for 4:4:4 colour, 1.5 for 4:2:0, 4 for CMYK."""
    layers = getattr(image, "layer", None) or []
    if not layers:
        return 4.0
    most_h = max(h for _id, h, _v, _q in layers) or 1
    most_v = max(v for _id, _h, v, _q in layers) or 1
    return sum((h * v) / (most_h * most_v) for _id, h, v, _q in layers)


class DecodeGate:
    """At most ``slots`` expensive decodes at once in this process; the rest wait up to
    ``wait_seconds`` for a slot, then get DecoderBusy (503 with Retry-After). Threads of one
    process share it; each process (gunicorn worker) has its own."""

    def __init__(self, slots: int = 1, wait_seconds: float = 5.0):
        if slots < 1:
            raise ValueError(f"a decode gate needs at least one slot, got {slots}")
        self.slots = slots
        self.wait_seconds = wait_seconds
        self._semaphore = threading.BoundedSemaphore(slots)

    @contextmanager
    def slot(self):
        if not self._semaphore.acquire(timeout=self.wait_seconds):
            raise DecoderBusy(retry_after=max(1, math.ceil(self.wait_seconds)))
        try:
            yield
        finally:
            self._semaphore.release()


class DecodeBudget:
    """The memory a group of decodes may take between them (the photos of one request to the
    model service: each is within max_decode_bytes, but 64 of them would decode 9 GB). Each
    decode's cost is charged before its pixels are decoded; the one that would go over is
    refused with DecodeBudgetSpent. Thread-safe: a request's photos decode in several threads."""

    def __init__(self, limit_bytes: int):
        self.limit_bytes = limit_bytes
        self.spent = 0
        self._lock = threading.Lock()

    def charge(self, cost: int) -> None:
        with self._lock:
            if self.spent + cost > self.limit_bytes:
                raise DecodeBudgetSpent(self.limit_bytes)
            self.spent += cost
