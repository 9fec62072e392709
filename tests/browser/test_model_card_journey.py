"""Journey: a visitor asks what the identifier can name, from the identify page to a species
that it cannot tell from its relatives (issue 12)."""
import re

import pytest
from playwright.sync_api import expect


@pytest.fixture(autouse=True)
def model(installed_model):
    return installed_model


def test_from_the_identify_page_to_the_model_card_and_a_lynx(site, screen):
    page = site.new_page(phone=screen.phone)
    page.goto("/identify/")
    site.check(page)
    page.get_by_role("link", name="What the identifier can and cannot name").click()
    expect(page).to_have_url(re.compile(r"/model/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("The photo identifier's model card")
    groups = page.locator("#named-groups")
    expect(groups).to_contain_text("lynx (genus Lynx)")
    expect(page.locator("#named-species")).to_contain_text("Lion")
    site.check(page)

    groups.get_by_role("link", name="Bobcat").click()
    expect(page).to_have_url(re.compile(r"/species/bobcat/$"))
    note = page.locator("#identifier-note")
    expect(note).to_contain_text("cannot tell it from its relatives")
    expect(note).to_contain_text("only as a lynx (genus Lynx)")
    site.check(page)
    note.get_by_role("link", name="What the identifier can name").click()
    expect(page).to_have_url(re.compile(r"/model/$"))
    site.check(page)
