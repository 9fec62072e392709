"""The model service's memory under one hostile request, measured as the peak resident memory
(VmHWM) of the real ``manage.py serve_model`` process: a request's decodes share one budget,
inference runs in chunks, JSON is bounded before it is parsed, and what a request took goes back
to the system (the allocator settings of catmodel/malloc.py). Without these, one request of 64 WebP
photos of 3000 x 3000 took the service from 316 MB to 990 MB and kept 954 MB; 18 MB of JSON
numbers, to 805 MB; 64 small photos, to 880 MB."""
from __future__ import annotations

import io
import json
import urllib.error
import urllib.request

import numpy as np
import pytest
import tritonclient.http as triton
from PIL import Image
from tritonclient.utils import InferenceServerException

from catmodel.inference import DEFAULT_MAX_DECODE_BYTES, load_classifier
from catmodel.serving.model import PREDICT_CHUNK
from catmodel.serving.tensors import IMAGES, PROBABILITIES
from testsupport import images
from testsupport.harness import install_model, reset_peak_rss, rss_mb
from testsupport.model_service import ModelService, photos_input

MB = 2**20
# One decode may take the budget (144 MB) and the decoder's own working memory above it: the
# 200 MB the decode tests allow one decode above the interpreter (test_decode_memory.py).
ONE_DECODE_MB = 200
# What a request may leave behind once answered: warm buffers, not its photos.
KEPT_MB = 80


@pytest.fixture(scope="module")
def package(model_package_dir):
    return load_classifier(model_package_dir)


@pytest.fixture(scope="module")
def service(tmp_path_factory, model_package_dir, package):
    """The service with the production limits (UPLOAD_MAX_BYTES 20 MB), warm: one request of
    as many photos as ONNX Runtime runs at once has grown its arena to the size it keeps."""
    workdir = tmp_path_factory.mktemp("serve-model-memory")
    install_model(model_package_dir, workdir / "model")
    with ModelService(workdir / "model", workdir) as running:
        client = triton.InferenceServerClient(running.address, network_timeout=300)
        client.infer(package.name,
                     [photos_input(*[images.jpeg(images.chelsea())] * PREDICT_CHUNK)])
        client.close()
        yield running


@pytest.fixture
def client(service):
    client = triton.InferenceServerClient(service.address, network_timeout=300)
    yield client
    client.close()


class Memory:
    """The service's resident memory before, at its peak during, and after a ``with`` block."""

    def __init__(self, service):
        self.pid = service.pid

    def __enter__(self):
        reset_peak_rss(self.pid)
        self.baseline = rss_mb(self.pid)
        return self

    def __exit__(self, *exc):
        self.peak = rss_mb(self.pid, "VmHWM") - self.baseline
        self.kept = rss_mb(self.pid) - self.baseline

    def __str__(self):
        return f"baseline {self.baseline:.0f} MB, peak +{self.peak:.0f} MB, kept +{self.kept:.0f}"


def large_webp() -> bytes:
    """3000 x 3000: within one decode's budget (WebP costs 16 bytes a pixel: 144 MB), 19 KB."""
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((3000, 3000)).convert("RGB").save(buffer, "WEBP")
    assert 3000 * 3000 * 16 <= DEFAULT_MAX_DECODE_BYTES
    return buffer.getvalue()


def test_64_large_webps_in_one_request_are_refused_within_one_decodes_memory(
        service, client, package):
    with Memory(service) as memory, pytest.raises(InferenceServerException) as refused:
        client.infer(package.name, [photos_input(*[large_webp()] * 64)])
    print(f"\n64 WebP 3000 x 3000 in one request: {memory}")
    assert refused.value.status() == "400"
    assert "together" in refused.value.message()
    assert memory.peak < ONE_DECODE_MB, memory
    assert memory.kept < KEPT_MB, memory


def test_64_small_photos_in_one_request_are_identified_in_bounded_memory(
        service, client, package):
    photos = [images.jpeg(images.chelsea(), size=(320 + index, 240)) for index in range(64)]
    with Memory(service) as memory:
        result = client.infer(package.name, [photos_input(*photos)])
    print(f"\n64 small photos in one request: {memory}")
    assert result.as_numpy(PROBABILITIES).shape == (64, len(package.labels))
    assert memory.peak < ONE_DECODE_MB, memory
    assert memory.kept < KEPT_MB, memory


def post_json(service, package, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(f"{service.url}/v2/models/{package.name}/infer", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=300) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def json_request(name: str, shape: list[int], datatype: str, data: str) -> bytes:
    return (f'{{"inputs": [{{"name": "{name}", "shape": {json.dumps(shape)}, '
            f'"datatype": "{datatype}", "data": {data}}}]}}').encode()


def nested_tensor(images_count: int) -> str:
    row = "[" + ",".join(["0.5"] * 224) + "]"
    image = "[" + ",".join(["[" + ",".join([row] * 224) + "]"] * 3) + "]"
    return "[" + ",".join([image] * images_count) + "]"


@pytest.mark.parametrize("body, status, says", [
    # 18 MB of nested numbers, within the request size limit: 32 images as JSON.
    (lambda: json_request("input", [32, 3, 224, 224], "FP32", nested_tensor(32)), 413,
     "binary data extension"),
    # 3 MB of empty objects: a million Python dicts once parsed.
    (lambda: json_request(IMAGES, [1], "BYTES", "[" + ",".join(["{}"] * 1_000_000) + "]"), 400,
     "values"),
    # Nesting a million levels deep.
    (lambda: json_request(IMAGES, [1], "BYTES", "[" * 1_000_000 + "]" * 1_000_000), 400,
     "levels deep"),
], ids=["numbers", "objects", "nesting"])
def test_json_over_the_bounds_is_refused_before_it_is_parsed(service, package, body, status,
                                                              says):
    request = body()
    with Memory(service) as memory:
        answered, answer = post_json(service, package, request)
    print(f"\n{len(request) / MB:.0f} MB of JSON: {memory}")
    assert answered == status and says in answer["error"], answer
    # The body itself, scanned once: nothing like the parsed objects.
    assert memory.peak < 3 * len(request) / MB + 40, memory


def test_a_json_tensor_within_the_bounds_is_answered_as_the_binary_one(client, package):
    batch = package.preprocess(package.decode(images.jpeg(images.chelsea())))
    tensors = []
    for binary in (True, False):
        tensor = triton.InferInput(package.manifest.input.name, list(batch.shape), "FP32")
        tensor.set_data_from_numpy(batch, binary_data=binary)
        tensors.append(client.infer(package.name, [tensor]).as_numpy(PROBABILITIES))
    np.testing.assert_allclose(tensors[0], tensors[1], atol=1e-6)
