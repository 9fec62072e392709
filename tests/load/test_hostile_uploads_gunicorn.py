"""Eight hostile uploads at once into one gunicorn worker (eight threads), as issue 24 sent them:
each answered correctly and the worker's peak resident memory within its budget.

- a progressive 7071 x 7071 JPEG with an end-of-image marker in a comment between its scans
  (read as one scan, it skipped the budget and the gate: 1.4 GB with 8 at once): refused, 413;
- the EXIF bombs, 64 x 64 PNG, WebP and JPEG whose Orientation declares SHORT[9,000,000]
  (2.2 GB with 8 at once): refused, 400, before Pillow reads the EXIF;
- eight visitors sharing a 6000 x 6000 JPEG with their feedback (re-encoded at full size
  outside the budget and the gate: 1.32 GB): kept, 201, within the same gate as identification.

    python -m pytest tests/load/test_hostile_uploads_gunicorn.py -m slow
"""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from catmodel.inference import DEFAULT_MAX_DECODE_BYTES
from testsupport import hostile_images, images, load
from testsupport.harness import GunicornServer, multipart, prepare_site, request

from .test_mixed_load import WORKER_PEAK_RSS_LIMIT_MB

pytestmark = pytest.mark.slow

AT_ONCE = 8


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return prepare_site(tmp_path_factory.mktemp("hostile-site"))


@pytest.fixture
def server(site):
    """A fresh worker for each test, so that its peak is that test's own."""
    # All eight decode at once, as issue 24 sent them: the cap on concurrent identifications
    # (IDENTIFY_MAX_CONCURRENT, which would refuse the eighth) is tested in test_slow_clients.py.
    env = site.with_env(MODEL_REQUIRED=1, IDENTIFY_RATE_LIMIT="off", FEEDBACK_RATE_LIMIT="off",
                        GUNICORN_ACCESS_LOG="", FEEDBACK_PHOTO_DIR=site.workdir / "kept",
                        IDENTIFY_MAX_CONCURRENT=0)
    with GunicornServer(env, workers=1, threads=AT_ONCE) as running:
        running.wait_workers(1)
        yield running


def eight_at_once(server, call: load.Call) -> load.Run:
    return load.run(server.url, [call], clients=AT_ONCE, requests_per_client=1, timeout=120)


def worker_peak_mb(server) -> float:
    return max(server.worker_peak_rss_mb().values())


@pytest.mark.parametrize("name, expect", [
    ("RGB-jpeg-progressive-444-comment.jpeg", {413}),
    ("exif-bomb.png", {400}),
    ("exif-bomb.webp", {400}),
    ("exif-bomb.jpeg", {400}),
])
def test_eight_hostile_uploads_at_once_stay_within_the_workers_budget(server, name, expect):
    data = hostile_images.cached_files(DEFAULT_MAX_DECODE_BYTES)[name].read_bytes()
    run = eight_at_once(server, load.Call.upload(name, "/api/classify/", data, filename=name,
                                                 expect=expect))
    assert len(run.samples) == AT_ONCE
    assert not run.errors(), [(s.status, s.body[:200]) for s in run.errors()]
    peak = worker_peak_mb(server)
    print(f"\n{name}: {AT_ONCE} at once, worker peak {peak:.0f} MB")
    assert peak < WORKER_PEAK_RSS_LIMIT_MB, peak


def test_eight_shared_photos_at_once_are_kept_within_the_workers_budget(server):
    photo = images.jpeg(images.chelsea(), size=(6000, 6000))
    ids = []
    for _ in range(AT_ONCE):  # one identification each, one after the other
        body, content_type = multipart("image", "cat.jpg", photo)
        status, _headers, answer = request("POST", server.url + "/api/classify/", body,
                                           {"Content-Type": content_type}, timeout=60)
        assert status == 200, answer[:300]
        ids.append(json.loads(answer)["id"])
    before_sharing = worker_peak_mb(server)

    def share(identification_id: str) -> int:
        body, content_type = multipart("image", "cat.jpg", photo,
                                       fields={"correct": "true", "share_photo": "true"})
        status, _headers, answer = request(
            "POST", f"{server.url}/api/identifications/{identification_id}/feedback/", body,
            {"Content-Type": content_type}, timeout=120)
        assert status in (201, 503), answer[:300]  # 503: the gate's wait ran out
        return status

    with ThreadPoolExecutor(AT_ONCE) as pool:
        statuses = list(pool.map(share, ids))
    peak = worker_peak_mb(server)
    print(f"\n{AT_ONCE} shares at once: worker peak {peak:.0f} MB "
          f"({before_sharing:.0f} MB after identifying), answers {statuses}")
    assert 201 in statuses
    assert peak < WORKER_PEAK_RSS_LIMIT_MB, peak
