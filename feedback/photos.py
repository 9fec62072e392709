"""Kept photos: re-encoded without metadata, content-addressed, in private storage.

The storage is Django's ``storages["feedback"]`` (settings.STORAGES): a folder outside
MEDIA_ROOT by default, or a private Azure blob container. Nothing here ever asks the storage for
a URL: the only way to see a kept photo is the staff-only admin view that streams it.
"""
from __future__ import annotations

import hashlib
import io

from django.core.files.base import ContentFile
from django.core.files.storage import storages
from PIL import Image

from catmodel.inference import DEFAULT_MAX_DECODE_BYTES, DecodeGate, decode_image
from classifier import runtime
from classifier.records import sha256_of  # noqa: F401 (photos.sha256_of: the same hash)

STORAGE_ALIAS = "feedback"
# Longest side of a kept photo. Enough for any training resolution in sight (the model reads
# 224 x 224) while a 12 MP photo shrinks to about a quarter of its bytes.
MAX_SIDE = 2048
JPEG_QUALITY = 90


def storage():
    return storages[STORAGE_ALIAS]


def reencode(data, *, max_decode_bytes: int = DEFAULT_MAX_DECODE_BYTES,
             gate: DecodeGate | None = None) -> bytes:
    """The photo as a fresh JPEG: orientation applied, RGB, at most MAX_SIDE pixels, and no
    metadata at all (no EXIF, so no GPS position, camera serial or time; no XMP, no comments,
    no ICC profile). Decoded as identification decodes: within ``max_decode_bytes``, through
    ``gate``, reduced while decoding to about MAX_SIDE (a 6000 x 6000 JPEG at 1/2 scale), and
    shrunk to fit before the gate's slot is given back.

    Deterministic: the same photo always gives the same bytes (content addressing and
    reproducible exports rely on it)."""
    image = decode_image(data, max_side=MAX_SIDE, max_decode_bytes=max_decode_bytes, gate=gate)
    # A new image holding only the pixels: whatever metadata Pillow kept in .info cannot follow.
    clean = Image.frombytes("RGB", image.size, image.tobytes())
    buffer = io.BytesIO()
    clean.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return buffer.getvalue()


def name_for(sha256: str) -> str:
    return f"photos/{sha256[:2]}/{sha256}.jpg"


def keep(data) -> tuple[str, str]:
    """Re-encode and store a photo; returns (storage name, sha256 of the stored bytes). The same
    photo is stored once, however many feedbacks refer to it."""
    clean = reencode(data, **runtime.upload_decode_limits())
    sha256 = hashlib.sha256(clean).hexdigest()
    name = name_for(sha256)
    store = storage()
    if not store.exists(name):
        saved = store.save(name, ContentFile(clean))
        if saved != name:  # lost a race with another upload of the same photo: same bytes
            store.delete(saved)
    return name, sha256


def read(name: str) -> bytes:
    with storage().open(name, "rb") as stored:
        return stored.read()


def delete(name: str) -> None:
    if name:
        storage().delete(name)
