"""manage.py serve_model, spoken to by NVIDIA's tritonclient: a real Open Inference Protocol v2
client that no one here wrote, against the real server in its own process."""
from __future__ import annotations

import json
import socket
import subprocess
import urllib.error
import urllib.request

import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from catmodel.inference import load_classifier
from catmodel.serving.tensors import IMAGES, LABELS, PROBABILITIES
from testsupport import images
from testsupport.harness import PYTHON, ROOT, base_env, install_model
from testsupport.model_service import ModelService, photos_input

DOMESTIC_CATS = {"tabby", "tiger cat", "Persian cat", "Siamese cat", "Egyptian cat"}


@pytest.fixture(scope="module")
def package(model_package_dir):
    return load_classifier(model_package_dir)


@pytest.fixture(scope="module")
def service(tmp_path_factory, model_package_dir):
    workdir = tmp_path_factory.mktemp("serve-model")
    install_model(model_package_dir, workdir / "model")
    # A small request limit, to see it refuse a large body (a photo here is under 100 KB).
    with ModelService(workdir / "model", workdir, UPLOAD_MAX_BYTES=200_000) as running:
        yield running


@pytest.fixture
def client(service):
    client = triton.InferenceServerClient(service.address, network_timeout=30)
    yield client
    client.close()


def tensor_input(package, batch: np.ndarray) -> triton.InferInput:
    tensor = triton.InferInput(package.manifest.input.name, list(batch.shape), "FP32")
    tensor.set_data_from_numpy(batch)
    return tensor


def probabilities_by_label(result) -> list[dict[str, float]]:
    labels = [label.decode() for label in result.as_numpy(LABELS)]
    return [dict(zip(labels, row.tolist(), strict=True))
            for row in result.as_numpy(PROBABILITIES)]


def test_live_ready_and_model_ready(client, package):
    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.is_model_ready(package.name)
    assert not client.is_model_ready("no-such-model")


def test_metadata_names_the_package_version_inputs_and_outputs(client, package):
    metadata = client.get_model_metadata(package.name)
    assert metadata["name"] == package.name
    assert metadata["versions"] == [package.version]
    labels = len(package.labels)
    assert metadata["inputs"] == [
        {"name": IMAGES, "datatype": "BYTES", "shape": [-1]},
        {"name": package.manifest.input.name, "datatype": "FP32", "shape": [-1, 3, 224, 224]},
    ]
    assert metadata["outputs"] == [
        {"name": PROBABILITIES, "datatype": "FP32", "shape": [-1, labels]},
        {"name": LABELS, "datatype": "BYTES", "shape": [labels]},
    ]


def test_encoded_photos_a_tabby_is_a_domestic_cat_and_coffee_is_not_a_cat(client, package):
    cat = images.jpeg(images.chelsea())
    coffee = images.encode(images.coffee(), "PNG")
    result = client.infer(package.name, [photos_input(cat, coffee)])
    assert result.get_response()["model_version"] == package.version
    timings = result.get_response()["parameters"]
    assert set(timings) == {"decode_ms", "preprocess_ms", "inference_ms"}
    assert all(value > 0 for value in timings.values())
    assert result.as_numpy(PROBABILITIES).dtype == np.float32
    assert result.as_numpy(PROBABILITIES).shape == (2, len(package.labels))
    on_cat, on_coffee = probabilities_by_label(result)
    assert sum(on_cat[label] for label in DOMESTIC_CATS) > 0.8
    assert max(on_cat, key=on_cat.get) in DOMESTIC_CATS
    assert max(on_coffee, key=on_coffee.get) == "espresso"
    assert sum(on_coffee[label] for label in DOMESTIC_CATS) < 0.01
    assert sum(on_coffee.values()) == pytest.approx(1.0, abs=1e-4)


