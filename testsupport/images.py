"""Test images, made in memory from the real photos scikit-image ships (no committed binaries).

Every function returns encoded bytes (or a PIL image for the sources), as an upload would be.
"""
from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image

Transpose = Image.Transpose

# How a camera stores an upright scene under each EXIF orientation, from the EXIF 2.3 spec's
# wording ("the 0th row is the visual ...") rather than from Pillow's exif_transpose table.
# Orientation 6, for one, stores the scene turned 90 degrees counter-clockwise: its top row is
# the scene's right-hand side.
STORED_FOR_ORIENTATION = {
    1: None,
    2: Transpose.FLIP_LEFT_RIGHT,
    3: Transpose.ROTATE_180,
    4: Transpose.FLIP_TOP_BOTTOM,
    5: Transpose.TRANSPOSE,
    6: Transpose.ROTATE_90,
    7: Transpose.TRANSVERSE,
    8: Transpose.ROTATE_270,
}
EXIF_ORIENTATION_TAG = 0x0112


def chelsea() -> Image.Image:
    """A tabby cat, 451 x 300."""
    from skimage import data

    return Image.fromarray(data.chelsea())


def coffee() -> Image.Image:
    """A cup of coffee, 600 x 400."""
    from skimage import data

    return Image.fromarray(data.coffee())


def encode(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


def jpeg(image: Image.Image, size: tuple[int, int] | None = None, quality: int = 90) -> bytes:
    """The image as a JPEG, scaled to ``size`` first (4000 x 3000 makes a 12 MP photo)."""
    if size:
        image = image.resize(size, Image.Resampling.BILINEAR)
    return encode(image, "JPEG", quality=quality)


def jpeg_with_orientation(upright: Image.Image, orientation: int) -> bytes:
    """A JPEG whose pixels are stored as a camera would for ``orientation``, with the tag set:
    a correct decoder shows ``upright``."""
    method = STORED_FOR_ORIENTATION[orientation]
    stored = upright.transpose(method) if method is not None else upright
    exif = Image.Exif()
    exif[EXIF_ORIENTATION_TAG] = orientation
    return encode(stored, "JPEG", quality=95, exif=exif)


def cmyk_jpeg(image: Image.Image) -> bytes:
    return encode(image.convert("CMYK"), "JPEG", quality=95)


def palette_with_transparency(format: str = "PNG") -> bytes:
    """64 x 32: the left half palette index 0 (black, marked transparent), the right half red."""
    image = Image.new("P", (64, 32), 0)
    image.putpalette([0, 0, 0, 255, 0, 0] + [0, 0, 0] * 254)
    image.paste(1, (32, 0, 64, 32))
    return encode(image, format, transparency=0)


def rgba_bands() -> bytes:
    """90 x 30 RGBA PNG in three bands: black at alpha 0, blue at alpha 128, red at alpha 255.
    On white they read white, (127, 127, 255) and red."""
    pixels = np.zeros((30, 90, 4), dtype=np.uint8)
    pixels[:, 30:60] = (0, 0, 255, 128)
    pixels[:, 60:] = (255, 0, 0, 255)
    return encode(Image.fromarray(pixels, "RGBA"), "PNG")


def la_bands() -> bytes:
    """60 x 30 greyscale+alpha PNG: black at alpha 0 (reads white), black at alpha 255."""
    pixels = np.zeros((30, 60, 2), dtype=np.uint8)
    pixels[:, 30:, 1] = 255
    return encode(Image.fromarray(pixels, "LA"), "PNG")


def grey16_png(values: list[int], height: int = 8, width_each: int = 8) -> bytes:
    """A 16-bit greyscale PNG with one vertical band per value (0-65535)."""
    band = np.repeat(np.asarray(values, dtype=np.uint16), width_each)
    pixels = band[np.newaxis].repeat(height, 0)
    image = Image.fromarray(pixels)  # mode I;16
    assert image.mode == "I;16"
    return encode(image, "PNG")


def bilevel_png(image: Image.Image) -> bytes:
    return encode(image.convert("1"), "PNG")


def animated_gif(colours: list[tuple[int, int, int]], size=(64, 48)) -> bytes:
    frames = [Image.new("RGB", size, colour) for colour in colours]
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)


