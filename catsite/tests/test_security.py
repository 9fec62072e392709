"""Security headers and the Content-Security-Policy, CSRF on every form, the admin login
lockout, and `check --deploy` on the production settings."""
from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse

from catsite import admin_lockout
from testsupport.components import missing_component
from testsupport.editors import STAFF_PASSWORD, STAFF_USERNAME, admin_login

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_PAGES = ["/", "/about/", "/species/", "/species/domestic-tabby/", "/identify/",
                "/admin/login/", "/api/docs/"]


class Tags(HTMLParser):
    """Collects the start tags of a page with their attributes."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    @classmethod
    def of(cls, html: str) -> list[tuple[str, dict]]:
        parser = cls()
        parser.feed(html)
        return parser.tags


def directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";"))}


@pytest.fixture
def fresh_cache():
    caches["counters"].clear()
    yield
    caches["counters"].clear()


# --------------------------------------------------------------------------------------------
# Headers and the policy
# --------------------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("path", [*PUBLIC_PAGES, "/api/species/", "/healthz", "/nowhere/"])
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["img-src"] == ["'self'", "data:", "blob:"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["default-src"] + policy.get("script-src", [])
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    # Inline styles only where Swagger UI needs them; inline scripts nowhere.
    assert ("'unsafe-inline'" in policy.get("style-src", [])) == (path == "/api/docs/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert "geolocation=()" in response["Permissions-Policy"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_pages_have_no_inline_script_or_style(client, path):
    """Everything the policy would block: inline <script>, on* handlers, javascript: URLs,
    <style> blocks and style attributes (Django's admin is checked in the browser below)."""
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    tags = Tags.of(html)
    scripts = [attrs for tag, attrs in tags if tag == "script"]
    assert all(attrs.get("src") or attrs.get("type") == "application/json" for attrs in scripts)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html.replace(
        '<script type="application/json"', "")), "an inline script"
    for tag, attrs in tags:
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        assert not any(str(value).strip().lower().startswith("javascript:")
                       for value in attrs.values() if value), (tag, attrs)
        if not path.startswith("/admin/"):
            assert "style" not in attrs, (tag, attrs)
    if not path.startswith("/admin/"):
        assert "<style" not in html


# --------------------------------------------------------------------------------------------
# CSRF
# --------------------------------------------------------------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_every_post_form_carries_a_csrf_token(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    for form in re.findall(r"<form\b.*?</form>", html, re.S | re.I):
        method = re.search(r'method="(\w+)"', form, re.I)
        if method and method.group(1).lower() == "post":
            assert 'name="csrfmiddlewaretoken"' in form, form[:200]


@pytest.mark.django_db
def test_admin_post_forms_carry_a_csrf_token(staff_client):
    for path in ["/admin/", "/admin/species/species/add/?kind=wild", "/admin/password_change/"]:
        response = staff_client.get(path)
        assert response.status_code == 200, path  # the editor's page, not a login redirect
        forms = re.findall(r"<form\b.*?</form>", response.content.decode(), re.S | re.I)
        posts = [form for form in forms if re.search(r'method="post"', form, re.I)]
        assert posts, path  # each of these pages has a form that writes
        for form in posts:
            assert 'name="csrfmiddlewaretoken"' in form, (path, form[:200])


@pytest.mark.django_db
@pytest.mark.parametrize("path, data", [
    ("/identify/", {}),
    ("/admin/login/", {"username": STAFF_USERNAME, "password": STAFF_PASSWORD}),
])
def test_posts_without_the_csrf_token_are_refused(path, data, staff_user):
    client = Client(enforce_csrf_checks=True)
    client.get(path)  # the CSRF cookie is set, but the form field is missing
    assert client.post(path, data).status_code == 403


# --------------------------------------------------------------------------------------------
# Admin login lockout
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_login_locks_after_repeated_failures(client, staff_user, settings, fresh_cache):
    settings.ADMIN_LOGIN_FAILURE_LIMIT = 3
    settings.ADMIN_LOGIN_LOCKOUT_SECONDS = 600
    for _ in range(3):
        response = admin_login(client, "wrong")
        assert response.status_code == 200
        assert "Please enter the correct" in response.content.decode()
    # Locked: even the right password is refused, with a message that says so.
    response = admin_login(client, STAFF_PASSWORD)
    assert response.status_code == 200
    assert "Too many failed logins" in response.content.decode()
    assert "Try again in 10 minute(s)" in response.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_lockout_is_per_username_and_client(client, staff_user, django_user_model, settings,
                                            fresh_cache):
    settings.ADMIN_LOGIN_FAILURE_LIMIT = 2
    django_user_model.objects.create_superuser("other", "o@example.com", "another-long-password")
    admin_login(client, "wrong")
    admin_login(client, "wrong")
    # Another client may log in as editor; the locked client may log in as someone else.
    assert admin_login(Client(), STAFF_PASSWORD, addr="192.0.2.11").status_code == 302
    assert admin_login(client, "another-long-password", username="other").status_code == 302
    assert admin_login(Client(), STAFF_PASSWORD).status_code == 200  # still locked


