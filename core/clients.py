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
            address = without_port(forwarded[-trusted])
    return address


def without_port(entry: str) -> str:
    """An X-Forwarded-For entry's address: ``1.2.3.4:5678`` (Azure Application Gateway writes
    the client's port) -> ``1.2.3.4``; ``[2001:db8::1]:443`` and ``[2001:db8::1]`` ->
    ``2001:db8::1``; a bare IPv6 address stays as it is. Without this every source port of one
    client would count as a new client."""
    entry = entry.strip()
    if entry.startswith("["):
        return entry[1:].split("]", 1)[0]
    if entry.count(":") == 1:
        return entry.split(":", 1)[0]
    return entry


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
