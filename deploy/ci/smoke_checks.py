"""HTTP checks against a running catsite container: the smoke and integration tests of the image.

    python smoke_checks.py BASE_URL --model-version V [--revision R] [--host H]

Checks, in order, and stops at the first failure (exit 1, one line saying what was wrong):
  /healthz 200; /readyz 200 with the model loaded; /version names the expected model version
  (and source revision); the home page renders and one of its static files is served (so
  collectstatic ran at build); POST a real cat photo (scikit-image's chelsea, a tabby) to
  /api/classify/ -> a cat (its taxon and candidates); POST a text file -> 400 with a JSON error.
Uses only the standard library, plus scikit-image and Pillow to make the photo.
"""
import argparse
import io
import json
import re
import sys
import urllib.error
import urllib.request
import uuid


class CheckFailed(Exception):
    pass


class Site:
    def __init__(self, base_url: str, host: str):
        self.base_url = base_url.rstrip("/")
        self.host = host

    def request(self, path, data=None, content_type=None):
        """(status, headers, body bytes); HTTP errors are answers too."""
        headers = {"Host": self.host, "Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base_url + path, data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.headers, exc.read()

    def json(self, path, expect_status=200, **kwargs):
        status, _, body = self.request(path, **kwargs)
        try:
            payload = json.loads(body)
        except ValueError:
            raise CheckFailed(f"{path}: answered {status} with non-JSON {body[:200]!r}") from None
        if status != expect_status:
            raise CheckFailed(f"{path}: expected {expect_status}, got {status}: {payload}")
        return payload

    def post_file(self, path, field, filename, content, content_type, expect_status):
        boundary = uuid.uuid4().hex
        body = (
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n"
        ).encode() + content + f"\r\n--{boundary}--\r\n".encode()
        return self.json(path, expect_status=expect_status, data=body,
                         content_type=f"multipart/form-data; boundary={boundary}")


def cat_photo_jpeg() -> bytes:
    from PIL import Image
    from skimage import data

    buffer = io.BytesIO()
    Image.fromarray(data.chelsea()).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def check_health(site):
    if site.json("/healthz").get("status") != "ok":
        raise CheckFailed("/healthz: status is not ok")
    ready = site.json("/readyz")
    if not ready.get("ready") or not ready["checks"]["model"]["loaded"]:
        raise CheckFailed(f"/readyz: not ready with the model loaded: {ready}")
    print("ok   /healthz and /readyz (model loaded)")


def check_version(site, model_version, revision):
    version = site.json("/version")
    served = version.get("model", {}).get("version")
    if served != model_version:
        raise CheckFailed(f"/version: model version {served!r}, expected {model_version!r}")
    if revision and version.get("app", {}).get("revision") != revision:
        raise CheckFailed(f"/version: revision {version.get('app')}, expected {revision!r}")
    print(f"ok   /version: model {version['model']['name']} {served}, "
          f"revision {version['app'].get('revision')}")


def check_pages_and_static(site):
    status, headers, body = site.request("/")
    if status != 200:
        raise CheckFailed(f"/: expected 200, got {status}")
    static_paths = re.findall(rb'(?:href|src)="(/static/[^"]+)"', body)
    if not static_paths:
        raise CheckFailed("/: the home page links no static file")
    path = static_paths[0].decode()
    status, headers, _ = site.request(path)
    if status != 200:
        raise CheckFailed(f"{path}: static file answered {status} (was collectstatic run?)")
    print(f"ok   / renders and serves {path}")


def check_classify_cat(site, model_version):
    answer = site.post_file("/api/classify/", "image", "chelsea.jpg", cat_photo_jpeg(),
                            "image/jpeg", expect_status=200)
    taxon = answer.get("taxon")
    if not answer.get("is_cat") or not taxon or not answer.get("candidates"):
        raise CheckFailed(f"/api/classify/: the tabby photo was not identified as a cat: {answer}")
    if answer["model"]["version"] != model_version:
        raise CheckFailed(f"/api/classify/: answered by model {answer['model']}")
    # A house cat of no breed the model can tell: the domestic cat, with look-alike breeds.
    print(f"ok   /api/classify/ chelsea.jpg -> {taxon['name']}, "
          f"{len(answer['candidates'])} candidates (cats {answer['cat_probability']:.0%})")


def check_classify_not_an_image(site):
    answer = site.post_file("/api/classify/", "image", "notes.txt",
                            b"This is a text file, not a photo of a cat.\n", "text/plain",
                            expect_status=400)
    if not answer.get("error", {}).get("code"):
        raise CheckFailed(f"/api/classify/: a 400 without an error code: {answer}")
    print(f"ok   /api/classify/ notes.txt -> 400 {answer['error']['code']}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url")
    parser.add_argument("--model-version", required=True)
    parser.add_argument("--revision", default="")
    parser.add_argument("--host", default="localhost", help="Host header (an allowed host)")
    args = parser.parse_args(argv)
    site = Site(args.base_url, args.host)
    try:
        check_health(site)
        check_version(site, args.model_version, args.revision)
        check_pages_and_static(site)
        check_classify_cat(site, args.model_version)
        check_classify_not_an_image(site)
    except CheckFailed as exc:
        print(f"FAIL {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
