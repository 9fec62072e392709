"""Journey 3: an editor logs in to the admin, changes a species, and sees it on the public page."""
import re

from playwright.sync_api import expect

from testsupport import images
from testsupport.editors import log_in_on_page


def test_an_editor_changes_text_and_photo_and_the_public_page_shows_them(site, staff_user):
    page = site.new_page()
    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/"))
    site.check(page)

    # A wrong password is refused, and the editor stays on the login page.
    log_in_on_page(page, password="not-the-password")
    expect(page.locator(".errornote")).to_contain_text("correct username and password")
    expect(page).to_have_url(re.compile(r"/admin/login/"))
    site.check(page)

    log_in_on_page(page)
    expect(page).to_have_url(re.compile(r"/admin/$"))
    site.check(page)

    # Find the Sand cat through the admin's own list and search.
    page.get_by_role("link", name="Species", exact=True).first.click()
    site.check(page)
    page.locator("#searchbar").fill("Sand cat")
    page.locator("#changelist-search").get_by_role("button").click()
    site.check(page)
    page.get_by_role("link", name="Sand cat", exact=True).click()
    expect(page.get_by_label("Common name")).to_have_value("Sand cat")
    site.check(page)

    summary = "A tiny desert cat that never needs to drink: edited in the browser test."
    page.get_by_label("Summary").fill(summary)
    page.locator("#id_image").set_input_files(
        {"name": "sand-cat.jpg", "mimeType": "image/jpeg", "buffer": images.jpeg(images.chelsea())}
    )
    page.locator("#id_image_alt").fill("A cat resting its chin on a table")
    page.locator("#id_image_credit").fill("Stefan van der Walt, scikit-image")
    page.get_by_role("button", name="Save", exact=True).first.click()
    expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
    site.check(page)

    # The public page has the new text and the uploaded photo, which really loads.
    page.goto("/species/sand-cat/")
    expect(page.locator(".species-header .lead")).to_have_text(summary)
    photo = page.locator(".species-figure img")
    expect(photo).to_have_attribute("src", re.compile(r"^/media/species/sand-cat.*\.jpg$"))
    expect(photo).to_have_attribute("alt", "A cat resting its chin on a table")
    expect(photo).to_have_js_property("complete", True)
    assert photo.evaluate("img => img.naturalWidth") == 451
    expect(page.locator(".species-figure figcaption")).to_have_text(
        "Photo: Stefan van der Walt, scikit-image"
    )
    site.check(page)


def test_an_editor_adds_a_breed_through_its_own_form(site, staff_user):
    page = site.new_page()
    page.goto("/admin/login/?next=/admin/")
    site.check(page)
    log_in_on_page(page)
    # The two kinds of group have names of their own.
    main = page.locator("#content-main")
    expect(main.get_by_role("link", name="Login groups", exact=True)).to_be_visible()
    expect(main.get_by_role("link", name="Taxonomic groups", exact=True)).to_be_visible()
    site.check(page)

    # The bare add link asks which kind first.
    main.get_by_role("row", name="Species").get_by_role("link", name="Add").click()
    expect(page.get_by_role("link", name="Add domestic breed")).to_be_visible()
    site.check(page)
    page.get_by_role("link", name="Add domestic breed").click()
    expect(page.get_by_role("heading", name="Add domestic breed")).to_be_visible()
    expect(page.get_by_label("Temperament")).to_be_visible()
    expect(page.get_by_label("Conservation status")).to_have_count(0)
    expect(page.get_by_label("Scientific name")).to_have_value("Felis catus")
    site.check(page)
    page.get_by_label("Common name").fill("Test Bombay")
    page.get_by_label("Summary").fill("A breed added in the browser test.")
    page.get_by_label("Description").fill("One.\n\nTwo.\n\nThree.")
    page.get_by_label("Native range").fill("Kentucky")
    page.get_by_label("Temperament").fill("Affectionate.")
    page.get_by_label("Care notes").fill("Little grooming.")
    page.get_by_role("button", name="Save", exact=True).first.click()
    expect(page.locator(".messagelist")).to_contain_text("was added successfully")
    site.check(page)

    page.goto("/species/test-bombay/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Test Bombay")
    site.check(page)
