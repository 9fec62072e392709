"""The decoder's limits as the page and the API answer them: a large photo while every decode
slot is taken gets 503 with Retry-After; an image over the memory budget 413 naming its format;
the page decodes each upload once; the settings are checked."""
import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.urls import reverse
from PIL import Image

from classifier import runtime
from testsupport import images
from testsupport.web_fixtures import upload

pytestmark = pytest.mark.django_db

PAGE = reverse("classifier:identify")
API = reverse("api:classify")


@pytest.fixture
def large_png():
    """A PNG whose decode needs a slot of the gate (about 31 MB at 4 bytes a pixel)."""
    return images.encode(Image.new("RGB", (2800, 2800), (200, 120, 40)), "PNG")


@pytest.fixture
def no_waiting(settings, installed_model):
    settings.IDENTIFY_DECODE_WAIT_SECONDS = 0
    classifier = runtime.load(force=True)
    assert classifier.decode_gate.wait_seconds == 0
    return classifier


def test_api_answers_503_with_retry_after_while_the_decode_slots_are_taken(client, no_waiting,
                                                                            large_png):
    with no_waiting.decode_gate.slot():
        response = client.post(API, {"image": upload(large_png, "big.png", "image/png")})
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "busy"
    # The slot is free again: the same photo is identified.
    assert client.post(API, {"image": upload(large_png, "big.png", "image/png")}).status_code == 200


def test_page_answers_503_with_retry_after_while_the_decode_slots_are_taken(client, no_waiting,
                                                                             large_png):
    with no_waiting.decode_gate.slot():
        response = client.post(PAGE, {"image": upload(large_png, "big.png", "image/png")})
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert "Many large photos are being identified right now" in response.content.decode()


def test_a_phone_photo_is_not_held_up_by_a_large_decode(client, no_waiting):
    with no_waiting.decode_gate.slot():
        photo = images.jpeg(images.chelsea(), size=(4000, 3000))
        assert client.post(API, {"image": upload(photo)}).status_code == 200


def test_the_memory_budget_is_a_setting_and_refusals_name_the_format(client, settings,
                                                                      installed_model):
    settings.IDENTIFY_DECODE_MEMORY_MB = 24
    runtime.load(force=True)
    response = client.post(API, {"image": upload(images.png_declaring(6000, 6000), "big.png",
                                                 "image/png")})
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "too_many_pixels"
    assert "accepted for PNG images" in error["message"]


def test_the_page_decodes_the_upload_once(client, installed_model, monkeypatch):
    from catmodel.inference import decode

    photo = images.jpeg(images.chelsea())  # made before counting (scikit-image opens files)
    opened = []
    real_open = decode.Image.open

    def counting_open(*args, **kwargs):
        opened.append(1)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(decode.Image, "open", counting_open)
    response = client.post(PAGE, {"image": upload(photo)})
    assert response.status_code == 200
    assert 'src="data:image/jpeg;base64,' in response.content.decode()  # the photo is shown
    assert len(opened) == 1


@pytest.mark.parametrize("name, value", [
    ("IDENTIFY_DECODE_MEMORY_MB", 8),
    ("IDENTIFY_LARGE_DECODES", 0),
    ("IDENTIFY_DECODE_WAIT_SECONDS", -1),
])
def test_bad_decode_settings_fail_the_system_checks(settings, name, value):
    setattr(settings, name, value)
    with pytest.raises(SystemCheckError, match=name):
        call_command("check")
