"""Journey 1: a visitor searches the encyclopedia, filters the list and wanders between cats."""
import re

from playwright.sync_api import expect


def test_search_filter_open_a_species_and_follow_a_related_one(site, screen):
    page = site.new_page(phone=screen.phone)
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Every cat")
    expect(page.locator(".card")).not_to_have_count(0)
    site.check(page)
    site.screenshot(page, "home")

    # The home page's search box leads to the list, already searched.
    page.get_by_label("Search the encyclopedia").fill("leopard")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/species/\?q=leopard"))
    titles = page.locator(".card-title")
    expect(page.locator(".result-count")).to_contain_text("for “leopard”")
    expect(titles.first).to_have_text("Leopard")  # the best match comes first
    searched = _match_count(page)
    site.check(page)

    # Filter the same search to Vulnerable species: the list narrows, and the search is kept.
    page.get_by_label("Conservation status").select_option(label="Vulnerable")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"q=leopard.*status=VU|status=VU.*q=leopard"))
    expect(page.get_by_label("Search", exact=True)).to_have_value("leopard")
    filtered = titles.all_inner_texts()
    assert "Snow leopard" in filtered, filtered
    assert _match_count(page) == len(filtered) < searched
    for card in page.locator(".card").all():
        expect(card.locator(".status-VU")).to_have_text("Vulnerable")
    site.check(page)

    # Open one of them: its page, its facts, its picture.
    page.locator(".card-link", has_text="Snow leopard").click()
    expect(page).to_have_url(re.compile(r"/species/snow-leopard/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Snow leopard")
    expect(page.get_by_role("row", name=re.compile("IUCN status"))).to_contain_text("Vulnerable")
    picture = page.locator(".species-figure img")
    expect(picture).to_have_js_property("complete", True)
    assert picture.evaluate("img => img.naturalWidth") > 0
    site.check(page)
    site.screenshot(page, "species")

    # Follow a related species (same genus) and land on its own page.
    genus = page.get_by_role("row", name=re.compile("Genus")).locator("td").inner_text()
    related = page.locator("section", has=page.get_by_role("heading", name=re.compile("Also in")))
    first_related = related.locator(".card-title").first.inner_text()
    assert first_related != "Snow leopard"
    related.locator(".card-link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(first_related)
    expect(page.get_by_role("row", name=re.compile("Genus"))).to_contain_text(genus)
    site.check(page)


def _match_count(page) -> int:
    return int(page.locator(".result-count").inner_text().split()[0])


def test_species_list_pages_and_empty_search(site, screen):
    page = site.new_page(phone=screen.phone)
    page.goto("/species/")
    expect(page.locator(".result-count")).to_contain_text("page 1 of")
    first_page = page.locator(".card-title").all_inner_texts()
    site.check(page)
    site.screenshot(page, "species-list")

    page.get_by_role("link", name="Next").click()
    expect(page.locator(".result-count")).to_contain_text("page 2 of")
    assert not set(first_page) & set(page.locator(".card-title").all_inner_texts())
    site.check(page)

    page.get_by_label("Search", exact=True).fill("unicorn")
    page.get_by_role("button", name="Show").click()
    expect(page.get_by_role("heading", name="No cats match “unicorn”")).to_be_visible()
    site.check(page)
    page.get_by_role("link", name="clear the filters").click()
    expect(page.locator(".card")).not_to_have_count(0)
    site.check(page)
