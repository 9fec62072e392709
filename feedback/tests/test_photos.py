"""Kept photos: re-encoded upright, without any metadata, the same bytes every time."""
import io

import pytest
from PIL import Image

from feedback import photos
from testsupport import images
from testsupport.feedback import CAMERA, gps_of, has_location, jpeg_with_gps


def test_a_gps_position_in_none_out():
    photo = jpeg_with_gps()
    assert gps_of(photo)[2] == (52.0, 31.0, 12.5)  # the input really has a position
    kept = photos.reencode(photo)
    assert gps_of(kept) == {} and not has_location(kept)
    assert CAMERA.encode() not in kept
    assert Image.open(io.BytesIO(kept)).info.keys() <= {"jfif", "jfif_version", "jfif_unit",
                                                         "jfif_density"}


@pytest.mark.parametrize("orientation, size", [(1, (451, 300)), (6, (300, 451)), (8, (300, 451)),
                                               (3, (451, 300))])
def test_the_orientation_is_applied_to_the_pixels(orientation, size):
    kept = Image.open(io.BytesIO(photos.reencode(jpeg_with_gps(orientation=orientation))))
    assert kept.size == size and not kept.getexif()


def test_the_same_photo_gives_the_same_bytes():
    photo = jpeg_with_gps()
    assert photos.reencode(photo) == photos.reencode(photo)


def test_a_large_photo_is_decoded_reduced_and_within_the_budget():
    from catmodel.inference import TooManyPixels

    photo = images.jpeg(images.chelsea(), size=(6000, 6000))
    # 144 MB at full size; decoded at 1/2 (3000 x 3000, 36 MB), it fits a 40 MB budget.
    kept = Image.open(io.BytesIO(photos.reencode(photo, max_decode_bytes=40_000_000)))
    assert kept.size == (2048, 2048)
    with pytest.raises(TooManyPixels):
        photos.reencode(photo, max_decode_bytes=30_000_000)


def test_large_photos_are_kept_at_most_2048_pixels():
    kept = Image.open(io.BytesIO(photos.reencode(images.jpeg(images.chelsea(),
                                                             size=(4000, 3000)))))
    assert max(kept.size) == photos.MAX_SIDE and kept.size == (2048, 1536)


@pytest.mark.django_db
def test_keeping_is_content_addressed_and_stores_once():
    photo = jpeg_with_gps()
    name, sha256 = photos.keep(photo)
    assert (name, sha256) == photos.keep(io.BytesIO(photo).getvalue())
    assert name == f"photos/{sha256[:2]}/{sha256}.jpg"
    assert photos.storage().listdir(f"photos/{sha256[:2]}")[1] == [f"{sha256}.jpg"]
