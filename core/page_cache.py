"""Whole pages kept in the configured cache (Redis in production, local memory by default) and
invalidated exactly, at once, by tags.

A cached view names the tags its page depends on ("species:lion", "species-list"). Each tag has
a version in the cache: the time, in microseconds, of the last change to what it stands for. A
page is stored under its URL together with the versions of its tags it was rendered with, and
served only while they are still the current ones; so bumping a tag (``invalidate``) makes every
page that depends on it render again on its next request, on every worker and replica sharing
the cache, while every other page stays cached. A hit costs one cache round trip: the page and
its tags' versions are read together.

Why not Django's ``cache_page``: it keys by URL and headers only and cannot forget one page
when the data behind it changes, short of waiting for the timeout. The versions also give each
page an honest ``Last-Modified`` (the newest version of its tags) and the content an ``ETag``,
so a CDN or a browser revalidates with a conditional request and gets a 304 from the cache.

A render reads the versions before it reads the database, and writers bump after their commit
(as well as at once): a render that raced an edit is stored with versions that are no longer
current, so it is never served.

A page is stored under its path and the query parameters its view reads (``params``), nothing
else: ``/?utm_source=x`` is the home page's entry, and junk parameters cannot make new ones.
A view with parameters says which values it rendered (``rendered_with``); the page is stored
only when those are the request's own, so ``?page=99999`` (shown as the last page), an unknown
genus or an untidy search are answered but never stored. (Why: 3,000 junk URLs once put
43 MB in the Redis that also held the rate limits; the counters now have their own.)

Redis down (core/shared_cache.py): pages are rendered and served uncached (``X-Cache: off``);
an edit's invalidation that could not reach Redis is kept by this process and sent with its
next call that reaches it.
"""
from __future__ import annotations

import functools
import hashlib
import time
from collections.abc import Callable, Iterable, Mapping

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date, urlencode

from core.shared_cache import PAGES, CacheUnavailable, call

# Pages are the same for every visitor: shared caches (a CDN) may keep them, but must check
# with us before each reuse (a cheap 304 when nothing changed), so an edit shows at once.
PAGE_CACHE_CONTROL = "public, no-cache"
_TAG_PREFIX = "page-cache:tag:"
_PAGE_PREFIX = "page-cache:page:"
# Headers a view sets that are part of the page (the security middleware adds its own later).
_KEPT_HEADERS = ("Content-Type", "Cache-Control", "Content-Language")


def _now_us() -> int:
    return time.time_ns() // 1000


def _tag_key(tag: str) -> str:
    # Tags come from URLs (a slug): long ones are hashed to keep keys short.
    return _TAG_PREFIX + (tag if len(tag) <= 100 else hashlib.sha256(tag.encode()).hexdigest())


def _tag_timeout() -> int:
    # Tags expire like pages (a URL probed once must not stay forever). An expired tag starts
    # again at a newer version, which only makes its pages render again: never a stale page.
    return settings.PAGE_CACHE_SECONDS


def _start_tags(keys: list[str]) -> dict[str, int]:
    now = _now_us()
    for key in keys:
        # add: the first worker to start it wins
        call(PAGES, "add", key, now, timeout=_tag_timeout())
    return call(PAGES, "get_many", keys)


def tag_versions(tags: Iterable[str]) -> dict[str, int]:
    """The current version of each tag; a tag never seen (or expired) starts now.
    CacheUnavailable when the cache is down."""
    _send_unsent()
    keys = {_tag_key(tag): tag for tag in tags}
    found = call(PAGES, "get_many", list(keys))
    missing = [key for key in keys if key not in found]
    if missing:
        found.update(_start_tags(missing))
    return {tag: found.get(key, 0) for key, tag in keys.items()}


# Tags an edit could not bump (the cache was down): pages cached before the outage must not
# outlive it. Sent with this process's next call that reaches the cache. (A process that ends
# first loses them; the pages then expire after PAGE_CACHE_SECONDS.)
_unsent: set[str] = set()


def _bump(tags: set[str]) -> None:
    try:
        current = call(PAGES, "get_many", [_tag_key(tag) for tag in tags])
        now = _now_us()
        # Never backwards (clock skew between replicas): a version is never reused.
        call(PAGES, "set_many",
             {_tag_key(tag): max(now, current.get(_tag_key(tag), 0) + 1) for tag in tags},
             timeout=_tag_timeout())
    except CacheUnavailable:
        _unsent.update(tags)
    else:
        _unsent.difference_update(tags)


def _send_unsent() -> None:
    if _unsent:
        _bump(set(_unsent))


def invalidate(tags: Iterable[str]) -> None:
    """Forget every page that depends on one of ``tags``: now, and again once the current
    transaction commits (a render between the two read the old rows and is discarded)."""
    tags = set(tags)
    if not tags:
        return
    _bump(tags)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: _bump(tags))


# What every page may depend on in this process besides its tags, registered by the app that
# knows it (the classifier: the model it serves, which the species pages name through a template
# tag). A registry, so the app whose pages show it need not import the app that knows it.
_SITE_VARIANTS: list[Callable[[], str]] = []


