"""Journey: an editor reviews feedback in the admin at 1280 px: the list and the change page fit
the window, the photo included, and the change page says the verdict in words that agree with
its icon."""
import io
import re

from playwright.sync_api import expect

from classifier import records
from feedback import services
from species.models import Species
from testsupport import images
from testsupport.editors import log_in_on_page
from testsupport.feedback import jpeg_with_gps

# A wide photo at the size a phone shares it: the widest a review shows.
WIDE = jpeg_with_gps(images.chelsea().resize((1600, 1066)))


def fits_the_window(page) -> None:
    """Nothing wider than the window, and no column hidden behind the list's own scroll bar
    (Django's admin scrolls a wide result table inside its box)."""
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} is {overflow} px wider than the window"
    hidden = page.evaluate(
        "() => [...document.querySelectorAll('#changelist .results')]"
        ".map(box => box.scrollWidth - box.clientWidth)")
    assert all(width <= 0 for width in hidden), f"the result list scrolls by {hidden} px"


def identify_as_the_site_does(photo, species):
    """An identification by the real model's name and version (the list's widest texts)."""
    from testsupport.feedback import answer_for

    answer = answer_for(species)
    answer["model"] = {"name": "efficientnet-lite0-imagenet", "version": "2026.12.07-1"}
    return records.identification_create(photo=io.BytesIO(photo), answer=answer)


def test_an_editor_reviews_a_correction_at_1280_px(site, staff_user):
    tabby = Species.objects.get(slug="domestic-tabby")
    corrected = services.feedback_create(
        identification_id=identify_as_the_site_does(WIDE, tabby).id, correct=False,
        species="norwegian-forest-cat", share_photo=True, photo=io.BytesIO(WIDE))
    services.feedback_create(identification_id=identify_as_the_site_does(WIDE, tabby).id,
                             correct=True)
    services.feedback_create(identification_id=identify_as_the_site_does(WIDE, tabby).id,
                             correct=False, not_a_cat=True, share_photo=True,
                             photo=io.BytesIO(WIDE))

    page = site.new_page()  # 1280 x 800
    page.goto("/admin/feedback/feedback/")
    site.check(page)
    log_in_on_page(page)
    expect(page).to_have_url(re.compile(r"/admin/feedback/feedback/$"))
    expect(page.locator("#result_list")).to_contain_text("No photo: nothing to review")
    site.check(page)
    site.screenshot(page, "admin-feedback-list")
    fits_the_window(page)

    page.goto(f"/admin/feedback/feedback/{corrected.pk}/change/")
    photo = page.get_by_role("img", name=re.compile("The photo the visitor shared"))
    expect(photo).to_have_js_property("complete", True)
    box = photo.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 1280, box
    said = page.locator(".field-visitor_said")
    expect(said).to_contain_text("The answer was wrong: it is a Norwegian Forest Cat.")
    assert said.locator("img").get_attribute("src").endswith("icon-no.svg")
    site.check(page)
    fits_the_window(page)
    site.screenshot(page, "admin-feedback-review")
