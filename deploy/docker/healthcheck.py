"""The image's HEALTHCHECK: GET /healthz on the local gunicorn, as a host Django accepts.

Django answers 400 for a Host header outside DJANGO_ALLOWED_HOSTS, so the check sends the first
allowed host rather than 127.0.0.1. Exit 0 when healthy, 1 otherwise (Docker's convention).
"""
import os
import sys
import urllib.request


def probe_host(allowed_hosts: str) -> str:
    first = allowed_hosts.split(",")[0].strip().lstrip(".")
    return "localhost" if first in ("", "*") else first


def main() -> int:
    port = os.environ.get("PORT", "8000")
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/healthz",
        headers={"Host": probe_host(os.environ.get("DJANGO_ALLOWED_HOSTS", ""))},
    )
    try:
        with urllib.request.urlopen(request, timeout=4) as response:
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"healthcheck failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
