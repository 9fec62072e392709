"""Untrusted bytes -> an upright RGB PIL image, no bigger than the model needs.

Defences, in the order they apply:
- only an allow-list of formats is parsed (Pillow's other plugins never see user bytes);
- the pixel count the header declares is checked before any pixel is decoded, and Pillow's own
  decompression-bomb guard (``Image.MAX_IMAGE_PIXELS``) stays on;
- JPEGs decode in draft mode at 1/2, 1/4 or 1/8 scale when the model needs fewer pixels;
- only the first frame of an animation is decoded (frames are never iterated);
- truncated files are errors (``ImageFile.LOAD_TRUNCATED_IMAGES`` is left off).
"""
from __future__ import annotations

import io
import logging
import re
import struct
import zlib

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import ACCEPTED_FORMATS, InvalidImage, TooManyPixels, UnsupportedFormat

logger = logging.getLogger(__name__)

# Pillow's format ids. The JPEG plugin also opens MPO, the multi-picture JPEG of many phones.
ACCEPTED_PILLOW_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF")
DRAFT_FORMATS = ("JPEG", "MPO")
# 50 megapixels: any camera photo, yet decoding it stays around 150 MB of RGB.
DEFAULT_MAX_PIXELS = 50_000_000
WHITE = (255, 255, 255)
# What Pillow raises on broken image data (zlib.error and struct.error come from some plugins).
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)
# Formats Pillow has no plugin for, recognised only to name them in the error.
_OTHER_SIGNATURES = (
    ("PDF", re.compile(rb"^\s*%PDF-")),
    ("SVG", re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*)*<svg", re.S | re.I)),
    ("HEIC", re.compile(rb"^....ftyp(heic|heix|hevc|hevx|mif1|msf1)", re.S)),
    ("JPEG XL", re.compile(rb"^(\xff\x0a|\x00\x00\x00\x0cJXL \r\n\x87\n)", re.S)),
)
# Pillow plugins whose signature also matches other files (a CUR header is a common TGA header).
_AMBIGUOUS_SIGNATURES = {"CUR"}
_HEAD_BYTES = 1024


def decode_image(data, *, min_side: int | None = None,
                 max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decode ``data`` (bytes or a binary file object) into an upright RGB image.

    ``min_side``: the smallest shorter side the caller needs (the model's resize); JPEGs are
    then decoded at the coarsest scale that still gives at least that. ``None`` decodes at full
    size. Raises InvalidImage, UnsupportedFormat or TooManyPixels.
    """
    stream = _as_stream(data)
    owns_stream = stream is not data
    head = _peek(stream, _HEAD_BYTES)
    if not head:
        raise InvalidImage("The file is empty. Please upload a photo.")
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
        width, height = image.size
        if width * height > max_pixels:
            raise TooManyPixels(width, height, max_pixels)
        if min_side and image.format in DRAFT_FORMATS:
            # The JPEG decoder scales by 1/2, 1/4 or 1/8 while decoding; asking for a square of
            # min_side keeps the shorter side at least min_side, whatever the orientation.
            image.draft("RGB", (min_side, min_side))
        try:
            image.load()  # the first frame only; seek() is never called
        except Image.DecompressionBombError:
            raise TooManyPixels(width, height, max_pixels) from None
        except _DECODE_ERRORS as exc:
            raise InvalidImage() from exc
        _upright(image)
        rgb = to_rgb(image)
    except BaseException:
        _release(image, owns_stream)
        raise
    if rgb is not image:
        _release(image, owns_stream)
    return rgb


def _release(image: Image.Image, owns_stream: bool) -> None:
    """Free an image we are done with. Pillow's close() also closes the file it read from, and a
    caller's file is the caller's (the identify page reads the upload again for its thumbnail):
    then the image is left to reference counting, which frees it as soon as we return."""
    if owns_stream:
        image.close()


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGB, as a person would see it: transparency on white, 16-bit scaled."""
    mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        return _on_white(image)
    if mode == "RGB":
        return image
    if mode.startswith("I;16") or mode == "I":
        return Image.fromarray(_sixteen_bit_to_8(np.asarray(image)), "L").convert("RGB")
    if mode == "F":
        return Image.fromarray(_float_to_8(np.asarray(image)), "L").convert("RGB")
    try:
        return image.convert("RGB")  # L, 1, P, CMYK, YCbCr, ...
    except ValueError:
        raise UnsupportedFormat(
            found=f"{mode} colour mode",
            message=f"Images in the {mode} colour mode are not supported. "
            "Please upload an RGB or greyscale photo.",
        ) from None


def _on_white(image: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")  # applies a palette's or a colour key's transparency as alpha
    background = Image.new("RGB", rgba.size, WHITE)
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _sixteen_bit_to_8(pixels: np.ndarray) -> np.ndarray:
    # 16-bit samples span 0-65535: divide by 257 (65535 / 255) and round, rather than let
    # Pillow's conversion clip everything above 255 to white. Mode I holds 16-bit PNG/TIFF data.
    pixels = np.clip(pixels.astype(np.float32), 0, 65535)
    return np.rint(pixels / 257.0).astype(np.uint8)


def _float_to_8(pixels: np.ndarray) -> np.ndarray:
    # Float images come either on 0-1 or on 0-255; there is no header to say which.
    pixels = np.nan_to_num(pixels.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0)
    if pixels.size and pixels.min() >= 0.0 and pixels.max() <= 1.0:
        pixels = pixels * 255.0
    return np.rint(np.clip(pixels, 0, 255)).astype(np.uint8)


def _upright(image: Image.Image) -> None:
    """Apply the EXIF orientation in place. A corrupt EXIF block must not cost the user their
    photo: it is logged and the image kept as stored."""
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except (*_DECODE_ERRORS, TypeError, KeyError) as exc:
        logger.info("Ignoring unreadable EXIF orientation: %s", exc)


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
    if hasattr(data, "read") and hasattr(data, "seek") and getattr(data, "seekable", lambda: True)():
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
