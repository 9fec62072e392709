"""The record of each answer the identifier gives: a random id to give feedback under, the
photo's sha256 (never the photo), the model and the answer (classifier.models.Identification).
The identify page and POST /api/classify/ record every answer; the feedback app reads them."""
from __future__ import annotations

import datetime
import hashlib

from django.conf import settings
from django.utils import timezone

from classifier.models import Identification
from species.models import Species

_CHUNK = 1 << 20


def sha256_of(upload) -> str:
    """sha256 of an uploaded file (a Django UploadedFile or any binary file object) or bytes,
    read in chunks from the start; the file is left at its start for the next reader."""
    if isinstance(upload, (bytes, bytearray, memoryview)):
        return hashlib.sha256(upload).hexdigest()
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in iter(lambda: upload.read(_CHUNK), b""):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def identification_create(*, photo, answer: dict, species: Species | None = None,
                          now: datetime.datetime | None = None) -> Identification:
    """Record an answer of the identifier under a new random id: the photo's sha256 (the photo
    itself is not kept), the model and the answer (the API's JSON: ``is_cat``, ``species``,
    ``model`` ...; timings left out). ``species``: the answered Species, when the caller has it
    (saves a query); else it is looked up from the answer's slug."""
    now = now or timezone.now()
    answer = {key: value for key, value in answer.items() if key not in ("id", "timings_ms")}
    slug = (answer.get("species") or {}).get("slug")
    if species is None and slug:
        species = Species.objects.filter(slug=slug).first()
    model = answer.get("model") or {}
    return Identification.objects.create(
        photo_sha256=sha256_of(photo),
        model_name=model.get("name", ""),
        model_version=model.get("version", ""),
        answer=answer,
        is_cat=bool(answer.get("is_cat")),
        predicted_species=species if slug else None,
        created_at=now,
        expires_at=now + datetime.timedelta(hours=settings.IDENTIFICATION_EXPIRY_HOURS),
    )
