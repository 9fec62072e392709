"""The identify page and POST /api/classify/: results, every kind of bad upload, no model."""
import pytest
from django.urls import reverse

from classifier.tests.web_fixtures import cat_jpeg, coffee_jpeg, upload
from testsupport import images

pytestmark = pytest.mark.django_db

PAGE = reverse("classifier:identify")
API = reverse("api:classify")

# Each bad upload: (file name, bytes, expected status, expected error code).
BAD_UPLOADS = {
    "empty file": ("cat.jpg", b"", 400, "invalid_image"),
    "text named .jpg": ("cat.jpg", images.TEXT, 400, "invalid_image"),
    "truncated JPEG": ("cat.jpg", images.truncated(cat_jpeg()), 400, "invalid_image"),
    "PDF": ("cat.pdf", images.PDF_HEAD, 415, "unsupported_format"),
    "SVG": ("cat.svg", images.SVG_TEXT, 415, "unsupported_format"),
    "decompression bomb": ("bomb.png", images.png_declaring(100_000, 100_000), 413,
                           "too_many_pixels"),
}


def test_page_offers_the_form(client, installed_model):
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert 'name="image"' in html and 'accept="image/*"' in html
    assert 'capture="environment"' in html  # the camera button's input, on phones
    assert "csrfmiddlewaretoken" in html
    assert "not available" not in html


def test_page_identifies_a_cat_and_shows_its_species_card(client, installed_model):
    response = client.post(PAGE, {"image": upload(cat_jpeg())})
    assert response.status_code == 200
    html = response.content.decode()
    assert "This looks like a Domestic tabby cat" in html
    assert reverse("species:detail", kwargs={"slug": "domestic-tabby"}) in html
    assert html.count('<meter class="bar') == 5
    assert 'src="data:image/jpeg;base64,' in html  # the photo, shown without being stored
    assert 'class="upload"' in html  # and the form again, for the next photo


def test_page_says_not_a_cat_and_what_it_looks_like(client, installed_model):
    response = client.post(PAGE, {"image": upload(coffee_jpeg())})
    assert response.status_code == 200
    html = response.content.decode()
    assert "This does not look like a cat" in html
    assert "espresso" in html


def test_api_identifies_a_cat(client, installed_model):
    response = client.post(API, {"image": upload(cat_jpeg())})
    assert response.status_code == 200
    body = response.json()
    assert body["is_cat"] is True
    assert body["species"]["slug"] == "domestic-tabby"
    assert body["species"]["url"].endswith("/species/domestic-tabby/")
    assert body["model"] == {"name": installed_model.name, "version": installed_model.version}
    assert len(body["predictions"]) == 5
    assert body["predictions"][0]["species"]["slug"] == "domestic-tabby"
    assert set(body["timings_ms"]) == {"decode", "preprocess", "inference", "total"}


def test_api_non_cat_has_labels_without_species(client, installed_model):
    body = client.post(API, {"image": upload(coffee_jpeg())}).json()
    assert body["is_cat"] is False and body["species"] is None
    assert body["predictions"][0] == {
        "label": "espresso", "probability": body["predictions"][0]["probability"],
        "species": None, "labels": ["espresso"],
    }


def test_api_without_a_file(client, installed_model):
    response = client.post(API, {})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_image"


@pytest.mark.parametrize("case", BAD_UPLOADS)
def test_bad_uploads_get_a_clear_4xx_and_the_next_request_works(client, installed_model, case):
    name, data, status, code = BAD_UPLOADS[case]
    response = client.post(API, {"image": upload(data, name=name)})
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code and len(error["message"]) > 20

    page = client.post(PAGE, {"image": upload(data, name=name)})
    assert page.status_code == status
    assert "That did not work." in page.content.decode()
    assert 'name="image"' in page.content.decode()  # the form is still there

    assert client.post(API, {"image": upload(cat_jpeg())}).json()["is_cat"] is True


def test_page_without_a_file_explains(client, installed_model):
    response = client.post(PAGE, {})
    assert response.status_code == 400
    assert "No photo was sent." in response.content.decode()


def test_a_huge_animated_gif_is_identified_from_its_first_frame(client, installed_model):
    gif = images.noisy_animated_gif((200, 120, 40), frames=150, size=(256, 256))
    assert len(gif) > 5_000_000  # many noisy frames: only the first may be decoded
    response = client.post(API, {"image": upload(gif, name="big.gif", content_type="image/gif")})
    assert response.status_code == 200


def test_file_over_the_byte_limit_is_413(client, installed_model, settings):
    settings.UPLOAD_MAX_BYTES = 4096
    response = client.post(API, {"image": upload(cat_jpeg())})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"


def test_a_body_declared_larger_than_the_limit_is_refused_before_it_is_read(
    client, installed_model, settings
):
    settings.UPLOAD_MAX_BYTES = 20 * 1024 * 1024
    big = b"\xff\xd8" + b"\0" * (21 * 1024 * 1024)
    response = client.post(API, {"image": upload(big)})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"
    page = client.post(PAGE, {"image": upload(big)})
    assert page.status_code == 413
    assert "That photo is too large" in page.content.decode()


def test_uploads_are_never_written_to_media(client, installed_model, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 10  # force Django's temp-file path
    # Both identified (not refused before reading the upload), and nothing kept.
    assert client.post(API, {"image": upload(cat_jpeg(size=(1600, 1200)))}).status_code == 200
    assert client.post(PAGE, {"image": upload(cat_jpeg())}).status_code == 200
    assert not (tmp_path / "media").exists() or not any((tmp_path / "media").rglob("*"))


def test_without_a_model_pages_work_and_identification_answers_503(client, no_model, settings):
    page = client.get(PAGE)
    assert page.status_code == 200
    assert "Identification is not available right now." in page.content.decode()
    response = client.post(API, {"image": upload(cat_jpeg())})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "model_unavailable"
    assert client.post(PAGE, {"image": upload(cat_jpeg())}).status_code == 503
    assert client.get("/").status_code == 200
    assert client.get("/readyz").status_code == 200
    settings.MODEL_REQUIRED = True
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["model"]["ok"] is False


def test_version_and_readiness_name_the_model(client, installed_model, settings):
    settings.MODEL_REQUIRED = True
    assert client.get("/readyz").status_code == 200
    model = client.get("/version").json()["model"]
    assert model == {"name": installed_model.name, "version": installed_model.version,
                     "loaded": True, "service": False}


def test_classify_is_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/classify/"]["post"]
    assert "multipart/form-data" in operation["requestBody"]["content"]
    assert {"200", "400", "413", "415", "503"} <= set(operation["responses"])