@pytest.mark.django_db
@pytest.mark.parametrize("look_alike", [
    "\uff45\uff44\uff49\uff54\uff4f\uff52",  # full-width letters
    "EDITOR", "\uff25dItor", " editor ",
])
def test_look_alike_usernames_share_the_lockout(client, staff_user, settings, fresh_cache,
                                               look_alike):
    """The form logs in NFKC-normalised names ("\uff45ditor" is editor): variants of one
    account must not each get their own allowance of guesses."""
    settings.ADMIN_LOGIN_FAILURE_LIMIT = 2
    admin_login(client, "wrong")
    admin_login(client, "wrong", username=look_alike)
    response = admin_login(client, STAFF_PASSWORD, username=look_alike)
    assert response.status_code == 200 and "Too many failed logins" in response.content.decode()
    assert admin_login(client, STAFF_PASSWORD).status_code == 200  # editor itself: locked


@pytest.mark.django_db
def test_lockout_ends_after_its_time(client, staff_user, settings, fresh_cache, monkeypatch):
    settings.ADMIN_LOGIN_FAILURE_LIMIT = 2
    settings.ADMIN_LOGIN_LOCKOUT_SECONDS = 60
    admin_login(client, "wrong")
    admin_login(client, "wrong")
    assert admin_login(client, STAFF_PASSWORD).status_code == 200
    real_time = admin_lockout.time.time
    # The clock is outside our control: move it on rather than wait (the cache entry's own
    # expiry is the cache's business; the lock also records its end).
    monkeypatch.setattr(admin_lockout.time, "time", lambda: real_time() + 61)
    assert admin_login(client, STAFF_PASSWORD).status_code == 302


@pytest.mark.django_db
def test_successful_logins_are_not_counted(client, staff_user, settings, fresh_cache):
    settings.ADMIN_LOGIN_FAILURE_LIMIT = 2
    for _ in range(3):
        assert admin_login(client, STAFF_PASSWORD).status_code == 302
        client.logout()


# --------------------------------------------------------------------------------------------
# Production settings
# --------------------------------------------------------------------------------------------
def test_check_deploy_is_clean_in_production_settings(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "catsite.settings",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "cats.example.com",
        "DJANGO_HTTPS": "1",
        "CATSITE_VAR_DIR": str(tmp_path),
        "MODEL_TRUSTED_KEYS": str(ROOT / "deploy" / "keys" / "catsite-models-2026-12.pub"),
    })
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


# --------------------------------------------------------------------------------------------
# In a real browser: nothing the policy blocks on the pages that carry the most script
# --------------------------------------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_no_csp_violation_in_the_browser(live_server, staff_user, tmp_path):
    chromium = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
    if not chromium.exists():
        missing_component(f"{chromium} is missing", "run scripts/install-browser.sh")
    from playwright.sync_api import sync_playwright

    from species.models import Species
    from testsupport import images

    photo = tmp_path / "cat.jpg"
    photo.write_bytes(images.jpeg(images.chelsea()))
    violations: list[str] = []
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # see tests/browser/conftest.py
        browser = playwright.chromium.launch(executable_path=str(chromium), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        page = browser.new_page()
        page.on("console", lambda message: violations.append(message.text)
                if "Content Security Policy" in message.text else None)

        page.goto(live_server.url + "/identify/")
        page.set_input_files("#id_image", str(photo))
        page.wait_for_selector("#preview:not([hidden])")  # the blob: preview shows
        assert page.eval_on_selector("#preview", "img => img.src").startswith("blob:")

        page.goto(live_server.url + "/api/docs/")
        page.wait_for_selector(".swagger-ui .opblock", timeout=15000)  # Swagger UI started
        assert "/api/classify/" in page.content()

        page.goto(live_server.url + "/admin/login/")
        page.fill("#id_username", STAFF_USERNAME)
        page.fill("#id_password", STAFF_PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_selector("#site-name")
        page.goto(live_server.url + reverse("admin:species_species_add") + "?kind=breed")
        page.wait_for_selector("#species_form")
        page.goto(live_server.url + reverse("admin:species_species_changelist"))
        page.wait_for_selector("#changelist img.species-thumb")
        tabby = Species.objects.get(slug="domestic-tabby")
        page.goto(live_server.url + reverse("admin:species_species_change", args=[tabby.pk]))
        page.wait_for_selector("img.species-preview", state="attached")
        browser.close()
    assert violations == []