def test_the_tensor_input_gives_what_the_same_photo_gives(client, package):
    cat = images.jpeg(images.chelsea())
    batch = package.preprocess(package.decode(cat))  # catsite's own preprocessing, here
    by_tensor = client.infer(package.name, [tensor_input(package, batch)])
    by_photo = client.infer(package.name, [photos_input(cat)])
    np.testing.assert_allclose(by_tensor.as_numpy(PROBABILITIES),
                               by_photo.as_numpy(PROBABILITIES), atol=1e-6)
    # A batch of two tensors answers two rows, in order.
    grey = np.zeros_like(batch)
    pair = client.infer(package.name, [tensor_input(package, np.concatenate([grey, batch]))],
                        outputs=[triton.InferRequestedOutput(PROBABILITIES, binary_data=True)])
    rows = pair.as_numpy(PROBABILITIES)
    assert rows.shape == (2, len(package.labels))
    np.testing.assert_allclose(rows[1], by_photo.as_numpy(PROBABILITIES)[0], atol=1e-6)
    assert pair.as_numpy(LABELS) is None  # only what was asked for


def refused(client, package, inputs) -> InferenceServerException:
    with pytest.raises(InferenceServerException) as caught:
        client.infer(package.name, inputs)
    return caught.value


def test_bad_input_is_a_400_with_a_message(client, package):
    not_a_photo = refused(client, package, [photos_input(b"This is a text file.\n")])
    assert not_a_photo.status() == "400"
    assert "not an image we can read" in not_a_photo.message()
    cut = images.truncated(images.jpeg(images.chelsea()))
    truncated = refused(client, package, [photos_input(cut)])
    assert truncated.status() == "400"
    assert refused(client, package, [photos_input(b"")]).status() == "400"
    wrong_shape = np.zeros((1, 3, 200, 224), dtype=np.float32)
    error = refused(client, package, [tensor_input(package, wrong_shape)])
    assert error.status() == "400" and "[N, 3, 224, 224]" in error.message()
    nan = np.full((1, 3, 224, 224), np.nan, dtype=np.float32)
    assert refused(client, package, [tensor_input(package, nan)]).status() == "400"
    integers = triton.InferInput(package.manifest.input.name, [1, 3, 224, 224], "INT32")
    integers.set_data_from_numpy(np.zeros((1, 3, 224, 224), dtype=np.int32))
    assert refused(client, package, [integers]).status() == "400"
    unknown = triton.InferInput("pixels", [1], "FP32")
    unknown.set_data_from_numpy(np.zeros(1, dtype=np.float32))
    assert "'images'" in refused(client, package, [unknown]).message()


