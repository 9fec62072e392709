"""The identify page with photos that are not plain RGB JPEGs (found by tests/fuzz): it shows
the result and the photo; decoding never closes the caller's file."""
import io

import pytest
from django.urls import reverse

from catmodel.inference import decode_image
from testsupport import images
from testsupport.web_fixtures import upload

NOT_RGB = {
    "PNG with transparency": lambda: images.encode(images.chelsea().convert("RGBA"), "PNG"),
    "palette PNG": images.palette_with_transparency,
    "CMYK JPEG": lambda: images.cmyk_jpeg(images.chelsea()),
    "greyscale JPEG": lambda: images.encode(images.chelsea().convert("L"), "JPEG"),
    "GIF": lambda: images.encode(images.chelsea().convert("P"), "GIF"),
}


@pytest.mark.parametrize("make", NOT_RGB.values(), ids=NOT_RGB.keys())
def test_decoding_leaves_the_callers_file_open(make):
    stream = io.BytesIO(make())
    decode_image(stream, min_side=256)
    assert not stream.closed
    decode_image(stream, min_side=256)  # and it can be read again


@pytest.mark.django_db
@pytest.mark.parametrize("make", NOT_RGB.values(), ids=NOT_RGB.keys())
def test_page_shows_result_and_photo_for_every_mode(client, installed_model, make):
    response = client.post(reverse("classifier:identify"), {"image": upload(make(), "p.img")})
    assert response.status_code == 200
    assert 'src="data:image/jpeg;base64,' in response.content.decode()
