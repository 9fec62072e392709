"""The marker segments of a JPEG file, walked as a decoder walks them, and what they say about
how libjpeg will decode the picture.

Written here because Pillow parses the segments up to the first scan but keeps neither the
scans nor their component counts, which decide what a decode costs (decode_memory).

Every marker with a length is skipped by that length (a comment or an EXIF block may hold any
bytes, ``FF D9`` included); after a start-of-scan segment the entropy-coded data is searched
for the next marker, where a stuffed ``FF 00``, a restart marker ``FF D0``-``FF D7`` and fill
bytes ``FF FF`` are data, as ITU T.81 B.1.1.2-B.1.1.5 says. The walk ends at the first
end-of-image: an MPO's second picture, after it, is not the upload's picture.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

JPEG_START = b"\xff\xd8\xff"  # SOI, then the first marker: how Pillow recognises a JPEG
SOI, EOI, SOS = 0xD8, 0xD9, 0xDA
APP1 = 0xE1
# Markers that stand alone, without a length: TEM, the restart markers, SOI.
_STANDALONE = {0x01, *range(0xD0, 0xD8), SOI}
# Start-of-frame markers (C4 is DHT, C8 JPG, CC DAC: not frames).
_FRAMES = set(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Progressive DCT (Huffman or arithmetic, plain or differential).
PROGRESSIVE_FRAMES = {0xC2, 0xC6, 0xCA, 0xCE}
# Lossless (and differential lossless): no DCT, so no scaled decode either.
LOSSLESS_FRAMES = {0xC3, 0xC7, 0xCB, 0xCF}
# The start of the next marker: 0xFF followed by anything but a stuffed zero or another fill
# byte; in entropy-coded data, restart markers are data too.
_MARKER_BETWEEN_SEGMENTS = re.compile(rb"\xff[^\x00\xff]")
_MARKER_IN_SCAN = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_HEAD = 8  # payload bytes kept of each segment: enough for a frame's or a scan's counts
_CHUNK = 1 << 16


@dataclass(frozen=True)
class Segment:
    marker: int  # the byte after 0xFF
    start: int  # offset of the marker's 0xFF
    end: int  # offset just past the segment (its entropy-coded data, for a scan, follows)
    head: bytes = b""  # the first bytes of the payload


def segments(stream) -> Iterator[Segment]:
    """Each segment of the first picture in the JPEG ``stream``, from SOI to its EOI. Bytes
    between segments that are no marker are skipped, as libjpeg and Pillow skip them; the walk
    stops, without raising, where the file ends. Moves the stream's position."""
    stream.seek(0)
    if stream.read(2) != b"\xff\xd8":
        return
    yield Segment(SOI, 0, 2)
    position, pattern = 2, _MARKER_BETWEEN_SEGMENTS
    while (marker_at := _next_marker(stream, position, pattern)) is not None:
        position = marker_at
        stream.seek(position + 1)
        marker = stream.read(1)[0]
        if marker == EOI:
            yield Segment(EOI, position, position + 2)
            return
        if marker in _STANDALONE:
            yield Segment(marker, position, position + 2)
            position, pattern = position + 2, _MARKER_BETWEEN_SEGMENTS
            continue
        length = int.from_bytes(stream.read(2), "big")
        if length < 2:
            return
        end = position + 2 + length
        yield Segment(marker, position, end, stream.read(min(_HEAD, length - 2)))
        position = end
        pattern = _MARKER_IN_SCAN if marker == SOS else _MARKER_BETWEEN_SEGMENTS


def _next_marker(stream, position: int, pattern: re.Pattern) -> int | None:
    """The offset of the first marker at or after ``position`` (None: the file ends first)."""
    while True:
        stream.seek(position)
        chunk = stream.read(_CHUNK)
        found = pattern.search(chunk)
        if found:
            return position + found.start()
        if len(chunk) < _CHUNK:
            return None
        # A 0xFF at the end may be the first half of a marker: read again from it.
        position += len(chunk) - (1 if chunk.endswith(b"\xff") else 0)


@dataclass(frozen=True)
class JpegLayout:
    frame: int | None  # the start-of-frame marker (0xC0 baseline, 0xC2 progressive, ...)
    components: int  # in the frame
    scans: int  # in the first picture
    first_scan_components: int

    @property
    def multi_scan(self) -> bool:
        """Whether libjpeg buffers the whole image's coefficients (full size, even for a 1/8
        decode): a progressive frame, or a first scan that carries fewer components than the
        frame (libjpeg's jdinput.c decides so at the first scan, whatever follows); more than
        one scan, or a lossless frame (which cannot be decoded smaller), are counted so too."""
        return (self.frame is None or self.frame in PROGRESSIVE_FRAMES
                or self.frame in LOSSLESS_FRAMES or self.scans > 1
                or self.first_scan_components < self.components)


def jpeg_layout(stream) -> JpegLayout:
    """The frame and scans of the JPEG ``stream``'s first picture; the position is put back.
    Reads at most the whole stream (already within the upload size limit)."""
    position = stream.tell()
    frame, components, scans, first_scan = None, 0, 0, 0
    try:
        for segment in segments(stream):
            if segment.marker in _FRAMES and frame is None and len(segment.head) >= 6:
                frame, components = segment.marker, segment.head[5]
            elif segment.marker == SOS and segment.head:
                scans += 1
                if scans == 1:
                    first_scan = segment.head[0]
    finally:
        stream.seek(position)
    return JpegLayout(frame, components, scans, first_scan)
