"""The EXIF orientation of an upload, read without letting anyone's EXIF cost memory.

An EXIF block is a TIFF directory whose entries declare their own value counts: Pillow's parser
(``Image.getexif``) turns every entry of the first directory into Python values, so one entry
declared as SHORT[9,000,000] became a tuple of nine million ints (730 MB for an 18 MB PNG
``eXIf`` chunk on a 64 x 64 image), and even unparsed, Pillow holds two or three copies of the
block while opening the file. Hence:
- a file whose EXIF is over MAX_EXIF_BYTES is refused before Pillow opens it: a JPEG's APP1
  segments (which Pillow joins and parses while opening), a PNG's ``eXIf`` chunk or ``Raw
  profile type exif`` text chunk, a WebP's ``EXIF`` chunk, found by walking the file's chunks
  by their lengths. One APP1 segment, what cameras write, holds at most 64 KB;
- a compressed text profile that only turns out too big once Pillow has inflated it (at most
  1 MB, Pillow's limit) is ignored, the photo kept as stored;
- the orientation is read here, by walking the first directory's entries without
  materialising any of them, and only from an entry holding exactly one SHORT (EXIF 2.3's
  Orientation); Pillow's parser also hides how many values an entry held.
"""
from __future__ import annotations

import logging
import struct

from .errors import InvalidImage
from .jpeg_structure import APP1, JPEG_START, SOS, segments

logger = logging.getLogger(__name__)

MAX_EXIF_BYTES = 64 * 1024
ORIENTATION_TAG = 0x0112
_EXIF_HEADER = b"Exif\x00\x00"
_SHORT = 3
_ENTRY_BYTES = 12
# PNG text chunk that ImageMagick and exiftool write EXIF into, as hex: "\nexif\n  LEN\nHEX...".
_RAW_PROFILE = "Raw profile type exif"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")
# Hex takes two characters a byte, plus line breaks and the profile's header lines.
_MAX_RAW_PROFILE_CHARS = 3 * MAX_EXIF_BYTES


class ExifTooLarge(InvalidImage):
    default_message = (
        "The photo's metadata (EXIF) is larger than the 64 KB a camera writes. Please save the "
        "photo again without its metadata, or take a screenshot of it, and upload that."
    )


def refuse_large_exif(stream, head: bytes) -> None:
    """Raise ExifTooLarge when the file in ``stream`` (``head``: its first bytes) holds more
    EXIF than MAX_EXIF_BYTES. Reads chunk headers only; the position is put back."""
    if head.startswith(JPEG_START):
        measure = _jpeg_exif_bytes
    elif head.startswith(_PNG_SIGNATURE):
        measure = _png_exif_bytes
    elif head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        measure = _webp_exif_bytes
    else:
        return
    position = stream.tell()
    try:
        size = measure(stream)
    finally:
        stream.seek(position)
    if size > MAX_EXIF_BYTES:
        logger.info("Refusing an upload with %d bytes of EXIF", size)
        raise ExifTooLarge()


def _jpeg_exif_bytes(stream) -> int:
    total = 0
    for segment in segments(stream):
        if segment.marker == SOS:
            break
        if segment.marker == APP1 and segment.head.startswith(_EXIF_HEADER):
            total += segment.end - segment.start
    return total


def _png_exif_bytes(stream) -> int:
    total, position = 0, len(_PNG_SIGNATURE)
    while True:
        stream.seek(position)
        header = stream.read(8)
        if len(header) < 8:
            return total
        length, kind = int.from_bytes(header[:4], "big"), header[4:]
        if kind == b"eXIf":
            total += length
        elif kind in _PNG_TEXT_CHUNKS and length > _MAX_RAW_PROFILE_CHARS:
            if stream.read(len(_RAW_PROFILE) + 1) == _RAW_PROFILE.encode() + b"\x00":
                total += length // 2
        elif kind == b"IEND":
            return total
        position += 12 + length  # length, type, data, CRC


def _webp_exif_bytes(stream) -> int:
    total, position = 0, 12  # "RIFF", size, "WEBP"
    while True:
        stream.seek(position)
        header = stream.read(8)
        if len(header) < 8:
            return total
        size = int.from_bytes(header[4:], "little")
        if header[:4] == b"EXIF":
            total += size
        position += 8 + size + (size & 1)  # chunks are padded to an even size


def orientation(info: dict) -> int:
    """The EXIF orientation (1-8) in an opened image's ``info``; 1 when absent, too large,
    corrupt, or not a single value. An oversized block is also removed from ``info``, so
    nothing later parses it."""
    raw, text = info.get("exif"), info.get(_RAW_PROFILE)
    # The block as bytes, or as a PNG text chunk's hex profile (two characters a byte).
    block = raw if isinstance(raw, bytes) else text if isinstance(text, str) else None
    size = 0 if block is None else len(block) if isinstance(block, bytes) else len(block) // 2
    if block is None or not size:
        return 1
    if size > MAX_EXIF_BYTES:
        logger.info("Ignoring EXIF of %d bytes, over %d", size, MAX_EXIF_BYTES)
        info.pop("exif", None)
        info.pop(_RAW_PROFILE, None)
        return 1
    try:
        if isinstance(block, str):
            block = bytes.fromhex("".join(block.split("\n")[3:]))
        return _orientation_in_tiff(block.removeprefix(_EXIF_HEADER))
    except (struct.error, ValueError) as exc:
        # A corrupt EXIF block must not cost the user their photo.
        logger.info("Ignoring unreadable EXIF orientation: %s", exc)
        return 1


def _orientation_in_tiff(tiff: bytes) -> int:
    order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(tiff[:4])
    if order is None:
        raise ValueError("not a TIFF header")
    (directory,) = struct.unpack_from(order + "I", tiff, 4)
    (entries,) = struct.unpack_from(order + "H", tiff, directory)
    for index in range(entries):
        entry = directory + 2 + index * _ENTRY_BYTES
        tag, kind, count = struct.unpack_from(order + "HHI", tiff, entry)
        if tag != ORIENTATION_TAG:
            continue
        if kind != _SHORT or count != 1:
            logger.info("Ignoring an EXIF orientation of type %d with %d values", kind, count)
            return 1
        (value,) = struct.unpack_from(order + "H", tiff, entry + 8)
        return value if 1 <= value <= 8 else 1
    return 1
