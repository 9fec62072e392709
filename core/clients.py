"""Who is asking: the client's address, and the key its events are counted under (rate limits,
the admin login lockout)."""
import hashlib
import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """The client's address. Behind RATE_LIMIT_TRUSTED_PROXIES reverse proxies (the ingress),
    the address the nearest trusted proxy saw, taken from the right of X-Forwarded-For: entries
    further left are whatever the client chose to send."""
    address = request.META.get("REMOTE_ADDR", "") or "unknown"
    trusted = settings.RATE_LIMIT_TRUSTED_PROXIES
    if trusted > 0:
        forwarded = [part.strip() for part in
                     request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= trusted:
            address = forwarded[-trusted]
    return address


def client_key(request) -> str:
    """The client's address as a counter key: an IPv6 client usually owns a whole /64, so it is
    counted as one client rather than 2**64 of them."""
    address = client_ip(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return hashlib.sha256(address.encode()).hexdigest()[:32]
    if parsed.version == 6:
        if parsed.ipv4_mapped:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False).network_address) + "/64"
    return str(parsed)
