"""Cached pages (core/page_cache.py, species/caching.py): served from the cache without a
query, validated by ETag and Last-Modified, and invalidated exactly by an edit, at once; on
local memory and on a real Redis, as in production."""
from __future__ import annotations

import os

import pytest
from django.core.cache import cache

from core.page_cache import tag_versions
from species.caching import HOME, LIST, illustration_tag, page_tag, snapshot, tags_for_change
from species.models import ModelLabel, Species, Taxon
from species.tests.test_admin import change_url, form_data
from testsupport.components import REDIS_START, missing_component
from testsupport.editors import STAFF_PASSWORD

pytestmark = pytest.mark.django_db

REDIS_URL = os.environ.get("TEST_PAGE_CACHE_REDIS_URL", "redis://127.0.0.1:6379/12")
PANTHERA = ["jaguar", "leopard", "lion", "snow-leopard", "tiger"]


@pytest.fixture(params=["locmem", "redis"])
def page_cache(request, settings):
    """The page cache on local memory (the default) and on a real Redis (production; a
    database of its own, emptied before and after)."""
    if request.param == "redis":
        import redis

        try:
            redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
        except redis.exceptions.ConnectionError as exc:
            missing_component(f"Redis is not reachable at {REDIS_URL}: {exc}", REDIS_START)
        settings.CACHES = {**settings.CACHES, "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    settings.PAGE_CACHE_SECONDS = 600
    cache.clear()
    yield request.param
    cache.clear()


def get(client, url, **headers):
    response = client.get(url, headers=headers)
    assert response.status_code in (200, 304), (url, response.status_code)
    return response


def is_hit(client, url) -> bool:
    return get(client, url)["X-Cache"] == "hit"


@pytest.mark.parametrize("url", ["/", "/species/", "/species/?q=snow+leopard&kind=wild",
                                 "/species/lion/"])
def test_a_page_is_served_from_the_cache_without_a_query(client, page_cache, url,
                                                         django_assert_num_queries):
    first = get(client, url)
    assert first["X-Cache"] == "miss"
    with django_assert_num_queries(0):
        again = get(client, url)
    assert again["X-Cache"] == "hit" and again.content == first.content
    for name in ("ETag", "Last-Modified", "Content-Type", "Content-Security-Policy"):
        assert again[name] == first[name], name
    assert again["Cache-Control"] == "public, no-cache"  # a CDN revalidates before each reuse


def test_a_conditional_request_is_a_304_from_the_cache(client, page_cache,
                                                        django_assert_num_queries):
    first = get(client, "/species/lion/")
    with django_assert_num_queries(0):
        by_etag = client.get("/species/lion/", headers={"If-None-Match": first["ETag"]})
        by_date = client.get("/species/lion/",
                             headers={"If-Modified-Since": first["Last-Modified"]})
    assert by_etag.status_code == 304 and by_date.status_code == 304
    assert by_etag.content == b"" and by_etag["ETag"] == first["ETag"]
    other = client.get("/species/lion/", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.content == first.content


def test_the_illustration_is_drawn_once_and_kept_for_a_year(client, page_cache,
                                                             django_assert_num_queries):
    url = Species.objects.get(slug="tiger").picture_url
    first = get(client, url)
    with django_assert_num_queries(0):
        again = get(client, url)
    assert again["X-Cache"] == "hit" and again.content == first.content
    assert again["Cache-Control"] == "public, max-age=31536000, immutable"
    assert again["Content-Type"] == "image/svg+xml"


def test_an_admin_edit_shows_at_once_and_invalidates_only_what_it_changed(
        staff_client, client, page_cache):
    lion = Species.objects.get(slug="lion")
    watched = ["/", "/species/", "/species/?q=lion", "/species/lion/", "/species/tiger/",
               "/species/sand-cat/", lion.picture_url, "/species/tiger/illustration.svg"]
    for url in watched:
        get(client, url)
    assert all(is_hit(client, url) for url in watched)

    data = form_data(staff_client.get(change_url(lion)))
    data["common_name"] = "African lion"
    data["description"] = "Edited in the admin.\n\nA second paragraph."
    assert staff_client.post(change_url(lion), data).status_code == 302

    page = get(client, "/species/lion/")
    assert page["X-Cache"] == "miss" and "<h1>African lion</h1>" in page.content.decode()
    assert "<p>Edited in the admin.</p>" in page.content.decode()
    # The cards that show the lion: the list, a search, a genus mate's page, the home page
    # (the lion is featured).
    assert lion.featured
    for url in ("/species/", "/species/?q=lion", "/species/tiger/", "/"):
        response = get(client, url)
        assert response["X-Cache"] == "miss" and "African lion" in response.content.decode(), url
    # The name is drawn into the picture's title: a new URL, a new picture.
    new_picture = Species.objects.get(slug="lion").picture_url
    assert new_picture != lion.picture_url
    assert b"Illustration of an African lion" in get(client, new_picture).content
    # What does not show the lion stays cached: another genus, the tiger's picture.
    assert is_hit(client, "/species/sand-cat/")
    assert is_hit(client, "/species/tiger/illustration.svg")


def test_a_text_edit_leaves_the_genus_mates_and_the_picture_cached(staff_client, client,
                                                                    page_cache):
    lion = Species.objects.get(slug="lion")
    for url in ("/species/lion/", "/species/tiger/", lion.picture_url, "/"):
        get(client, url)
    data = form_data(staff_client.get(change_url(lion)))
    data["native_range"] = "Edited range: sub-Saharan Africa"
    assert staff_client.post(change_url(lion), data).status_code == 302
    assert "Edited range" in get(client, "/species/lion/").content.decode()
    # The range shows on no card: the genus mates, the picture and the home page stay cached.
    assert is_hit(client, "/species/tiger/")
    assert is_hit(client, lion.picture_url)
    assert is_hit(client, "/")


def test_a_coat_edit_changes_the_picture_and_the_pages_that_show_it(client, page_cache):
    tiger = Species.objects.get(slug="tiger")
    old_url = tiger.picture_url
    old_picture = get(client, old_url).content
    get(client, "/species/lion/")
    tiger.coat_colour = "#123456"
    tiger.save()
    new_url = tiger.picture_url
    assert new_url != old_url
    assert 'fill="#123456"' in get(client, new_url).content.decode()
    assert new_url in get(client, "/species/lion/").content.decode()  # the genus mate's card
    # An old page's URL gets the current picture, revalidated rather than kept for a year.
    stale = get(client, old_url)
    assert stale.content != old_picture and stale["Cache-Control"] == "public, no-cache"


def test_a_label_edit_renders_its_pages_again_and_shows_in_searches(client, page_cache):
    """A species page says how the installed model names the entry (its labels): a label
    edit renders the owner's pages again (the old and the new owner's when it moves)."""
    for url in ("/species/sand-cat/", "/species/lion/", "/species/tiger/"):
        get(client, url)
    assert "No cats match" in get(client, "/species/?q=zzlabel").content.decode()
    ModelLabel.objects.create(label="zzlabel", species=Species.objects.get(slug="sand-cat"))
    assert not is_hit(client, "/species/sand-cat/")
    assert 'href="/species/sand-cat/"' in get(client, "/species/?q=zzlabel").content.decode()
    assert is_hit(client, "/species/lion/")
    label = ModelLabel.objects.get(label="zzlabel")
    label.species = Species.objects.get(slug="lion")
    label.save()  # moved: both owners
    assert not is_hit(client, "/species/sand-cat/") and not is_hit(client, "/species/lion/")
    assert is_hit(client, "/species/tiger/")
    label.delete()
    assert not is_hit(client, "/species/lion/")


def test_a_group_label_renders_every_species_page_again(client, page_cache):
    """A label owned by a group (a genus) changes how the model names every entry under it."""
    get(client, "/species/lion/")
    get(client, "/species/sand-cat/")
    ModelLabel.objects.create(label="zzgroup", taxon=Taxon.objects.order_by("pk").first())
    assert not is_hit(client, "/species/lion/") and not is_hit(client, "/species/sand-cat/")


def test_a_deleted_or_renamed_entry_is_gone_at_once(client, make_species, page_cache):
    cat = make_species(slug="short-lived", genus="Panthera")
    assert get(client, "/species/short-lived/")["X-Cache"] == "miss"
    assert "short-lived" in get(client, "/species/lion/").content.decode()
    cat.slug = "renamed"
    cat.save()
    assert client.get("/species/short-lived/").status_code == 404
    assert get(client, "/species/renamed/").status_code == 200
    cat.delete()
    assert client.get("/species/renamed/").status_code == 404
    assert "renamed" not in get(client, "/species/lion/").content.decode()
    assert "short-lived" not in get(client, "/species/").content.decode()


def test_the_home_page_counts_follow_new_entries(client, make_species, page_cache):
    wild = Species.objects.filter(kind="wild").count()
    assert f"all {wild} wild species" in get(client, "/").content.decode()
    make_species()
    assert f"all {wild + 1} wild species" in get(client, "/").content.decode()


def test_the_invalidation_also_runs_after_the_commit(page_cache,
                                                     django_capture_on_commit_callbacks):
    """A render that read the old rows between the save and the commit stored its page under
    the versions of that moment: the bump after the commit leaves that page unread."""
    lion = Species.objects.get(slug="lion")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        lion.summary = "Changed."
        lion.save()
        during = tag_versions([page_tag("lion")])
    assert callbacks
    for callback in callbacks:
        callback()
    assert tag_versions([page_tag("lion")])[page_tag("lion")] > during[page_tag("lion")]


def test_a_page_is_not_cached_when_the_cache_is_off(client, settings,
                                                    django_assert_max_num_queries):
    settings.PAGE_CACHE_SECONDS = 0
    get(client, "/species/lion/")
    with django_assert_max_num_queries(4):
        response = get(client, "/species/lion/")
    assert "X-Cache" not in response


# --- what a page is stored under (issue 24, item 7) ------------------------------------------
JUNK = ["/?utm_source={i}", "/species/?x{i}=1", "/species/lion/?{i}", "/species/?page={i}000",
        "/species/?genus=Nope{i}", "/species/?kind=zz{i}", "/species/?q=+lion++{i}%20",
        "/species/lion/illustration.svg?v=junk{i}"]


def stored_pages() -> int:
    import redis

    return len(redis.Redis.from_url(REDIS_URL).keys("*page-cache:page:*"))


@pytest.mark.parametrize("page_cache", ["redis"], indirect=True)
def test_junk_query_strings_make_no_new_entries(client, page_cache):
    for url in ("/", "/species/", "/species/lion/"):
        get(client, url)
    assert stored_pages() == 3
    for i in range(20):
        for url in JUNK:
            assert get(client, url.format(i=i)).status_code == 200, url
    assert stored_pages() == 3
    get(client, "/species/?q=lion+cub")  # a search as the form sends it is stored
    assert stored_pages() == 4
    # A parameter the page does not read is no other page: the home page's entry serves it.
    assert get(client, "/?utm_source=newsletter")["X-Cache"] == "hit"
    # A value the page shows otherwise (the last page, no genus) is answered, never stored.
    assert get(client, "/species/?page=9999")["X-Cache"] == "skip"


def test_a_submitted_form_shares_the_entry_of_its_filters(client, page_cache):
    assert get(client, "/species/?q=&kind=wild&status=&genus=")["X-Cache"] == "miss"
    assert is_hit(client, "/species/?kind=wild")
    assert is_hit(client, "/species/?genus=&kind=wild&utm_campaign=x")


def test_the_pagination_links_carry_the_filters_as_applied(client, page_cache):
    html = get(client, "/species/?kind=wild&junk=%3Cb%3E&genus=Nope").content.decode()
    assert 'href="?kind=wild&amp;page=2"' in html and "junk" not in html


def test_a_flood_of_pages_cannot_evict_the_counters(settings, staff_user):
    """Pages on a Redis that evicts (LRU, about 300 KB of room), counters on a Redis of their
    own: searches enough to fill the first many times over leave the admin lockout as it was.
    (On one Redis the flood evicts the counters, and the lockout with them.)"""
    import redis
    from django.test import Client

    from testsupport.redis_server import RedisServer

    settings.ADMIN_LOGIN_FAILURE_LIMIT = 2
    settings.PAGE_CACHE_SECONDS = 600
    evicting = ("--maxmemory", "1300kb", "--maxmemory-policy", "allkeys-lru")
    with RedisServer(args=evicting) as pages, RedisServer() as counters:
        settings.CACHES = {**settings.CACHES, **{
            alias: {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
            for alias, url in (("default", pages.url), ("counters", counters.url))}}
        attacker = Client()
        for _ in range(2):
            attacker.post("/admin/login/", {"username": "editor", "password": "wrong"},
                          REMOTE_ADDR="192.0.2.30")
        for i in range(300):  # about 3 MB of pages
            assert get(Client(), f"/species/?q=cat+{i}").status_code == 200
        assert redis.Redis.from_url(pages.url).info("stats")["evicted_keys"] > 200
        answer = attacker.post("/admin/login/", {"username": "editor",
                                                 "password": STAFF_PASSWORD},
                               REMOTE_ADDR="192.0.2.30")
        assert "Too many failed logins" in answer.content.decode()


def test_the_counters_have_a_cache_of_their_own(tmp_path):
    """COUNTERS_CACHE_URL names it; without it the counters use CACHE_URL's server, under an
    alias of their own."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    def caches(**env):
        clean = {k: v for k, v in os.environ.items()
                 if not k.startswith(("DJANGO_", "CACHE_", "COUNTERS_"))}
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c",
             "import json; from django.conf import settings; print(json.dumps(settings.CACHES))"],
            cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, check=True,
            env={**clean, "DJANGO_DEBUG": "1", "CATSITE_VAR_DIR": str(tmp_path), **env})
        return {alias: entry.get("LOCATION") for alias, entry in
                json.loads(result.stdout.splitlines()[-1]).items()}

    both = caches(CACHE_URL="redis://pages:6379/0", COUNTERS_CACHE_URL="redis://counts:6379/0")
    assert both["default"] == "redis://pages:6379/0"
    assert both["counters"] == "redis://counts:6379/0"
    assert caches(CACHE_URL="redis://pages:6379/0")["counters"] == "redis://pages:6379/0"
    local = caches()
    assert local["default"] != local["counters"]  # two local-memory stores, not one


# --- which tags an edit changes ---------------------------------------------------------------

def mates(genera):
    return [slug for slug in PANTHERA if "Panthera" in genera]


def test_tags_for_a_text_edit():
    before = snapshot(Species.objects.get(slug="lion"))
    after = {**before, "description": "Other text."}
    assert tags_for_change(before, after, mates) == {LIST, page_tag("lion")}
    assert tags_for_change(before, dict(before), mates) == set()


def test_tags_for_a_card_edit_of_a_featured_entry():
    before = snapshot(Species.objects.get(slug="lion"))
    assert before["featured"]
    after = {**before, "scientific_name": "Panthera leo leo"}
    assert tags_for_change(before, after, mates) == (
        {LIST, HOME} | {page_tag(slug) for slug in PANTHERA})


def test_tags_for_a_coat_edit_and_a_move_to_another_genus():
    before = snapshot(Species.objects.get(slug="sand-cat"))
    coat = tags_for_change(before, {**before, "coat_pattern": "striped"}, mates)
    assert illustration_tag("sand-cat") in coat and page_tag("lion") not in coat
    moved = tags_for_change(before, {**before, "genus": "Panthera"}, mates)
    assert {page_tag(slug) for slug in PANTHERA} <= moved


def test_tags_for_a_new_and_a_deleted_entry():
    state = snapshot(Species.objects.get(slug="sand-cat"))
    for before, after in ((None, state), (state, None)):
        tags = tags_for_change(before, after, mates)
        assert {LIST, HOME, page_tag("sand-cat"), illustration_tag("sand-cat")} <= tags
