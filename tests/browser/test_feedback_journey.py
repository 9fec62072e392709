"""Journey 5: a visitor corrects an answer and shares the photo (with JavaScript, without it, and
by keyboard alone); an editor accepts it in the admin; export_dataset writes it, labelled,
without its location."""
import csv
import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from classifier.models import Identification
from core.wording import with_article
from feedback import photos
from feedback.models import Feedback
from testsupport.editors import log_in_on_page
from testsupport.feedback import has_location, jpeg_with_gps

GPS_PHOTO = jpeg_with_gps()  # the tabby, with a camera and a GPS position in its EXIF
CAT = {"name": "tabby.jpg", "mimeType": "image/jpeg", "buffer": GPS_PHOTO}


@pytest.fixture(autouse=True)
def model(installed_model):
    return installed_model


def identify(site, page):
    page.goto("/identify/")
    site.check(page)
    page.get_by_label("Photo of a cat").set_input_files(CAT)
    page.get_by_role("button", name="Identify").click()
    expect(page.locator(".result h2")).to_be_visible()  # the answer, whatever its level
    feedback = page.locator("#feedback-form")
    expect(feedback.get_by_role("group", name="Tell us whether the identifier got it right")
           ).to_be_visible()
    # Consent is never given by default.
    expect(feedback.get_by_label("Let catsite keep this photo to improve the identifier")
           ).not_to_be_checked()
    site.check(page)
    return feedback


def expect_thanks(site, page, name):
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(page.locator("#feedback-thanks")).to_contain_text(
        f"You told us it is {with_article(name)}.")
    expect(page.locator("#feedback-thanks")).to_contain_text("Your photo is kept privately")
    site.check(page)


def kept_feedback(label):
    feedback = Feedback.objects.get()
    assert feedback.label == label and feedback.status == "pending"
    kept = photos.read(feedback.photo)
    assert not has_location(kept)
    return feedback


def test_a_visitor_corrects_the_answer_and_shares_the_photo_with_javascript(
        site, screen, staff_user, tmp_path):
    page = site.new_page(phone=screen.phone)
    form = identify(site, page)
    # The photo travelled from the identify form: no file to choose again.
    expect(form.get_by_label("The same photo again")).to_be_hidden()

    search = form.get_by_role("searchbox", name="Search the species and breeds")
    search.fill("maine")
    expect(page.locator("#species-search-status")).to_have_text("1 match: Maine Coon")
    expect(form.get_by_label("What it is")).to_have_value("maine-coon")
    expect(form.get_by_label("No, it's a…")).to_be_checked()  # chosen by the search itself

    form.get_by_label("Let catsite keep this photo to improve the identifier").check()
    expect(page.locator("#photo-carried")).to_have_text(
        "Your photo will be sent again with your answer.")
    page.locator("#feedback-form").scroll_into_view_if_needed()
    site.screenshot(page, "feedback")
    form.get_by_role("button", name="Send my answer").click()
    expect_thanks(site, page, "Maine Coon")
    feedback = kept_feedback("maine-coon")

    # The explanation behind the link, and the photo on no public URL.
    page.goto("/feedback/photos/")
    expect(page.get_by_role("heading", level=1)).to_have_text("What keeping your photo means")
    site.check(page)
    assert page.request.get(f"/media/{feedback.photo}").status == 404

    # An editor accepts it in the admin and sees the photo, which a visitor cannot.
    anonymous = site.new_page(phone=screen.phone).request.get(
        f"/admin/feedback/feedback/{feedback.pk}/photo/", max_redirects=0)
    assert anonymous.status == 302 and "/admin/login/" in anonymous.headers["location"]

    admin = site.new_page(phone=screen.phone)
    admin.goto("/admin/feedback/feedback/")
    site.check(admin)
    log_in_on_page(admin)
    expect(admin).to_have_url(re.compile(r"/admin/feedback/feedback/$"))
    expect(admin.get_by_role("heading", name="Accepted photos per label")).to_be_visible()
    site.check(admin)
    admin.locator(f'input[name="_selected_action"][value="{feedback.pk}"]').check()
    admin.get_by_role("combobox", name="Action").select_option("accept")
    admin.get_by_role("button", name="Go").click()
    expect(admin.locator(".messagelist")).to_contain_text("1 feedback marked accepted.")
    expect(admin.locator(".feedback-counts")).to_contain_text("maine-coon")
    site.check(admin)
    admin.get_by_role("link", name=re.compile(r"^\d{1,2} \w+ \d{4}")).first.click()
    photo = admin.get_by_role("img", name=re.compile("The photo the visitor shared"))
    expect(photo).to_have_js_property("complete", True)
    assert photo.evaluate("img => img.naturalWidth") == 451
    site.check(admin)

    call_command("export_dataset", "--out", str(tmp_path / "ds"), stdout=io.StringIO())
    with open(tmp_path / "ds" / "labels.csv", newline="") as f:
        rows = [row for row in csv.DictReader(f) if row["label"] == "maine-coon"]
    assert len(rows) == 1
    assert not has_location((tmp_path / "ds" / rows[0]["file"]).read_bytes())