def post(service, path, body: bytes, headers=None) -> tuple[int, dict]:
    request = urllib.request.Request(service.url + path, data=body, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


_BINARY_HEAD = (b'{"inputs": [{"name": "images", "shape": [1], "datatype": "BYTES", '
                b'"parameters": {"binary_data_size": 7}}]}')


@pytest.mark.parametrize("body, headers", [
    (b"{", {"Content-Type": "application/json"}),
    (b'{"inputs": 3}', {"Content-Type": "application/json"}),
    (b'{"inputs": [{"name": "images", "shape": [1], "datatype": "BYTES", "data": ["abc"]}]}',
     {"Content-Type": "application/json"}),
    # Binary data extension: a BYTES element that claims 9 bytes and holds 3.
    (_BINARY_HEAD + b"\x09\x00\x00\x00abc",
     {"Inference-Header-Content-Length": str(len(_BINARY_HEAD))}),
    (b"\x00" * 10, {"Inference-Header-Content-Length": "99"}),
])
def test_malformed_requests_are_400_in_the_protocols_error_shape(service, package, body,
                                                                  headers):
    status, answer = post(service, f"/v2/models/{package.name}/infer", body, headers)
    assert status == 400
    assert isinstance(answer["error"], str) and answer["error"]


def raw_exchange(service, head: bytes, chunks=()) -> bytes:
    """Send a request head and body chunks on one socket; return everything answered. The
    server may answer and close before reading the rest, so a failed send ends the sending."""
    with socket.create_connection(("127.0.0.1", service.port), timeout=30) as sock:
        try:
            sock.sendall(head)
            for chunk in chunks:
                sock.sendall(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while data := sock.recv(65536):
                answer += data
        except ConnectionResetError:
            pass
    return answer


def test_a_request_over_the_size_limit_is_refused_with_413(service, package):
    path = f"/v2/models/{package.name}/infer".encode()
    declared = raw_exchange(service, b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
                                     b"Content-Length: 2000000\r\n\r\n")
    assert declared.startswith(b"HTTP/1.1 413") and b"larger than" in declared
    # Chunked: no length declared, so the limit is counted as the body arrives.
    chunk = b"%x\r\n%s\r\n" % (100_000, b"x" * 100_000)
    streamed = raw_exchange(service, b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
                                     b"Transfer-Encoding: chunked\r\n\r\n", [chunk] * 20)
    assert streamed.startswith(b"HTTP/1.1 413") and b"larger than" in streamed


def test_an_unknown_model_is_404_in_the_protocols_error_shape(service):
    status, answer = post(service, "/v2/models/no-such-model/infer", b"{}")
    assert status == 404 and "no-such-model" in answer["error"]


def test_without_an_installed_package_it_exits_with_one_line(tmp_path):
    env = {**base_env(tmp_path), "MODEL_DIR": str(tmp_path / "empty")}
    result = subprocess.run([PYTHON, "manage.py", "serve_model", "--port", "1"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "cannot serve the model" in result.stderr and "fetch_model" in result.stderr


def get(service, path) -> int:
    try:
        with urllib.request.urlopen(service.url + path, timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("path", ["/v2/repository/models/{name}/unload",
                                  "/v2/repository/models/{name}/load",
                                  "/v1/models/{name}:predict"])
def test_kserves_unauthenticated_routes_are_closed_and_the_model_stays_ready(
        service, client, package, path):
    """KServe's model repository extension would let anyone who reaches the port unload the
    model while /v2/health/ready stays true; the v1 protocol parses any JSON body whole."""
    status, answer = post(service, path.format(name=package.name), b"{}",
                          {"Content-Type": "application/json"})
    assert status == 404 and answer["error"]
    assert client.is_model_ready(package.name)
    assert get(service, f"/v2/models/{package.name}/ready") == 200
    result = client.infer(package.name, [photos_input(images.jpeg(images.chelsea()))])
    assert result.as_numpy(PROBABILITIES).shape == (1, len(package.labels))


@pytest.mark.parametrize("path", ["/v1/models", "/v1/models/{name}", "/openapi.json",
                                  "/v2/models/{name}/versions/1.0.0/ready"])
def test_only_the_protocols_health_metadata_and_inference_routes_answer(service, package, path):
    assert get(service, path.format(name=package.name)) == 404
    for served in ("/", "/v2", "/v2/health/live", "/v2/health/ready", "/v2/models",
                   f"/v2/models/{package.name}", f"/v2/models/{package.name}/ready"):
        assert get(service, served) == 200, served


def test_it_warms_up_before_its_port_opens_sized_for_its_cpu_quota(tmp_path):
    """Ready (the probe's /v2/models/<name>/ready) only after the warm-up inference, which ran
    before the port opened; a container of one CPU (quota files the test writes) gets one
    decode slot, one ONNX Runtime thread and an event-loop pool of two, whatever the node has."""
    from testsupport import tiny_package

    install_model(tiny_package.write_package(tmp_path / "tiny"), tmp_path / "model")
    (tmp_path / "cgroup").mkdir()
    (tmp_path / "cgroup" / "cpu.max").write_text("100000 100000\n")
    with ModelService(tmp_path / "model", tmp_path, LOG_LEVEL="INFO",
                      CATSITE_CGROUP_ROOT=tmp_path / "cgroup") as service:
        assert get(service, "/v2/health/ready") == 200
        logs = service.logs()
    warm_up = logs.index("Warm-up inferences through tiny-colours 0.0.1")
    assert warm_up < logs.index("Serving model tiny-colours 0.0.1")
    assert "1 decode slots, 1 ONNX Runtime threads" in logs
    assert "Setting max asyncio worker threads as 2" in logs  # KServe's own line
