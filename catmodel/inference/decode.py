"""Untrusted bytes -> an upright RGB PIL image, no bigger than the model needs, decoded within
a memory budget.

Defences, in the order they apply:
- only an allow-list of formats is parsed (Pillow's other plugins never see user bytes): the
  formats phones write (JPEG, PNG, WebP, GIF); BMP and TIFF are refused;
- the pixel count the header declares is checked before any pixel is decoded, and Pillow's own
  decompression-bomb guard (``Image.MAX_IMAGE_PIXELS``) stays on;
- a file with EXIF over 64 KB is refused before Pillow opens it, and the orientation is read
  only from a one-value entry (exif);
- baseline JPEGs decode in draft mode at 1/2, 1/4 or 1/8 scale when the model needs fewer pixels;
- what the decode will allocate is estimated from the header (decode_memory; for a JPEG from
  its segments walked by their lengths, jpeg_structure: a progressive or non-interleaved one
  pays for its full-size coefficients) and an image over ``max_decode_bytes`` is refused: the
  lower pixel cap of formats without DCT scaling;
- decodes that allocate more than a little wait for a slot of the process's DecodeGate (at most
  N at once), or are turned away with DecoderBusy;
- the decoded image is reduced in its own mode, band by band, before any mode conversion
  (alpha over white, 16-bit and float scaling happen on the small image, see downscale), and the
  full-size buffer is freed before the slot is given back;
- only the first frame of an animation is decoded (frames are never iterated);
- truncated files are errors (``ImageFile.LOAD_TRUNCATED_IMAGES`` is left off).
"""
from __future__ import annotations

import io
import logging
import re
import struct
import zlib
from contextlib import nullcontext

from PIL import Image, UnidentifiedImageError, WebPImagePlugin

from . import exif
from .decode_memory import (
    DEFAULT_MAX_DECODE_BYTES,
    SMALL_DECODE_BYTES,
    DecodeBudget,
    DecodeGate,
    decode_cost,
)
from .downscale import reduce_factor, reduce_in_bands, to_rgb
from .errors import ACCEPTED_FORMATS, InvalidImage, TooManyPixels, UnsupportedFormat
from .jpeg_structure import jpeg_layout

logger = logging.getLogger(__name__)

# Pillow's format ids. The JPEG plugin also opens MPO, the multi-picture JPEG of many phones.
ACCEPTED_PILLOW_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
DRAFT_FORMATS = ("JPEG", "MPO")
# 50 megapixels: any camera photo. Baseline JPEGs that big decode at 1/8 scale; other images are
# held to the lower cap that max_decode_bytes sets.
DEFAULT_MAX_PIXELS = 50_000_000
# What Pillow raises on broken image data (zlib.error and struct.error come from some plugins).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)
# Formats Pillow has no plugin for, recognised only to name them in the error.
_OTHER_SIGNATURES = (
    ("PDF", re.compile(rb"^\s*%PDF-")),
    ("SVG", re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg",
                       re.DOTALL | re.IGNORECASE)),
    ("HEIC", re.compile(rb"^....ftyp(heic|heix|hevc|hevx|mif1|msf1)", re.DOTALL)),
    ("JPEG XL", re.compile(rb"^(\xff\x0a|\x00\x00\x00\x0cJXL \r\n\x87\n)", re.DOTALL)),
)
# Pillow plugins whose signature also matches other files (a CUR header is a common TGA header).
_AMBIGUOUS_SIGNATURES = {"CUR"}
_HEAD_BYTES = 1024
# The transposition that turns each EXIF orientation upright (EXIF 2.3, tag 0x0112), applied to
# the small image; the same table as ImageOps.exif_transpose, which works only on the full one.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def decode_image(data, *, min_side: int | None = None, max_side: int | None = None,
                 max_pixels: int = DEFAULT_MAX_PIXELS,
                 max_decode_bytes: int = DEFAULT_MAX_DECODE_BYTES,
                 gate: DecodeGate | None = None,
                 budget: DecodeBudget | None = None) -> Image.Image:
    """Decode ``data`` (bytes or a binary file object) into an upright RGB image.

    ``min_side``: the smallest shorter side the caller needs (the model's resize); the image is
    decoded (JPEG) or reduced (the others) to the coarsest integer scale that still gives at
    least that. ``max_side`` instead: the image is to fit in a square of that side (a kept
    photo); it is decoded at the coarsest scale whose longer side is still at least that, then
    resized to fit (Lanczos) before the gate's slot is given back. Neither: full size.
    ``gate``: the process's DecodeGate (None: no limit on concurrent decodes). ``budget``: a
    DecodeBudget this decode's cost is charged to, shared by decodes that count together
    (None: none). Raises InvalidImage, UnsupportedFormat, TooManyPixels (DecodeBudgetSpent
    when the budget is spent) or DecoderBusy.
    """
    if min_side and max_side:
        raise ValueError("decode_image takes min_side or max_side, not both")
    stream = _as_stream(data)
    owns_stream = stream is not data
    head = _peek(stream, _HEAD_BYTES)
    if not head:
        raise InvalidImage("The file is empty. Please upload a photo.")
    exif.refuse_large_exif(stream, head)  # Pillow would read it, and parse a JPEG's, on open
    # Our limit never exceeds Pillow's own: an image that would only earn Pillow's warning is
    # refused too (the warning itself cannot be caught thread-safely on Python 3.11).
    if Image.MAX_IMAGE_PIXELS:
        max_pixels = min(max_pixels, Image.MAX_IMAGE_PIXELS)
    try:
        image = Image.open(stream, formats=ACCEPTED_PILLOW_FORMATS)
    except Image.DecompressionBombError:
        raise TooManyPixels(limit=max_pixels) from None
    except UnidentifiedImageError:
        raise _not_decodable(head) from None
    except _DECODE_ERRORS as exc:
        raise InvalidImage() from exc
    try:
        return _decode_opened(image, stream, min_side, max_side, max_pixels, max_decode_bytes,
                              gate, owns_stream, budget)
    finally:
        _release(image, owns_stream)


