"""The site as the model service's client (INFERENCE_URL): identification through a real
``manage.py serve_model`` process, and what visitors get while it is stopped or hangs."""
import socket
import threading

import pytest
from django.urls import reverse

from catmodel.inference import ImageClassifier
from catmodel.serving.client import RemoteClassifier
from classifier import runtime
from testsupport import images
from testsupport.harness import install_model
from testsupport.model_service import ModelService
from testsupport.web_fixtures import cat_jpeg, coffee_jpeg, upload

pytestmark = pytest.mark.django_db

PAGE = reverse("classifier:identify")
API = reverse("api:classify")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, model_package_dir):
    model_dir = tmp_path_factory.mktemp("service-model") / "model"
    install_model(model_package_dir, model_dir)
    return model_dir


@pytest.fixture(scope="module")
def service(model_dir, tmp_path_factory):
    with ModelService(model_dir, tmp_path_factory.mktemp("service")) as running:
        yield running


def use_service(settings, tmp_path, url, timeout=10.0, retries=1):
    """This process as the service's client: INFERENCE_URL set, no model installed here."""
    settings.INFERENCE_URL = url
    settings.INFERENCE_TIMEOUT = timeout
    settings.INFERENCE_RETRIES = retries
    settings.MODEL_DIR = tmp_path / "no-model-here"
    settings.MODEL_REQUIRED = True
    return runtime.load(force=True)


@pytest.fixture
def through_service(settings, tmp_path, service):
    classifier = use_service(settings, tmp_path, service.url)
    yield classifier
    settings.INFERENCE_URL = ""
    runtime.load(force=True)


def test_the_site_loads_no_model_and_identifies_through_the_service(client, through_service):
    assert isinstance(runtime.get(), RemoteClassifier)
    assert not isinstance(runtime.get(), ImageClassifier)
    response = client.post(API, {"image": upload(cat_jpeg())})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["is_cat"] is True and body["taxon"]["name"] == "domestic cat"
    assert body["model"] == {"name": "efficientnet-lite0-imagenet", "version": "1.0.0"}
    assert set(body["timings_ms"]) == {"decode", "preprocess", "inference", "total"}
    assert body["timings_ms"]["inference"] > 0
    coffee = client.post(API, {"image": upload(coffee_jpeg())}).json()
    assert coffee["is_cat"] is False and coffee["predictions"][0]["label"] == "espresso"
    html = client.post(PAGE, {"image": upload(cat_jpeg())}).content.decode()
    assert "This is a domestic cat" in html


def test_version_and_readyz_name_the_services_model(client, through_service):
    model = client.get("/version").json()["model"]
    assert model == {"name": "efficientnet-lite0-imagenet", "version": "1.0.0", "loaded": True,
                     "service": True}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["model"]["loaded"] is True


@pytest.mark.parametrize("name, data, status, code", [
    ("notes.jpg", images.TEXT, 400, "invalid_image"),
    ("cat.pdf", images.PDF_HEAD, 415, "unsupported_format"),
    ("bomb.png", images.png_declaring(100_000, 100_000), 413, "too_many_pixels"),
])
def test_a_photo_the_service_refuses_gets_the_same_answer_as_in_process(
        client, through_service, name, data, status, code):
    response = client.post(API, {"image": upload(data, name=name)})
    assert response.status_code == status
    assert response.json()["error"]["code"] == code


def test_the_service_stopped_mid_run_is_a_503_with_retry_after_and_pages_keep_working(
        client, settings, tmp_path, model_dir):
    service = ModelService(model_dir, tmp_path).start()
    try:
        use_service(settings, tmp_path, service.url, timeout=5, retries=1)
        assert client.post(API, {"image": upload(cat_jpeg())}).status_code == 200
        service.stop()

        api = client.post(API, {"image": upload(cat_jpeg())})
        assert api.status_code == 503
        assert api.json()["error"]["code"] == "model_unavailable"
        assert int(api["Retry-After"]) > 0
        page = client.post(PAGE, {"image": upload(cat_jpeg())})
        assert page.status_code == 503 and int(page["Retry-After"]) > 0
        assert "not available right now" in page.content.decode()
        for path in ("/", "/species/", "/species/domestic-tabby/", "/api/species/", "/healthz"):
            assert client.get(path).status_code == 200, path
        runtime.get()._status = None  # the status is remembered for a few seconds
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["model"]["ok"] is False
        assert client.get("/version").json()["model"]["loaded"] is False

        # Back where it was: identification works again without restarting the site.
        service = ModelService(model_dir, tmp_path, port=service.port).start()
        assert client.post(API, {"image": upload(cat_jpeg())}).status_code == 200
    finally:
        service.stop()
        settings.INFERENCE_URL = ""
        runtime.load(force=True)


def test_a_service_that_does_not_answer_is_a_503_after_the_timeout(client, settings, tmp_path):
    # A real listener that accepts connections and never answers: a hung service.
    hung = socket.create_server(("127.0.0.1", 0))
    accepted = []
    stop = threading.Event()

    def accept():
        hung.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(hung.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        use_service(settings, tmp_path, f"http://127.0.0.1:{hung.getsockname()[1]}",
                    timeout=1, retries=2)
        response = client.post(API, {"image": upload(cat_jpeg())})
        assert response.status_code == 503 and int(response["Retry-After"]) > 0
        assert len(accepted) == 1  # a slow service is not asked again
        assert client.get("/species/").status_code == 200
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        hung.close()
        settings.INFERENCE_URL = ""
        runtime.load(force=True)


@pytest.mark.parametrize("url, timeout, retries, problem", [
    ("catsite-model:8080", 10, 1, "classifier.E002"),  # no scheme
    ("ftp://catsite-model", 10, 1, "classifier.E002"),
    ("http://catsite-model:8080", 0, 1, "classifier.E003"),
    ("http://catsite-model:8080", 10, -1, "classifier.E003"),
])
def test_a_malformed_inference_setting_fails_the_system_checks(settings, url, timeout, retries,
                                                               problem):
    from django.core.checks import run_checks

    settings.INFERENCE_URL, settings.INFERENCE_TIMEOUT = url, timeout
    settings.INFERENCE_RETRIES = retries
    assert [e for e in run_checks() if e.id == problem]
    settings.INFERENCE_URL, settings.INFERENCE_TIMEOUT = "http://catsite-model:8080", 10
    settings.INFERENCE_RETRIES = 1
    assert not [e for e in run_checks() if e.id.startswith("classifier.E00")]