def vary_pages_by(variant: Callable[[], str]) -> None:
    """Keep one page per value of ``variant()`` (called on each request; it must be cheap)."""
    if variant not in _SITE_VARIANTS:
        _SITE_VARIANTS.append(variant)


def canonical_query(values: Mapping[str, str], names: Iterable[str]) -> str:
    """The query string of ``values`` restricted to ``names``: in name order, empty values
    left out (a submitted form sends every field, filled or not); one value a name (the last,
    as ``QueryDict.get`` reads it)."""
    return urlencode([(name, str(values[name])) for name in sorted(names)
                      if values.get(name) not in (None, "")])


_RENDERED_WITH = "_page_cache_query"


def rendered_with(response, values: Mapping[str, str]) -> None:
    """Say which query parameters ``response`` was rendered with (the view's cleaned values,
    by parameter name): it is stored only when they are the request's own."""
    setattr(response, _RENDERED_WITH, values)


def _page_key(request, variant: str, query: str) -> str:
    # A deployment with other templates or code must not serve the previous one's pages.
    site = "|".join(site_variant() for site_variant in _SITE_VARIANTS)
    described = (f"{settings.APP_VERSION}|{settings.APP_REVISION}|{site}|{variant}|"
                 f"{request.path}?{query}")
    return _PAGE_PREFIX + hashlib.sha256(described.encode()).hexdigest()


def _etag(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def _respond(request, entry: dict, cache_status: str) -> HttpResponse:
    conditional = get_conditional_response(
        request, etag=entry["etag"], last_modified=entry["last_modified"])
    if conditional is not None:
        response = conditional  # 304: no body, but the caching headers
        response.headers["Cache-Control"] = entry["headers"]["Cache-Control"]
    else:
        response = HttpResponse(entry["content"], status=200)
        for name, value in entry["headers"].items():
            response.headers[name] = value
    response.headers["ETag"] = entry["etag"]
    response.headers["Last-Modified"] = http_date(entry["last_modified"])
    response.headers["X-Cache"] = cache_status
    return response


def _entry(response, versions: dict[str, int]) -> dict | None:
    """What is kept of a response, or None when it must not be shared between visitors."""
    if response.status_code != 200 or response.streaming or response.cookies:
        return None  # an error, a stream, or a cookie: this visitor's page, not everyone's
    response.headers.setdefault("Cache-Control", PAGE_CACHE_CONTROL)
    if "private" in response.headers["Cache-Control"]:
        return None
    return {
        "versions": versions,
        "content": response.content,
        "headers": {name: response.headers[name] for name in _KEPT_HEADERS
                    if name in response.headers},
        "etag": _etag(response.content),
        # Whole seconds, as HTTP dates have them.
        "last_modified": max(versions.values(), default=_now_us()) // 1_000_000,
    }


def cached_page(tags: Callable[..., Iterable[str]], variant: Callable[[], str] | None = None,
                params: Iterable[str] = ()):
    """Serve a GET view from the cache while the versions of ``tags(request, *args, **kwargs)``
    are those it was rendered with. ``variant()`` names what else the page depends on in this
    process (the model it serves): each variant is its own page. ``params``: the query
    parameters the view reads (any other is ignored); such a view calls ``rendered_with``.
    Only 200 answers are stored; anything else (404, a redirect) runs the view every time.
    Responses get an ETag, a Last-Modified and, unless the view chose its own,
    ``PAGE_CACHE_CONTROL``. With the cache down the view runs every time."""
    params = tuple(params)

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            timeout = settings.PAGE_CACHE_SECONDS
            if request.method not in ("GET", "HEAD") or timeout <= 0:
                return view(request, *args, **kwargs)
            query = canonical_query(request.GET, params)
            tag_keys = {_tag_key(tag): tag for tag in tags(request, *args, **kwargs)}
            page_key = _page_key(request, variant() if variant else "", query)
            try:
                _send_unsent()
                found = call(PAGES, "get_many", [page_key, *tag_keys])  # one round trip
                missing = [key for key in tag_keys if key not in found]
                if missing:
                    found.update(_start_tags(missing))
            except CacheUnavailable:
                return _unstored(view(request, *args, **kwargs), "off")
            versions = {tag: found.get(key, 0) for key, tag in tag_keys.items()}
            entry = found.get(page_key)
            if entry is not None and entry["versions"] == versions:
                return _respond(request, entry, "hit")
            response = view(request, *args, **kwargs)
            rendered = canonical_query(getattr(response, _RENDERED_WITH, {}), params)
            if rendered != query:
                return _unstored(response, "skip")
            entry = _entry(response, versions)
            if entry is None:
                return response
            try:
                call(PAGES, "set", page_key, entry, timeout)
            except CacheUnavailable:
                pass  # served all the same, and stored next time
            return _respond(request, entry, "miss")

        return wrapped

    return decorator


def _unstored(response, cache_status: str):
    """A page served without the cache: "off" (the cache is down), "skip" (not the request's
    own parameters). Revalidated like a stored page by a CDN."""
    if response.status_code == 200 and not response.cookies:
        response.headers.setdefault("Cache-Control", PAGE_CACHE_CONTROL)
    response.headers["X-Cache"] = cache_status
    return response