def _decode_opened(image, stream, min_side, max_side, max_pixels, max_decode_bytes, gate,
                   owns_stream, budget=None) -> Image.Image:
    declared = width, height = image.size
    if width * height > max_pixels:
        raise TooManyPixels(width, height, max_pixels)
    if max_side and max(declared) > max_side:
        # The shorter side that keeps the longer one at least max_side (rounded up).
        min_side = -(-max_side * min(declared) // max(declared))
    multi_scan = image.format in DRAFT_FORMATS and jpeg_layout(stream).multi_scan
    if min_side and image.format in DRAFT_FORMATS:
        # The JPEG decoder scales by 1/2, 1/4 or 1/8 while decoding; asking for a square of
        # min_side keeps the shorter side at least min_side, whatever the orientation.
        image.draft("RGB", (min_side, min_side))
    cost = decode_cost(image, declared, multi_scan)
    if cost > max_decode_bytes:
        raise TooManyPixels(width, height, width * height * max_decode_bytes // cost,
                            kind=_kind(image.format))
    if budget is not None:
        budget.charge(cost)
    with gate.slot() if gate and cost > SMALL_DECODE_BYTES else nullcontext():
        try:
            image.load()  # the first frame only; seek() is never called
        except Image.DecompressionBombError:
            raise TooManyPixels(width, height, max_pixels) from None
        except _DECODE_ERRORS as exc:
            raise InvalidImage() from exc
        orientation = exif.orientation(image.info)
        small = to_rgb(reduce_in_bands(image, reduce_factor(image.size, min_side)))
        if small is image:
            small = image.copy()  # ours outlives the opened file
        if max_side:
            small.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
        _release(image, owns_stream)  # the full-size buffer goes before the slot does
    return _upright(small, orientation)


def _kind(pillow_format: str | None) -> str:
    return {"WEBP": "WebP", "MPO": "JPEG"}.get(pillow_format or "", pillow_format or "these")


def _release(image: Image.Image, owns_stream: bool) -> None:
    """Free the pixels of an image we are done with (safe to call twice). An opened file's
    close() also closes the file it read from, and a caller's file is the caller's (it may read
    the upload again): then only Image.close runs, which frees the pixels and nothing else."""
    if owns_stream:
        image.close()
    else:
        Image.Image.close(image)
    # The WebP plugin keeps libwebp's decoder (two full-size canvases) until the image is
    # garbage collected; the upload's frame is loaded, so it is dropped now.
    if isinstance(image, WebPImagePlugin.WebPImageFile) and hasattr(image, "_decoder"):
        del image._decoder


def _upright(image: Image.Image, orientation: int) -> Image.Image:
    method = _UPRIGHT.get(orientation)
    return image.transpose(method) if method is not None else image


def _not_decodable(head: bytes) -> Exception:
    """Name the format of bytes that are not one we accept, or call them not an image."""
    found = _recognise(head)
    if found:
        return UnsupportedFormat(found)
    return InvalidImage(
        "The file is not an image we can read. Please upload a photo in one of these formats: "
        + ", ".join(ACCEPTED_FORMATS) + "."
    )


def _recognise(head: bytes) -> str | None:
    Image.init()
    for format_id, (_factory, accept) in Image.OPEN.items():
        if format_id in ACCEPTED_PILLOW_FORMATS or format_id in _AMBIGUOUS_SIGNATURES or not accept:
            continue
        try:
            # Only the plugins' cheap signature checks run, never their parsers.
            if accept(head):
                return format_id
        except (IndexError, ValueError, struct.error):
            continue
    for name, signature in _OTHER_SIGNATURES:
        if signature.match(head):
            return name
    return None


def _as_stream(data):
    if isinstance(data, (bytes, bytearray, memoryview)):
        return io.BytesIO(data)
    seekable = getattr(data, "seekable", lambda: True)
    if hasattr(data, "read") and hasattr(data, "seek") and seekable():
        data.seek(0)  # Pillow reads from the start whatever the position; so do we
        return data
    if hasattr(data, "read"):
        return io.BytesIO(data.read())  # a non-seekable stream: Pillow needs to seek
    raise TypeError(f"decode_image takes bytes or a binary file object, not {type(data).__name__}")


def _peek(stream, size: int) -> bytes:
    position = stream.tell()
    head = stream.read(size)
    stream.seek(position)
    return head