def noisy_animated_gif(first: tuple[int, int, int], frames: int, size=(128, 128)) -> bytes:
    """A big animation: a solid first frame, then ``frames - 1`` frames of noise (which LZW
    cannot compress, so the file is large and decoding every frame would be slow)."""
    rng = np.random.default_rng(0)
    noise = [
        Image.fromarray(rng.integers(0, 256, (size[1], size[0]), dtype=np.uint8), "L")
        for _ in range(frames - 1)
    ]
    return encode(Image.new("RGB", size, first), "GIF", save_all=True, append_images=noise,
                  duration=20, loop=0)


def truncated(data: bytes, keep: float = 0.5) -> bytes:
    return data[: int(len(data) * keep)]


def png_declaring(width: int, height: int) -> bytes:
    """A decompression bomb's header: a 1 x 1 PNG whose IHDR is patched to claim
    ``width`` x ``height`` (CRC fixed up). Its data is one pixel, so a decoder that got as far
    as decoding would fail as truncated rather than as too big."""
    data = bytearray(encode(Image.new("L", (1, 1)), "PNG"))
    assert data[12:16] == b"IHDR"
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


# EXIF 2.3 types of a TIFF directory entry.
EXIF_ASCII, EXIF_SHORT = 2, 3


def exif_block(orientation: int, kind: int = EXIF_SHORT, count: int = 1,
               padding: int = 0) -> bytes:
    """A little-endian TIFF directory as EXIF holds it (without the "Exif" header), whose
    Orientation entry is ``count`` values of type ``kind``, each ``orientation`` (one SHORT
    is the valid entry); ``padding`` bytes of ImageDescription make the block that much
    bigger. SHORT[9_000_000] is the EXIF bomb: 18 MB of values Pillow's parser materialises."""
    entries = 2 if padding else 1
    data_offset = 8 + 2 + 12 * entries + 4
    if kind == EXIF_ASCII:
        values = (str(orientation).encode() + b"\x00").ljust(count, b"\x00")[:count]
    else:
        values = struct.pack("<H", orientation) * count
    inline = len(values) <= 4
    table = [struct.pack("<HHI", EXIF_ORIENTATION_TAG, kind, count)
             + (values.ljust(4, b"\x00") if inline else struct.pack("<I", data_offset))]
    data = b"" if inline else values
    if padding:
        table.append(struct.pack("<HHII", 0x010E, EXIF_ASCII, padding, data_offset + len(data)))
        data += b"x" * (padding - 1) + b"\x00"
    return (b"II*\x00" + struct.pack("<I", 8) + struct.pack("<H", entries) + b"".join(table)
            + struct.pack("<I", 0) + data)


def jpeg_with_exif(jpeg_data: bytes, exif: bytes) -> bytes:
    """``jpeg_data`` with ``exif`` in APP1 segments right after SOI, split as a writer of
    extended EXIF splits it (each segment "Exif\\0\\0" and at most 64 KB; Pillow joins them)."""
    header, room = b"Exif\x00\x00", 65533 - 6
    segments = [b"\xff\xe1" + (len(header) + len(part) + 2).to_bytes(2, "big") + header + part
                for part in (exif[i:i + room] for i in range(0, len(exif), room))]
    return jpeg_data[:2] + b"".join(segments) + jpeg_data[2:]


def png_with_raw_exif_profile(image: Image.Image, exif: bytes) -> bytes:
    """A PNG holding ``exif`` as ImageMagick writes it: hex in a compressed text chunk named
    "Raw profile type exif"."""
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    hexed = (b"Exif\x00\x00" + exif).hex()
    lines = "\n".join(hexed[i:i + 72] for i in range(0, len(hexed), 72))
    text.add_text("Raw profile type exif", f"\nexif\n{len(exif) + 6:8d}\n{lines}\n", zip=True)
    return encode(image, "PNG", pnginfo=text)


PDF_HEAD = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
SVG_TEXT = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
            b'<rect width="10" height="10" fill="red"/></svg>\n')
TEXT = b"This is a text file that someone renamed to cat.jpg.\n"
