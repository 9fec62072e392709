"""A decoded image in any Pillow mode -> a small RGB image, as a person would see it.

The order matters for memory: the full-size image is first reduced in its own mode (box filter,
``Image.reduce``), one band of rows at a time, and only the small result is converted (alpha
over white, 16-bit and float scaling). Converting first would copy the full-size image once or
twice more (an RGBA 50-megapixel image is 200 MB; its float copy 800 MB).
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from .errors import UnsupportedFormat

WHITE = (255, 255, 255)
# Rows are reduced in bands of about this many source pixels: each band is copied (and maybe
# converted) before reduction, so this bounds the extra memory (1 MP at 4 bytes: 4 MB a copy).
BAND_PIXELS = 1_000_000
# The mode each source mode is reduced in. Pillow's reduce takes L, LA, RGB, RGBA, I, F and
# CMYK directly (and premultiplies alpha itself); the others are converted band by band.
_REDUCE_MODE = {"1": "L", "PA": "RGBA", "I;16": "I", "I;16B": "I", "I;16L": "I", "I;16N": "I",
                "La": "LA", "RGBa": "RGBA"}
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")


def reduce_factor(size: tuple[int, int], min_side: int | None) -> int:
    """The largest integer factor that keeps the shorter side at least ``min_side``."""
    if not min_side:
        return 1
    return max(1, min(size) // min_side)


def reduce_in_bands(image: Image.Image, factor: int) -> Image.Image:
    """``image`` reduced ``factor`` times (box filter), in a mode Pillow can reduce. Returns the
    image itself when there is nothing to reduce."""
    if factor <= 1:
        return image
    mode = _reduce_mode(image)
    width, height = image.size
    reduced = Image.new(mode, (-(-width // factor), -(-height // factor)))
    rows = max(1, BAND_PIXELS // (width * factor)) * factor  # a multiple of factor
    for top in range(0, height, rows):
        band = image.crop((0, top, width, min(height, top + rows)))
        if band.mode != mode:
            band = band.convert(mode)  # a palette's transparency becomes alpha here
        reduced.paste(band.reduce(factor), (0, top // factor))
    return reduced


def _reduce_mode(image: Image.Image) -> str:
    if image.mode in ("P", "L", "RGB") and _has_transparency(image):
        return "RGBA"  # a palette entry or colour key marked transparent becomes alpha first
    if image.mode == "P":
        return "RGB"
    if image.mode in _REDUCE_MODE:
        return _REDUCE_MODE[image.mode]
    if image.mode in ("L", "LA", "RGB", "RGBA", "I", "F", "CMYK"):
        return image.mode
    return "RGB"  # YCbCr and the like: converted band by band (or refused by to_rgb)


def _has_transparency(image: Image.Image) -> bool:
    return "transparency" in image.info


def to_rgb(image: Image.Image) -> Image.Image:
    """Any Pillow mode -> RGB: transparency on white, 16-bit and float samples scaled to 8 bits.
    Meant for an image already reduced to about the size the caller needs."""
    mode = image.mode
    if mode in _ALPHA_MODES or _has_transparency(image):
        return _on_white(image)
    if mode == "RGB":
        return image
    if mode.startswith("I;16") or mode == "I":
        return Image.fromarray(_sixteen_bit_to_8(np.asarray(image))).convert("RGB")
    if mode == "F":
        return Image.fromarray(_float_to_8(np.asarray(image))).convert("RGB")
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
    # Pillow's conversion clip everything above 255 to white. Mode I holds 16-bit PNG data.
    pixels = np.clip(pixels.astype(np.float32), 0, 65535)
    return np.rint(pixels / 257.0).astype(np.uint8)


def _float_to_8(pixels: np.ndarray) -> np.ndarray:
    # Float images come either on 0-1 or on 0-255; there is no header to say which.
    pixels = np.nan_to_num(pixels.astype(np.float32), nan=0.0, posinf=255.0, neginf=0.0)
    if pixels.size and pixels.min() >= 0.0 and pixels.max() <= 1.0:
        pixels = pixels * 255.0
    return np.rint(np.clip(pixels, 0, 255)).astype(np.uint8)
