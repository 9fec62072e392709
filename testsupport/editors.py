"""The site's test editor and the two ways tests log them in to the admin: through Django's test
client (the login form, so the lockout and its counters run) and through a browser page.

The root conftest's ``staff_user`` fixture creates this editor; the tests log in with the
password below (or a wrong one, to test refusals)."""
from __future__ import annotations

STAFF_USERNAME = "editor"
STAFF_PASSWORD = "a-long-test-password"
ADMIN_LOGIN_URL = "/admin/login/"


def admin_login(client, password: str = STAFF_PASSWORD, username: str = STAFF_USERNAME,
                addr: str = "192.0.2.10"):
    """Post the admin's login form from ``addr`` (the lockout counts failures per address and
    name); the response: 302 on success, 200 with the form again on refusal."""
    return client.post(ADMIN_LOGIN_URL, {"username": username, "password": password,
                                         "next": "/admin/"}, REMOTE_ADDR=addr)


def log_in_on_page(page, password: str = STAFF_PASSWORD, username: str = STAFF_USERNAME) -> None:
    """Fill in and send the admin's login form shown on a Playwright ``page``."""
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
