"""Test helpers for feedback: photos with a GPS position, identifications as the site records
them (from the same answer shape the API gives)."""
from __future__ import annotations

import io

from PIL import ExifTags, Image

from testsupport import images

# Berlin, as a camera writes it: degrees, minutes, seconds.
LATITUDE = (52.0, 31.0, 12.5)
LONGITUDE = (13.0, 24.0, 36.0)
CAMERA = "CatCam 3000 serial 123456"


def jpeg_with_gps(image: Image.Image | None = None, orientation: int = 1) -> bytes:
    """A real photo (the tabby) as a phone would save it: EXIF with the camera, an orientation
    and a GPS position."""
    image = image or images.chelsea()
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Model] = CAMERA
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = LATITUDE
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = LONGITUDE
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=92)
    return buffer.getvalue()


def gps_of(data: bytes) -> dict:
    """The GPS IFD of a JPEG (empty when it has none)."""
    return dict(Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo))


def has_location(data: bytes) -> bool:
    """Any trace of the position or the camera: in the EXIF or anywhere in the bytes."""
    return bool(gps_of(data)) or b"Exif" in data or CAMERA.encode() in data


def answer_for(species=None, *, is_cat: bool | None = None, label: str = "tabby") -> dict:
    """An answer shaped like POST /api/classify/'s, naming ``species`` (or not a cat)."""
    is_cat = species is not None if is_cat is None else is_cat
    ref = {"slug": species.slug, "name": species.common_name} if species is not None else None
    return {
        "is_cat": is_cat,
        "cat_probability": 0.9 if is_cat else 0.01,
        "species": ref if is_cat else None,
        "predictions": [{"label": species.common_name if species else label,
                         "probability": 0.9, "species": ref, "labels": [label]}],
        "model": {"name": "test-model", "version": "1.0.0"},
    }


def identify(photo: bytes, species=None, **kwargs):
    """Record an identification of ``photo`` answered as ``species`` (or not a cat; or, with
    ``group`` (a name such as "lynx") and is_cat=True, a group above species level), by the
    model ``model_name`` ``model_version``."""
    from classifier import records

    answer = answer_for(species, is_cat=kwargs.pop("is_cat", None))
    group = kwargs.pop("group", None)
    if group is not None:
        answer["taxon"] = {"rank": "genus", "name": group, "scientific_name": group.title()}
    answer["model"]["name"] = kwargs.pop("model_name", "test-model")
    answer["model"]["version"] = kwargs.pop("model_version", "1.0.0")
    return records.identification_create(photo=io.BytesIO(photo), answer=answer, **kwargs)
