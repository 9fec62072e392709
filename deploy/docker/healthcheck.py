"""The image's HEALTHCHECK: GET /healthz on the local gunicorn, as a host Django accepts.

Django answers 400 for a Host header outside DJANGO_ALLOWED_HOSTS, so the check sends the first
allowed host rather than 127.0.0.1. The image's `model` role (serve_model) has no /healthz: a 404
there is followed by the protocol's liveness path. Exit 0 when healthy, 1 otherwise (Docker's
convention).
"""
import os
import sys
import urllib.error
import urllib.request

MODEL_SERVER_LIVENESS = "/v2/health/live"


def probe_host(allowed_hosts: str) -> str:
    first = allowed_hosts.split(",")[0].strip().lstrip(".")
    return "localhost" if first in ("", "*") else first


def get(path: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{os.environ.get('PORT', '8000')}{path}",
        headers={"Host": probe_host(os.environ.get("DJANGO_ALLOWED_HOSTS", ""))},
    )
    try:
        with urllib.request.urlopen(request, timeout=4) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def main() -> int:
    try:
        status = get("/healthz")
        if status == 404:
            status = get(MODEL_SERVER_LIVENESS)
    except OSError as exc:
        print(f"healthcheck failed: {exc}", file=sys.stderr)
        return 1
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