def test_a_visitor_corrects_the_answer_and_shares_the_photo_without_javascript(site, screen):
    page = site.new_page(phone=screen.phone, java_script_enabled=False)
    form = identify(site, page)
    expect(form.get_by_role("searchbox")).to_be_hidden()
    form.get_by_label("No, it's a…").check()
    form.get_by_label("What it is").select_option(label="Eurasian lynx")
    form.get_by_label("Let catsite keep this photo to improve the identifier").check()
    # Without a script the photo is chosen again; the server checks it is the same one.
    form.get_by_label("The same photo again").set_input_files(CAT)
    form.get_by_role("button", name="Send my answer").click()
    expect_thanks(site, page, "Eurasian lynx")
    kept_feedback("eurasian-lynx")


def test_without_javascript_a_forgotten_photo_is_asked_for_again(site, screen):
    page = site.new_page(phone=screen.phone, java_script_enabled=False)
    form = identify(site, page)
    form.get_by_label("No, it's a…").check()
    form.get_by_label("What it is").select_option(label="Not a cat")
    form.get_by_label("Let catsite keep this photo to improve the identifier").check()
    site.expect_status(400, f"/feedback/{Identification.objects.get().id}/")
    form.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose the same photo again")
    site.check(page)
    page.get_by_label("The same photo again").set_input_files(CAT)
    page.get_by_role("button", name="Send my answer").click()
    expect(page.locator("#feedback-thanks")).to_contain_text("You told us it is not a cat.")
    site.check(page)
    kept_feedback("not-a-cat")


def test_the_keyboard_alone_corrects_the_answer_and_shares_the_photo(site, screen):
    page = site.new_page(phone=screen.phone)
    identify(site, page)

    def focused():
        return page.evaluate("document.activeElement && (document.activeElement.id || "
                             "document.activeElement.textContent.trim())")

    for _ in range(40):  # through the answer's links to the feedback form
        page.keyboard.press("Tab")
        if focused() == "feedback_correct_0":
            break
    assert focused() == "feedback_correct_0", "Tab never reached the feedback form"
    page.keyboard.press("ArrowDown")  # "No, it's a…"
    assert focused() == "feedback_correct_1"
    page.keyboard.press("Tab")
    assert focused() == "species-search"
    page.keyboard.type("iberian")
    expect(page.locator("#species-search-status")).to_have_text("1 match: Iberian lynx")
    page.keyboard.press("Tab")
    assert focused() == "feedback_species"
    expect(page.locator("#feedback_species")).to_have_value("iberian-lynx")
    page.keyboard.press("Tab")
    assert focused() == "feedback_share_photo"
    page.keyboard.press("Space")
    expect(page.locator("#feedback_share_photo")).to_be_checked()
    page.keyboard.press("Tab")
    assert focused() == "What keeping a photo means"
    page.keyboard.press("Tab")
    assert focused() == "feedback-submit"  # the photo travelled: no file field in the way
    page.keyboard.press("Enter")
    expect_thanks(site, page, "Iberian lynx")
    kept_feedback("iberian-lynx")
