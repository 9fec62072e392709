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


@pytest.fixture
def tiny_image(tmp_path, container_tools):
    """A one-file image with the revision label push-image.sh reads."""
    root = tmp_path / "rootfs"
    root.mkdir()
    (root / "hello.txt").write_text("a tiny image for the push test\n")
    tarball = tmp_path / "rootfs.tar"
    subprocess.run(["tar", "-C", str(root), "-cf", str(tarball), "."], check=True)
    name = f"localhost/catsite-push-test:{os.getpid()}"
    result = engine("import", "--change",
                    "LABEL org.opencontainers.image.revision=0123456789abcdef",
                    str(tarball), name)
    assert result.returncode == 0, result.stderr
    yield name
    engine("rmi", "-f", name)


def registry_digest(registry: str, repository: str, tag: str) -> str:
    request = urllib.request.Request(
        f"http://{registry}/v2/{repository}/manifests/{tag}", method="HEAD",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json, "
                           "application/vnd.docker.distribution.manifest.v2+json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Docker-Content-Digest"]


def test_push_records_the_digest_the_registry_serves(tmp_path, registry, tiny_image):
    ref_file = tmp_path / "image-ref"
    result = subprocess.run(
        [str(CI / "push-image.sh")], capture_output=True, text=True,
        env={**os.environ, "IMAGE": tiny_image, "REGISTRY": registry,
             "IMAGE_REPOSITORY": "catsite", "REGISTRY_TLS_VERIFY": "false",
             "IMAGE_REF_FILE": str(ref_file)})
    assert result.returncode == 0, result.stderr
    # Without IMAGE_TAG the tag is the image's revision label, shortened.
    served = registry_digest(registry, "catsite", "0123456789ab")
    assert ref_file.read_text().strip() == f"{registry}/catsite@{served}"
