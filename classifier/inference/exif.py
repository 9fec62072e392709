"""The EXIF orientation of an upload, read without letting anyone's EXIF cost memory.

An EXIF block is a TIFF directory whose entries declare their own value counts: Pillow's parser
(``Image.getexif``) turns every entry of the first directory into Python values, so one entry
declared as SHORT[9,000,000] became a tuple of nine million ints (730 MB for an 18 MB PNG
``eXIf`` chunk on a 64 x 64 image). Hence:
- EXIF over MAX_EXIF_BYTES is ignored (the photo is kept as stored): a JPEG's, whose APP1
  segments Pillow joins and parses while opening the file, is removed before Pillow opens it;
  a PNG's (``eXIf``, or a ``Raw profile type exif`` text chunk) or a WebP's ``EXIF`` chunk is
  dropped before anything parses it. One APP1 segment, what cameras write, holds at most 64 KB;
- the orientation is read here, by walking the first directory's entries without
  materialising any of them, and only from an entry holding exactly one value (EXIF 2.3 gives
  Orientation one SHORT); Pillow's parser also hides how many values an entry held.
"""
from __future__ import annotations

import io
import logging
import struct

from .jpeg_structure import APP1, SOS, segments

logger = logging.getLogger(__name__)

MAX_EXIF_BYTES = 64 * 1024
ORIENTATION_TAG = 0x0112
_EXIF_HEADER = b"Exif\x00\x00"
_SHORT = 3
_ENTRY_BYTES = 12
# PNG text chunk that ImageMagick and exiftool write EXIF into, as hex: "\nexif\n  LEN\nHEX...".
_RAW_PROFILE = "Raw profile type exif"


def jpeg_without_large_exif(stream) -> io.BytesIO | None:
    """A copy of the JPEG ``stream`` without its EXIF segments when they add up to more than
    MAX_EXIF_BYTES (None: nothing to remove; the stream is left as it was). The copy costs
    the file's size, once, for such files only."""
    position = stream.tell()
    try:
        exif = [s for s in _segments_before_first_scan(stream)
                if s.marker == APP1 and s.head.startswith(_EXIF_HEADER)]
        if sum(s.end - s.start for s in exif) <= MAX_EXIF_BYTES:
            return None
        stream.seek(0)
        data = stream.read()
    finally:
        stream.seek(position)
    logger.info("Ignoring %d EXIF segments over %d bytes in a JPEG", len(exif), MAX_EXIF_BYTES)
    kept, start = [], 0
    for segment in exif:
        kept.append(data[start:segment.start])
        start = segment.end
    kept.append(data[start:])
    return io.BytesIO(b"".join(kept))


def _segments_before_first_scan(stream):
    for segment in segments(stream):
        if segment.marker == SOS:
            return
        yield segment


def orientation(info: dict) -> int:
    """The EXIF orientation (1-8) in an opened image's ``info``; 1 when absent, too large,
    corrupt, or not a single value. An oversized block is also removed from ``info``, so
    nothing later parses it."""
    raw, text = info.get("exif"), info.get(_RAW_PROFILE)
    raw = raw if isinstance(raw, bytes) else None
    text = text if isinstance(text, str) else None
    size = len(raw) if raw is not None else len(text) // 2 if text is not None else 0
    if not size:
        return 1
    if size > MAX_EXIF_BYTES:
        logger.info("Ignoring EXIF of %d bytes, over %d", size, MAX_EXIF_BYTES)
        info.pop("exif", None)
        info.pop(_RAW_PROFILE, None)
        return 1
    try:
        if raw is None:
            raw = bytes.fromhex("".join(text.split("\n")[3:]))
        return _orientation_in_tiff(raw.removeprefix(_EXIF_HEADER))
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
