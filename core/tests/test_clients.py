"""Client identification: the address that counts, behind trusted proxies or not."""
from django.test import RequestFactory

from core.clients import client_key


def request_from(remote: str, forwarded: str | None = None):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded is not None else {}
    return RequestFactory().get("/", REMOTE_ADDR=remote, **headers)


def test_forwarded_for_is_ignored_without_trusted_proxies(settings):
    settings.RATE_LIMIT_TRUSTED_PROXIES = 0
    assert client_key(request_from("10.0.0.5", "203.0.113.7")) == "10.0.0.5"


def test_behind_one_proxy_the_address_it_saw_counts_not_what_the_client_claims(settings):
    settings.RATE_LIMIT_TRUSTED_PROXIES = 1
    # The client sent "X-Forwarded-For: 198.51.100.1" itself; the ingress appended its address.
    assert client_key(request_from("10.0.0.5", "198.51.100.1, 203.0.113.7")) == "203.0.113.7"
    assert client_key(request_from("10.0.0.5")) == "10.0.0.5"  # no header: the peer


def test_ipv6_clients_are_counted_by_their_64_prefix(settings):
    settings.RATE_LIMIT_TRUSTED_PROXIES = 0
    one = client_key(request_from("2001:db8:1:2:aaaa::1"))
    assert one == client_key(request_from("2001:db8:1:2:bbbb::9")) == "2001:db8:1:2::/64"
    assert one != client_key(request_from("2001:db8:1:3::1"))
    assert client_key(request_from("::ffff:192.0.2.9")) == "192.0.2.9"
