"""The feedback form on the result page, without JavaScript: CSRF, every answer, the thanks, the
explanation page and deleting an answer by its reference."""
import io
import re

import pytest
from django.test import Client

from classifier.models import Identification
from feedback import photos
from feedback.models import Feedback
from testsupport.feedback import has_location, jpeg_with_gps

pytestmark = pytest.mark.django_db
PHOTO = jpeg_with_gps()


@pytest.fixture(autouse=True)
def model(installed_model):
    return installed_model


@pytest.fixture
def browser():
    """A client that checks CSRF tokens as the site does for a browser."""
    return Client(enforce_csrf_checks=True)


def identify(browser):
    page = browser.get("/identify/")
    token = page.cookies["csrftoken"].value
    response = browser.post("/identify/", {"image": io.BytesIO(PHOTO),
                                           "csrfmiddlewaretoken": token})
    assert response.status_code == 200
    html = response.content.decode()
    identification = Identification.objects.latest("created_at")
    return identification, html, token


def test_the_result_page_asks_whether_it_is_right(browser):
    identification, html, _ = identify(browser)
    assert f'action="/feedback/{identification.id}/"' in html
    assert "Is this right?" in html
    for value in ("true", "false", "unknown"):
        assert f'name="correct" value="{value}"' in html
    # Every encyclopedia entry is a choice, and "not a cat".
    assert '<option value="not-a-cat">Not a cat</option>' in html
    assert '<option value="maine-coon">Maine Coon</option>' in html
    assert len(re.findall(r'<option value="[a-z-]+"', html)) >= 60
    # Consent is off by default and explained.
    checkbox = re.search(r'<input type="checkbox" name="share_photo"[^>]*>', html).group(0)
    assert "checked" not in checkbox
    assert 'href="/feedback/photos/"' in html
    assert "/static/js/feedback.js" in html


def test_a_correction_with_the_photo_through_the_page(browser):
    identification, _, token = identify(browser)
    response = browser.post(f"/feedback/{identification.id}/", {
        "csrfmiddlewaretoken": token, "correct": "false", "species": "abyssinian",
        "share_photo": "on", "image": io.BytesIO(PHOTO)})
    assert response.status_code == 201
    assert "You told us it is an Abyssinian." in response.content.decode()
    assert identification.id in response.content.decode()  # the reference to delete it
    feedback = Feedback.objects.get()
    assert feedback.label == "abyssinian" and not has_location(photos.read(feedback.photo))


def test_without_the_csrf_token_nothing_is_recorded(browser):
    identification, _, _ = identify(browser)
    response = browser.post(f"/feedback/{identification.id}/", {"correct": "true"})
    assert response.status_code == 403
    assert not Feedback.objects.exists()


@pytest.mark.parametrize("fields, message", [
    ({"correct": "false"}, "Choose what it is, or &#x27;Not a cat&#x27;."),
    ({}, "Choose an answer: yes, no or I don"),
    ({"correct": "false", "species": "lion", "share_photo": "on"}, "Choose the same photo again"),
])
def test_an_incomplete_form_comes_back_with_what_is_missing(browser, fields, message):
    identification, _, token = identify(browser)
    response = browser.post(f"/feedback/{identification.id}/",
                            {"csrfmiddlewaretoken": token, **fields})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Feedback.objects.exists()


def test_another_photo_is_refused_on_the_page_too(browser):
    identification, _, token = identify(browser)
    response = browser.post(f"/feedback/{identification.id}/", {
        "csrfmiddlewaretoken": token, "correct": "false", "species": "lion",
        "share_photo": "on", "image": io.BytesIO(jpeg_with_gps(orientation=3))})
    assert response.status_code == 400
    assert "This is not the photo that was identified." in response.content.decode()


def test_i_dont_know_records_nothing(browser):
    identification, _, token = identify(browser)
    response = browser.post(f"/feedback/{identification.id}/", {
        "csrfmiddlewaretoken": token, "correct": "unknown", "share_photo": "on",
        "image": io.BytesIO(PHOTO)})
    assert response.status_code == 200
    assert "Nothing was recorded" in response.content.decode()
    assert not Feedback.objects.exists() and not photos.storage().exists("photos")


def test_unknown_ids_get_a_404_page(browser):
    assert browser.get("/feedback/" + "0" * 32 + "/").status_code == 404


def test_the_form_on_its_own_page(browser):
    identification, _, _ = identify(browser)
    html = browser.get(f"/feedback/{identification.id}/").content.decode()
    assert f"<strong>{identification.answer_text}</strong>" in html and 'name="correct"' in html


def test_the_explanation_and_deleting_by_reference(browser, django_capture_on_commit_callbacks):
    identification, _, token = identify(browser)
    browser.post(f"/feedback/{identification.id}/", {
        "csrfmiddlewaretoken": token, "correct": "false", "species": "lion",
        "share_photo": "on", "image": io.BytesIO(PHOTO)})
    name = Feedback.objects.get().photo
    page = browser.get("/feedback/photos/").content.decode()
    assert "GPS position" in page and "never shown" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post("/feedback/withdraw/", {"csrfmiddlewaretoken": token,
                                                       "reference": identification.id})
    assert response.status_code == 200 and "are deleted" in response.content.decode()
    assert not Feedback.objects.exists() and not photos.storage().exists(name)
    # The id takes no feedback again: the form says so rather than recording a new answer.
    again = browser.post(f"/feedback/{identification.id}/", {
        "csrfmiddlewaretoken": token, "correct": "true"})
    assert again.status_code == 410 and "was withdrawn" in again.content.decode()
    assert not Feedback.objects.exists()
