"""Browser journeys: Playwright drives Debian's Chromium against pytest-django's live server.

What every journey gets for free, from the ``site`` fixture:
- any JavaScript console error, uncaught exception, failed request or HTTP status >= 400 that
  the test did not announce with ``site.expect_status`` fails the test;
- ``site.check(page)`` checks the layout (the page does not scroll sideways, no form control's
  text is clipped: tests/browser/layout.py) and runs axe-core on the page, failing on serious
  or critical violations; every page a test navigates to must be checked, or the test fails
  at teardown;
- ``screen`` (a fixture) runs a test on a phone (390 px) and on a desktop (1280 px): a journey
  takes ``site.new_page(phone=screen.phone)``;
- ``site.screenshot(page, name)`` saves docs/screenshots/<name>-<desktop|phone>.png when the
  environment has SCREENSHOTS=1 (``scripts/screenshots.sh``), and does nothing otherwise.

Chromium and axe-core come from ``scripts/install-browser.sh`` (Playwright cannot download its
own browser here).
"""
from __future__ import annotations

import functools
import io
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.browser import layout
from testsupport.components import missing_component

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
AXE_SCRIPT = Path(
    os.environ.get("AXE_SCRIPT")
    or Path(os.environ.get("CATSITE_CACHE_DIR", Path.home() / ".cache" / "catsite"))
    / "node" / "axe.min.js"
)
# Without the networking flags Chromium keeps calling home, which floods a closed network.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
FAILING_IMPACTS = {"serious", "critical"}


@pytest.hookimpl(tryfirst=True)  # before pytest-django orders tests by their database use
def pytest_collection_modifyitems(items):
    """Every test here is a browser test against the live server, which needs committed data:
    a transactional test (the data itself comes from the ``site`` fixture)."""
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(scope="session")
def browser():
    for needed in (CHROMIUM, AXE_SCRIPT):
        if not needed.exists():
            missing_component(f"{needed} is missing", "run scripts/install-browser.sh")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running in this thread for as long as it
    # runs, so Django would refuse the ORM calls that tests and database set-up make here.
    # They are ordinary blocking calls; the live server answers from its own thread.
    # https://docs.djangoproject.com/en/stable/topics/async/#async-safety
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            # launch() gives every run a fresh temporary profile (user-data-dir).
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()


@dataclass
class _Watch:
    """What happened in one browser page: its navigations and what went wrong."""

    page: object
    javascript: bool
    navigations: list[str] = field(default_factory=list)
    checked: set[int] = field(default_factory=set)


