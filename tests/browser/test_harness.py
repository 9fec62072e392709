"""The checks the journeys rely on do catch what they claim to: errors, failures, violations."""
import pytest


def forget_pages(site):
    """These tests make check() fail on purpose, so their pages never pass it."""
    site.watches.clear()


def test_a_console_error_fails_the_check(site):
    page = site.new_page()
    page.goto("/about/")
    page.evaluate("console.error('something broke')")
    with pytest.raises(AssertionError, match="console error: something broke"):
        site.check(page)
    forget_pages(site)


def test_an_unexpected_error_status_fails_and_an_announced_one_does_not(site):
    page = site.new_page()
    page.goto("/species/no-such-cat/")
    with pytest.raises(AssertionError, match=r"HTTP 404: GET .*/species/no-such-cat/"):
        site.check(page)

    site.expect_status(404, "/species/also-missing/")
    page.goto("/species/also-missing/")
    site.check(page)
    forget_pages(site)


def test_a_failed_request_fails_the_check(site):
    page = site.new_page()
    page.route("**/static/css/site.css", lambda route: route.abort("connectionrefused"))
    page.goto("/about/")
    with pytest.raises(AssertionError, match=r"request failed: GET .*site\.css"):
        site.check(page)
    forget_pages(site)


def test_a_serious_accessibility_violation_fails_the_check(site):
    page = site.new_page()
    page.goto("/about/")
    site.check(page)
    # An image with no text alternative (axe: image-alt, critical), added after the fact.
    page.evaluate(
        "const img = document.createElement('img'); img.src = '/static/img/logo.svg';"
        "document.querySelector('main').append(img)"
    )
    with pytest.raises(AssertionError, match="critical image-alt"):
        site.check(page)
    forget_pages(site)


def test_a_page_left_unchecked_is_reported(site):
    page = site.new_page()
    page.goto("/about/")
    with pytest.raises(AssertionError, match="never checked"):
        site.close()
    forget_pages(site)  # already reported; the fixture's own close must not report it again
