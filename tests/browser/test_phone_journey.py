"""Journey 4: the same site on a phone (390 x 844): no sideways scrolling, everything reachable."""
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_identify_journey import CAT, COFFEE, expect_tabby_result


@pytest.fixture(autouse=True)
def model(installed_model):
    return installed_model


def assert_fits_the_screen(page):
    # A phone browser zooms out to show content wider than the screen, and then innerWidth
    # grows with the content: compare with the device's width too.
    widths = page.evaluate(
        "({page: document.documentElement.scrollWidth, window: window.innerWidth})"
    )
    screen = page.viewport_size["width"]
    assert widths["page"] <= widths["window"] == screen, f"{page.url} scrolls sideways: {widths}"


def assert_navigation_in_view(page):
    for name in ("Species", "Identify a cat", "About"):
        link = page.get_by_role("navigation", name="Main").get_by_role("link", name=name)
        expect(link).to_be_in_viewport()
        box = link.bounding_box()
        assert box["height"] >= 40, f"the {name} link is too small to tap: {box}"


def test_a_phone_browses_the_encyclopedia(site):
    page = site.new_page(phone=True)
    page.goto("/")
    assert_navigation_in_view(page)
    assert_fits_the_screen(page)
    site.check(page)
    site.screenshot(page, "home")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Species").tap()
    expect(page.get_by_role("heading", level=1)).to_have_text("Species and breeds")
    assert_navigation_in_view(page)
    assert_fits_the_screen(page)
    site.check(page)
    site.screenshot(page, "species-list")

    page.get_by_label("Kind").select_option(label="Wild species")
    page.get_by_role("button", name="Show").tap()
    expect(page).to_have_url(re.compile(r"kind=wild"))
    assert_fits_the_screen(page)
    site.check(page)

    page.locator(".card-link").first.tap()
    expect(page.get_by_role("row", name=re.compile("IUCN status"))).to_be_visible()
    assert_fits_the_screen(page)
    site.check(page)

    page.goto("/species/snow-leopard/")
    assert_fits_the_screen(page)
    site.check(page)
    site.screenshot(page, "species")


def test_a_phone_identifies_a_cat(site):
    page = site.new_page(phone=True)
    page.goto("/identify/")
    assert_navigation_in_view(page)
    assert_fits_the_screen(page)
    expect(page.get_by_role("button", name="Use the camera")).to_be_in_viewport()
    site.check(page)

    page.get_by_label("Photo of a cat").set_input_files(CAT)
    expect(page.locator("#preview")).to_be_visible()
    assert_fits_the_screen(page)
    page.get_by_role("button", name="Identify").tap()
    expect_tabby_result(page)
    assert_fits_the_screen(page)
    site.check(page)
    site.screenshot(page, "identify-result")

    page.get_by_label("Photo of a cat").set_input_files(COFFEE)
    page.get_by_role("button", name="Identify").tap()
    not_a_cat = page.get_by_role("heading", level=2, name="This does not look like a cat")
    expect(not_a_cat).to_be_visible()
    assert_fits_the_screen(page)
    site.check(page)
    site.screenshot(page, "not-a-cat")