class Site:
    """The live site seen through Chromium, with the checks every journey shares."""

    def __init__(self, browser, base_url: str):
        self.browser = browser
        self.base_url = base_url
        self.contexts = []
        self.watches: list[_Watch] = []
        self.problems: list[str] = []
        self.expected: list[tuple[int, str]] = []
        self.screenshots = os.environ.get("SCREENSHOTS") == "1"

    # Pages ---------------------------------------------------------------------------------
    def new_page(self, *, phone: bool = False, **options):
        """A page in a fresh context (its own cookies), desktop 1280x800 unless ``phone``."""
        context = self.browser.new_context(
            base_url=self.base_url, **(PHONE if phone else DESKTOP), **options
        )
        context.set_default_timeout(10_000)  # a broken journey fails in seconds, not minutes
        self.contexts.append(context)
        page = context.new_page()
        watch = _Watch(page, javascript=options.get("java_script_enabled", True))
        self.watches.append(watch)
        page.on("console", lambda message: self._console(message))
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("requestfailed", lambda request: self._request_failed(request))
        page.on("response", lambda response: self._response(response))
        page.on(
            "framenavigated",
            lambda frame: frame == page.main_frame and watch.navigations.append(frame.url),
        )
        return page

    def expect_status(self, status: int, path: str) -> None:
        """Announce one response with this status for this path (and its console message)."""
        self.expected.append((status, path))

    # Collected problems ---------------------------------------------------------------------
    def _expected(self, status: int, url: str) -> bool:
        return (status, urlsplit(url).path) in self.expected

    def _console(self, message) -> None:
        if message.type != "error":
            return
        # Chromium logs every response >= 400 as "Failed to load resource"; an announced
        # status is not a problem, so neither is its log line.
        url = (message.location or {}).get("url", "")
        if not url and "Content Security Policy" in message.text:
            # Code without a URL is what Playwright evaluated: axe-core, whose checks set
            # inline styles, which the site's policy rightly refuses. The site's own markup
            # and scripts always have a URL.
            return
        if "Failed to load resource" in message.text and any(
            f"status of {status}" in message.text and urlsplit(url).path == path
            for status, path in self.expected
        ):
            return
        self.problems.append(f"console error: {message.text} ({url})")

    def _request_failed(self, request) -> None:
        # Leaving a page cancels its pending requests (lazy images below the fold): that is
        # the browser tidying up, not a failure of the site.
        if request.failure == "net::ERR_ABORTED":
            return
        self.problems.append(f"request failed: {request.method} {request.url}: {request.failure}")

    def _response(self, response) -> None:
        if response.status >= 400 and not self._expected(response.status, response.url):
            self.problems.append(
                f"HTTP {response.status}: {response.request.method} {response.url}")

    def assert_no_problems(self) -> None:
        problems, self.problems = self.problems, []
        assert not problems, "The browser saw problems:\n" + "\n".join(problems)

    # Accessibility ---------------------------------------------------------------------------
    def check(self, page, *, known: tuple[str, ...] = ()) -> None:
        """No problems so far, the layout holds, and axe-core finds no serious or critical
        violation here. ``known``: axe rules a third party's markup breaks and we cannot
        change (say why where you pass it)."""
        page.wait_for_load_state("load")
        self.assert_no_problems()
        layout.assert_holds(page)
        watch = next(w for w in self.watches if w.page is page)
        violations = _axe_violations(page if watch.javascript else self._scripting_copy(page))
        failing = [v for v in violations
                   if v["impact"] in FAILING_IMPACTS and v["id"] not in known]
        assert not failing, f"Accessibility violations on {page.url}:\n" + "\n".join(
            f"- {v['impact']} {v['id']}: {v['help']} at {v['targets']}" for v in failing
        )
        watch.checked.add(len(watch.navigations))

    def _scripting_copy(self, page):
        """The page's markup in a page that runs scripts: axe needs timers, which a page with
        JavaScript off never fires. Same origin, so styles load and contrast is measured."""
        copy = self.browser.new_context(base_url=self.base_url, viewport=page.viewport_size)
        self.contexts.append(copy)
        twin = copy.new_page()
        twin.goto(page.url if page.url.startswith(self.base_url) else "/")
        # The page's own scripts are left out: they never ran in the original.
        twin.set_content(re.sub(r"<(/?)script", r"<\1template", page.content()))
        return twin

    # Screenshots -----------------------------------------------------------------------------
    def screenshot(self, page, name: str) -> Path | None:
        """A full-page PNG in docs/screenshots/, only when SCREENSHOTS=1."""
        if not self.screenshots:
            return None
        # Lazy images below the fold would be blank in a full-page picture: load them all.
        page.evaluate(
            "() => Promise.all([...document.images].map(img => {"
            " img.loading = 'eager';"
            " return img.complete ? null"
            " : new Promise(done => { img.onload = img.onerror = done; });"
            "}))"
        )
        width = page.viewport_size["width"]
        path = SCREENSHOT_DIR / f"{name}-{'phone' if width < 600 else 'desktop'}.png"
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path.write_bytes(_small_png(page.screenshot(full_page=True, animations="disabled")))
        return path

    # Teardown -------------------------------------------------------------------------------
    def close(self, test_failed: bool = False) -> None:
        unchecked = [] if test_failed else [
            f"{url} (navigation {n})"
            for watch in self.watches
            for n, url in enumerate(watch.navigations, start=1)
            if n not in watch.checked and not _same_document(watch.navigations, n)
        ]
        for context in self.contexts:
            context.close()
        self.assert_no_problems()
        assert not unchecked, "Pages never checked with site.check(page):\n" + "\n".join(unchecked)


@functools.cache
def _axe_source() -> str:
    return AXE_SCRIPT.read_text(encoding="utf-8") + "\n;typeof window.axe"


def _axe_violations(page) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's Content-Security-Policy
        # does not govern; a <script> tag (add_script_tag) would be refused as inline script.
        page.evaluate(_axe_source())
    return page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " targets: v.nodes.slice(0, 5).map(n => n.target.join(' '))}))"
    )


def _same_document(navigations: list[str], n: int) -> bool:
    """A navigation to a #fragment of the page before it is not a new page."""
    if n < 2:
        return False
    before, now = urlsplit(navigations[n - 2]), urlsplit(navigations[n - 1])
    return now.fragment != "" and before._replace(fragment="") == now._replace(fragment="")


def _small_png(data: bytes) -> bytes:
    """The screenshot with a 256-colour palette, dithered so that gradients do not band: a
    third of the size (about 100 KB), which keeps the repository small as the set is renewed."""
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    # Pillow dithers only when mapping to a given palette: choose the palette, then map.
    palette = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    palette = image.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG)
    buffer = io.BytesIO()
    palette.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.browser_test_failed = report.failed
    return report


def _load_encyclopedia() -> None:
    """What migrating gave the database: content types and permissions (the admin's log
    needs them) and the species with their labels.

    The flush after each transactional test erases them. serialized_rollback, which should
    restore them, left the second browser test with empty tables once non-transactional
    tests had run in the same session, so the browser tests rebuild them the way a
    deployment does: the post_migrate signal, then `load_species`'s loader (an upsert).
    """
    from django.core.management.sql import emit_post_migrate_signal

    from species import content

    emit_post_migrate_signal(verbosity=0, interactive=False, db="default")
    content.load()


@dataclass(frozen=True)
class Screen:
    phone: bool

    @property
    def width(self) -> int:
        return (PHONE if self.phone else DESKTOP)["viewport"]["width"]


@pytest.fixture(params=[False, True], ids=["desktop", "phone"])
def screen(request) -> Screen:
    return Screen(phone=request.param)


@pytest.fixture
def site(request, browser, live_server):
    _load_encyclopedia()
    site = Site(browser, live_server.url)
    yield site
    # After a failure, unchecked pages are a consequence, not news.
    site.close(test_failed=getattr(request.node, "browser_test_failed", True))
