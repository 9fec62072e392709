"""Every page on a phone (390 px) and a desktop (1280 px), issue 21: site.check(page) finds no
sideways scrolling, no clipped control, no console error or CSP violation, no serious axe-core
violation (tests/browser/layout.py, conftest.py)."""
import re

import pytest
from django.template.loader import render_to_string
from playwright.sync_api import expect

from tests.browser.test_identify_journey import CAT, COFFEE

# The pages nobody needs a photo for, and what each must show.
PAGES = {
    "/": "Every cat, wild or on your sofa",
    "/species/": "Species and breeds",
    "/species/?q=siamese": "Species and breeds",
    "/species/?kind=wild&status=CR&genus=Felis": "Species and breeds",
    "/species/snow-leopard/": "Snow leopard",
    "/species/maine-coon/": "Maine Coon",
    "/model/": "The photo identifier's model card",
    "/about/": "About",
    "/feedback/photos/": "photo",
}


@pytest.fixture(autouse=True)
def model(installed_model):
    return installed_model


def test_every_page_holds_on_this_screen(site, screen):
    page = site.new_page(phone=screen.phone)
    for path, heading in PAGES.items():
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        site.check(page)

    site.expect_status(404, "/no/such/page/")
    page.goto("/no/such/page/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    site.check(page)

    # The 500 page cannot be caused on purpose: its markup, on the site's origin and styles.
    page.goto("/about/")
    page.set_content(render_to_string("500.html"))
    page.wait_for_load_state("load")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    site.check(page)


def test_the_species_search_shows_why_each_entry_matched(site, screen):
    page = site.new_page(phone=screen.phone)
    page.goto("/species/?q=siamese")
    marks = page.locator(".card-snippet mark")
    expect(marks.first).to_be_visible()
    assert all(m.lower().startswith("siames") for m in marks.all_inner_texts())
    site.check(page)


def test_the_api_docs_hold_and_show_no_locks(site, screen):
    page = site.new_page(phone=screen.phone)
    page.goto("/api/docs/")
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Authorize"))).to_have_count(0)
    expect(page.locator(".authorization__btn")).to_have_count(0)
    # Swagger UI puts its copy button inside each operation's summary button: its own markup,
    # which a stylesheet cannot change.
    site.check(page, known=("nested-interactive",))


def test_answers_feedback_and_thanks_hold_on_this_screen(site, screen):
    page = site.new_page(phone=screen.phone)
    page.goto("/identify/")
    site.check(page)
    picker = page.locator(".photo-picker")
    expect(picker.get_by_text("Take or choose a photo")).to_be_visible()
    expect(picker.locator(".photo-name")).to_have_text("No photo chosen yet")
    page.get_by_label("Photo of a cat").set_input_files(COFFEE)
    expect(picker.locator(".photo-name")).to_have_text("Chosen: coffee.jpg")
    page.get_by_role("button", name="Identify").click()
    expect(page.get_by_role("heading", name="Other things it might be")).to_be_visible()
    site.check(page)

    page.get_by_label("Photo of a cat").set_input_files(CAT)
    page.get_by_role("button", name="Identify").click()
    expect(page.locator(".result h2")).to_have_text("This is a domestic cat")
    site.check(page)
    form = page.locator("#feedback-form")
    form.get_by_label("No, it's a…").check()
    form.get_by_label("Let catsite keep this photo to improve the identifier").check()
    site.expect_status(400, form.get_attribute("action"))
    form.get_by_role("button", name="Send my answer").click()
    # No entry chosen: the error, on a page that holds too.
    expect(page.get_by_role("alert").first).to_be_visible()
    site.check(page)
    # An entry chosen, the photo (which travelled only once) not: the error again, and the
    # chosen entry shows as chosen, in view in the list box.
    page.get_by_label("What it is").select_option(label="Iberian lynx")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("alert").first).to_contain_text("Choose the same photo again")
    expect(page.locator("#species-search-status")).to_have_text("Chosen: Iberian lynx")
    chosen = page.locator("#feedback_species option:checked")
    expect(chosen).to_have_text("Iberian lynx")
    assert page.locator("#feedback_species").evaluate(
        "box => { const o = box.options[box.selectedIndex];"
        " return o.offsetTop >= box.scrollTop"
        " && o.offsetTop + o.offsetHeight <= box.scrollTop + box.clientHeight; }"
    ), "the chosen entry is scrolled out of the list box's view"
    site.check(page)
    again = page.locator("#photo-again")
    again.get_by_label("The same photo again").set_input_files(CAT)
    expect(again.locator(".photo-name")).to_have_text(f"Chosen: {CAT['name']}")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you")
    expect(page.locator("code.reference")).to_be_visible()
    site.check(page)
