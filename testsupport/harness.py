"""Run the real site under gunicorn on a loopback port, for the benchmarks and the load/fault tests.

    site = prepare_site(workdir)                 # SQLite database, static files, model installed
    with GunicornServer(site.env) as server:     # gunicorn -c catsite/gunicorn_conf.py
        server.url, server.metrics_url, server.worker_pids(), server.worker_rss_mb()

Nothing here imports Django: the server is a separate process tree, configured by environment
variables exactly as production configures it.
"""
from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from testsupport.processes import stop_process_group

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SECRET = "bench-and-load-tests-only-not-a-secret-" + "x" * 20


@dataclass
class Site:
    """An installed site (database, static files, model) and the environment that serves it."""

    workdir: Path
    env: dict = field(default_factory=dict)

    def with_env(self, **overrides) -> dict:
        env = dict(self.env)
        env.update({key: str(value) for key, value in overrides.items()})
        return env


def base_env(workdir: Path) -> dict:
    """Production settings (debug off) on loopback, with everything under ``workdir``."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("DJANGO_", "DATABASE_", "CACHE_", "MODEL_", "IDENTIFY_"))}
    env.update({
        "DJANGO_SETTINGS_MODULE": "catsite.settings",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": SECRET,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CATSITE_VAR_DIR": str(workdir / "var"),
        "STATIC_ROOT": str(workdir / "static"),
        "MODEL_DIR": str(workdir / "model"),
        # The cached build is unsigned, and with debug off the site refuses to serve it unless
        # told that is deliberate (classifier/signing_policy.py). Tests of signed serving set
        # MODEL_TRUSTED_KEYS, which takes precedence.
        "MODEL_ALLOW_UNSIGNED": "1",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    })
    return env


def manage(env: dict, *args: str) -> str:
    result = subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, env=env, text=True,
                            capture_output=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def install_model(package_dir: Path, model_dir: Path, version: str = "1.0.0") -> None:
    """Install a package the way fetch_model leaves it: versions/<v> and a relative current."""
    (model_dir / "versions").mkdir(parents=True, exist_ok=True)
    target = model_dir / "versions" / version
    if not target.exists():
        target.symlink_to(Path(package_dir).resolve(), target_is_directory=True)
    current = model_dir / "current"
    if not current.is_symlink():
        current.symlink_to(f"versions/{version}")


def prepare_site(workdir: Path, database_url: str | None = None, model: bool = True) -> Site:
    """Migrate a database (SQLite in ``workdir`` unless told), collect static files, install
    the cached model package (built on the first run). A few seconds."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    env = base_env(workdir)
    if database_url:
        env["DATABASE_URL"] = database_url
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "collectstatic", "--no-input", "-v", "0")
    if model:
        package = manage({**env, "DJANGO_DEBUG": "1"}, "build_model", "--cached").strip()
        install_model(Path(package.splitlines()[-1]), workdir / "model")
    return Site(workdir, env)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class GunicornServer:
    """gunicorn with the project's configuration (catsite/gunicorn_conf.py) on 127.0.0.1."""

    def __init__(self, env: dict, workers: int | None = None, threads: int | None = None,
                 extra_args: tuple[str, ...] = (), ready_path: str = "/readyz",
                 timeout: float = 60.0):
        self.env = dict(env)
        if workers is not None:
            self.env["WEB_CONCURRENCY"] = str(workers)
        if threads is not None:
            self.env["GUNICORN_THREADS"] = str(threads)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # Prometheus metrics on a port of their own (core/metrics_server.py).
        self.env.setdefault("METRICS_PORT", str(free_port()))
        self.metrics_url = f"http://127.0.0.1:{self.env['METRICS_PORT']}/metrics"
        self.extra_args = extra_args
        self.ready_path = ready_path
        self.timeout = timeout
        self.process: subprocess.Popen | None = None
        log_dir = Path(self.env.get("CATSITE_VAR_DIR", "/tmp"))
        self.log_path = log_dir / f"gunicorn-{uuid.uuid4().hex[:8]}.log"
        self.started_at = 0.0
        self.ready_seconds: float | None = None

    def start(self) -> GunicornServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = open(self.log_path, "wb")
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "-c", "python:catsite.gunicorn_conf",
             "--bind", f"127.0.0.1:{self.port}", *self.extra_args, "catsite.wsgi:application"],
            cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so stop() ends workers too
        )
        self.wait_ready()
        return self

    def wait_ready(self) -> float:
        """Seconds from process start until the ready path answers 200 (or 503 when a test
        wants a server that is up but not ready: any HTTP answer from the app counts)."""
        deadline = self.started_at + self.timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"gunicorn exited with {self.process.returncode}:\n{self.logs()}")
            try:
                status, _headers, _body = request("GET", self.url + self.ready_path, timeout=2)
            except OSError:
                time.sleep(0.02)
                continue
            if status in (200, 503):
                self.ready_seconds = time.monotonic() - self.started_at
                return self.ready_seconds
            time.sleep(0.02)
        raise TimeoutError(f"gunicorn not ready after {self.timeout} s:\n{self.logs()}")

    def wait_workers(self, count: int, timeout: float = 30.0, exclude: set[int] = frozenset()):
        """Wait until ``count`` workers (none of ``exclude``) are up and have loaded the app."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [pid for pid in self.worker_pids() if pid not in exclude]
            if len(pids) >= count and all(_has_loaded_app(pid) for pid in pids):
                return pids
            time.sleep(0.05)
        raise TimeoutError(f"{count} workers not up after {timeout} s: {self.worker_pids()}")

    def worker_pids(self) -> list[int]:
        return children(self.process.pid) if self.process else []

    def worker_rss_mb(self) -> dict[int, float]:
        return {pid: rss_mb(pid) for pid in self.worker_pids()}

    def worker_peak_rss_mb(self) -> dict[int, float]:
        """Each worker's highest resident memory since it started (VmHWM)."""
        return {pid: rss_mb(pid, "VmHWM") for pid in self.worker_pids()}

    def logs(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-5000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if not self.process or self.process.poll() is not None:
            return
        stop_process_group(self.process, grace_seconds=15)
        self.log.close()

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name is in parentheses and may hold spaces: split after the last ")".
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return sorted(found)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory now (VmRSS) or at its peak (VmHWM), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def reset_peak_rss(pid: int) -> None:
    """Start VmHWM again from the current resident memory ("5": Documentation/filesystems/proc.rst),
    so that a later peak is that of what ran in between."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def _has_loaded_app(pid: int) -> bool:
    # A worker that has imported catsite.wsgi has loaded ONNX Runtime's shared library.
    try:
        return "onnxruntime" in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def multipart(field_name: str, filename: str, data: bytes, content_type: str = "image/jpeg",
              fields: dict[str, str] | None = None):
    """(body, content type) of a multipart/form-data request holding one file, after the
    plain ``fields`` if any."""
    boundary = uuid.uuid4().hex
    head = "".join(f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
                   f"{value}\r\n" for name, value in (fields or {}).items()).encode()
    head += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field_name}\"; "
             f"filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n").encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def request(method: str, url: str, body: bytes | None = None, headers: dict | None = None,
            timeout: float = 30.0) -> tuple[int, dict, bytes]:
    """One request on a fresh connection: (status, headers, body)."""
    host_port = url.split("/")[2]
    path = "/" + url.split("/", 3)[3] if url.count("/") >= 3 else "/"
    host, port = host_port.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()
