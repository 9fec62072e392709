"""push-image.sh against a real registry: Debian's docker-registry (the CNCF distribution) on a
free local port, over plain HTTP. The pushed reference must carry the digest the registry
serves for the tag, since releases deploy by that digest."""
import os
import socket
import subprocess
import time
import urllib.request

import pytest

from tests.container.chart_support import CI, ROOT
from testsupport.components import missing_component
from testsupport.processes import stop_process_group

pytestmark = pytest.mark.container


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def engine(*args, **kwargs):
    """The container engine as the CI scripts configure it (scripts/lib.sh)."""
    script = f'source "{ROOT}/scripts/lib.sh"; engine "$@"'
    return subprocess.run(["bash", "-c", script, "engine", *args],
                          capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="module")
def container_tools():
    """podman and Debian's docker-registry, from deploy/ci/install-tools.sh."""
    installed = subprocess.run([str(CI / "install-tools.sh")], capture_output=True, text=True)
    if installed.returncode != 0:
        missing_component("podman or docker-registry is missing and deploy/ci/install-tools.sh "
                          "failed:\n" + installed.stderr[-3000:],
                          "run deploy/ci/install-tools.sh as root")


@pytest.fixture
def registry(tmp_path, container_tools):
    port = free_port()
    config = tmp_path / "registry.yml"
    config.write_text(f"""version: 0.1
storage:
  filesystem: {{rootdirectory: {tmp_path / "data"}}}
http:
  addr: 127.0.0.1:{port}
log: {{level: warn}}
""")
    process = subprocess.Popen(["docker-registry", "serve", str(config)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               start_new_session=True)
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"registry did not start: {process.stderr.read().decode()}")
            time.sleep(0.2)
    yield f"127.0.0.1:{port}"
    stop_process_group(process)


def import_image(tmp_path, role: str, model_version: str) -> str:
    """A one-file image with the labels push-image.sh reads (revision, model version)."""
    root = tmp_path / f"rootfs-{role}"
    root.mkdir()
    (root / "hello.txt").write_text(f"a tiny {role} image for the push test\n")
    tarball = tmp_path / f"rootfs-{role}.tar"
    subprocess.run(["tar", "-C", str(root), "-cf", str(tarball), "."], check=True)
    name = f"localhost/catsite-push-test-{role}:{os.getpid()}"
    result = engine("import",
                    "--change", "LABEL org.opencontainers.image.revision=0123456789abcdef",
                    "--change", f"LABEL io.catsite.model.version={model_version}",
                    str(tarball), name)
    assert result.returncode == 0, result.stderr
    return name


@pytest.fixture
def tiny_image(tmp_path, container_tools):
    name = import_image(tmp_path, "web", "2.3.4")
    yield name
    engine("rmi", "-f", name)


@pytest.fixture
def tiny_model_image(tmp_path, container_tools):
    name = import_image(tmp_path, "model", "2.3.4")
    yield name
    engine("rmi", "-f", name)


def push(tmp_path, registry, **env):
    return subprocess.run(
        [str(CI / "push-image.sh")], capture_output=True, text=True,
        env={**os.environ, "REGISTRY": registry, "IMAGE_REPOSITORY": "catsite",
             "REGISTRY_TLS_VERIFY": "false", "IMAGE_REF_FILE": str(tmp_path / "image-ref"),
             **env})


def registry_digest(registry: str, repository: str, tag: str) -> str:
    request = urllib.request.Request(
        f"http://{registry}/v2/{repository}/manifests/{tag}", method="HEAD",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json, "
                           "application/vnd.docker.distribution.manifest.v2+json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Docker-Content-Digest"]


def test_push_records_the_digest_the_registry_serves(tmp_path, registry, tiny_image):
    result = push(tmp_path, registry, IMAGE=tiny_image)
    assert result.returncode == 0, result.stderr
    # Without IMAGE_TAG the tag is the image's revision label, shortened.
    served = registry_digest(registry, "catsite", "0123456789ab")
    assert (tmp_path / "image-ref").read_text().strip() == f"{registry}/catsite@{served}"
    assert (tmp_path / "model-version").read_text().strip() == "2.3.4"
    assert not (tmp_path / "model-image-ref").exists()


def test_push_records_the_model_images_digest_beside_the_web_images(
        tmp_path, registry, tiny_image, tiny_model_image):
    result = push(tmp_path, registry, IMAGE=tiny_image, MODEL_IMAGE=tiny_model_image)
    assert result.returncode == 0, result.stderr
    web = registry_digest(registry, "catsite", "0123456789ab")
    model = registry_digest(registry, "catsite-model", "0123456789ab")
    assert web != model  # two images, each by its own digest
    assert (tmp_path / "image-ref").read_text().strip() == f"{registry}/catsite@{web}"
    assert (tmp_path / "model-image-ref").read_text().strip() == f"{registry}/catsite-model@{model}"


def test_push_refuses_images_that_carry_different_models(tmp_path, registry, tiny_image):
    other = import_image(tmp_path, "other-model", "9.9.9")
    try:
        result = push(tmp_path, registry, IMAGE=tiny_image, MODEL_IMAGE=other)
    finally:
        engine("rmi", "-f", other)
    assert result.returncode != 0
    assert "carries model 2.3.4 but" in result.stderr
    assert not (tmp_path / "image-ref").exists()  # nothing pushed, nothing recorded
