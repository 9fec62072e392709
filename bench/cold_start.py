"""Cold start of both images: container start to ready, three starts each.

    python -m bench.cold_start            # writes bench/results/cold_start.json
    python -m bench.cold_start --build    # first builds the images (deploy/ci/build-image.sh)

Each image (deploy/ci/build-image.sh: the web image `catsite:ci` and the model image
`catsite-model:ci`, the model baked in) is started with podman as the smoke test starts it
(deploy/ci/smoke-test.sh: read-only root file system, tmpfs /tmp, every capability dropped, the
host's network on free ports, MODEL_REQUIRED=1) and with the CPU limits of the chart's pods
(`--cpus`: 1 for the web pod, 2 for the model service). What is measured, from just before
`podman run` to the first 200 of the probe the chart uses: the web's `/readyz` (its database
migrated beforehand, as the chart's migration Job does), the model's `/v2/health/ready`. Then
the first and the second identification of a 0.3 MP tabby, to see that the first pays no cold
start (the warm-up inference ran before ready); and the CPUs the container reports
(catmodel/cpus.py inside it), which the process sizes itself from. Last, outside containers:
the first two photos of fresh processes with the base model warmed up by load_classifier and
in a session never run (seven of each, taking turns), what the warm-up saves a first visitor.

podman is shared by everyone on the machine: the whole run holds /tmp/catsite-podman.lock
(the lock `flock /tmp/catsite-podman.lock` takes). The model is verified against the committed
base model's public key (MODEL_TRUSTED_KEYS), as production verifies it.
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import platform
import re
import statistics
import subprocess
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from testsupport import photos
from testsupport.harness import ROOT, SECRET, free_port, multipart, request

RESULTS = Path(__file__).resolve().parent / "results" / "cold_start.json"
PODMAN_LOCK = "/tmp/catsite-podman.lock"
TRUSTED_KEY = ROOT / "deploy" / "keys" / "catsite-base-model-2026-12.pub"
KEY_IN_CONTAINER = "/etc/catsite/signing-keys/" + TRUSTED_KEY.name
HOST = "localhost"  # DJANGO_ALLOWED_HOSTS of the web container
POLL_SECONDS = 0.025
# What the container itself says about its CPUs (catmodel/cpus.py), once it is ready.
CPUS_INSIDE = ("from catmodel.cpus import available_cpus, cpu_quota; "
               "print(available_cpus(), cpu_quota())")


def podman_env() -> dict:
    """The environment scripts/lib.sh's `engine` gives podman (the project's containers.conf
    and storage in the cache), computed once so that timing does not include a shell."""
    script = ('source scripts/lib.sh && configure_podman && '
              'printf "%s\\n%s\\n" "$CONTAINERS_CONF" "$CONTAINERS_STORAGE_CONF"')
    conf, storage = subprocess.run(["bash", "-c", script], cwd=ROOT, check=True, text=True,
                                   capture_output=True).stdout.split()
    return {**os.environ, "CONTAINERS_CONF": conf, "CONTAINERS_STORAGE_CONF": storage}


class Podman:
    def __init__(self):
        self.env = podman_env()

    def __call__(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(["podman", *args], env=self.env, text=True, capture_output=True,
                                check=False)
        if check and result.returncode != 0:
            raise SystemExit(f"podman {args[0]} failed: {result.stderr.strip()[-500:]}")
        return result.stdout

    def logs(self, name: str) -> str:
        """The container's output, stdout and stderr (podman logs keeps them apart)."""
        return subprocess.run(["podman", "logs", name], env=self.env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              check=False).stdout

    def has_image(self, image: str) -> bool:
        return subprocess.run(["podman", "image", "exists", image], env=self.env,
                              check=False).returncode == 0


@contextmanager
def podman_lock():
    with open(PODMAN_LOCK, "a") as lock:
        print(f"waiting for {PODMAN_LOCK} ...", flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def wait_for(url: str, deadline: float, podman: Podman, name: str) -> tuple[float, bytes]:
    """Monotonic time of the first 200 from ``url``, and its body."""
    while time.monotonic() < deadline:
        try:
            status, _headers, body = request("GET", url, headers={"Host": HOST}, timeout=1)
        except OSError:
            status = None
        if status == 200:
            return time.monotonic(), body
        if podman("container", "inspect", "--format", "{{.State.Running}}", name,
                  check=False).strip() != "true":
            raise SystemExit(f"{name} stopped before it was ready:\n"
                             + podman.logs(name)[-3000:])
        time.sleep(POLL_SECONDS)
    raise SystemExit(f"{name} not ready in time:\n" + podman.logs(name)[-3000:])


def identify_web(url: str, photo: bytes) -> float:
    body, content_type = multipart("image", "tabby.jpg", photo)
    started = time.perf_counter()
    status, _headers, answer = request("POST", url + "/api/classify/", body=body, timeout=60,
                                       headers={"Host": HOST, "Content-Type": content_type})
    elapsed = time.perf_counter() - started
    if status != 200:
        raise SystemExit(f"identification answered {status}: {answer[:300]!r}")
    return ms(elapsed)


def identify_model(url: str, model_name: str, photo: bytes) -> float:
    from catmodel.serving.client import InferenceClient

    client = InferenceClient(url, model_name, timeout=60, retries=0)
    started = time.perf_counter()
    client.infer_photo(photo)
    return ms(time.perf_counter() - started)


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def start_once(podman: Podman, role: str, image: str, cpus: str, env: dict[str, str],
               volumes: list[str], ready_path: str, identify, timeout: float) -> dict:
    name = f"catsite-coldstart-{role}-{uuid.uuid4().hex[:8]}"
    port = free_port()
    # LOG_LEVEL=INFO for the warm-up's log line (the images' default is WARNING).
    env = {**env, "PORT": str(port), "MODEL_REQUIRED": "1", "LOG_LEVEL": "INFO"}
    args = ["run", "-d", "--name", name, "--network", "host", "--cpus", cpus,
            "--read-only", "--tmpfs", "/tmp:rw,size=256m", "--tmpfs", "/dev/shm:rw,size=64m",
            "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--health-interval", "disable"]
    for volume in volumes:
        args += ["-v", volume]
    for key, value in env.items():
        args += ["-e", f"{key}={value}"]
    args += [image] + (["model"] if role == "model" else [])
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    try:
        podman(*args)
        running = time.monotonic()
        ready, ready_body = wait_for(url + ready_path, started + timeout, podman, name)
        first = identify(url)
        second = identify(url)
        cpus_inside = podman("exec", name, "python", "-c", CPUS_INSIDE).split()
        logs = podman.logs(name)
    finally:
        podman("rm", "-f", "-t", "0", name, check=False)
    return {
        "start_to_ready_s": round(ready - started, 3),
        "podman_run_s": round(running - started, 3),
        "first_identification_ms": first,
        "second_identification_ms": second,
        "available_cpus_inside": int(cpus_inside[0]),
        "cpu_quota_inside": None if cpus_inside[1] == "None" else float(cpus_inside[1]),
        # /readyz's checks.model.warm_up_ms (the web), None for the model service.
        "warm_up_ms": (json.loads(ready_body).get("checks", {}).get("model", {})
                       .get("warm_up_ms") if role == "web" else None),
        "warm_up_log": [line.strip()[-220:] for line in logs.splitlines()
                        if "warm-up inference" in line.lower()][-3:],
    }


def first_photos(warm: bool) -> dict:
    """The first two photos a fresh process classifies with the base model (one ONNX Runtime
    thread, as in a web worker): loaded by load_classifier (its warm-up inference run) or, with
    ``warm`` false, in a session nobody has run yet. Printed as JSON by ``--first-photos``."""
    import onnxruntime

    from catmodel.inference import ImageClassifier, load_classifier
    from catmodel.inference.package import read_manifest

    photo = photos.small_jpeg()  # made before the clock starts (Pillow encodes it)
    package = ROOT / "deploy" / "models" / "base"
    if warm:
        classifier = load_classifier(package, threads=1)
    else:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        session = onnxruntime.InferenceSession(str(package / "model.onnx"), sess_options=options,
                                               providers=["CPUExecutionProvider"])
        classifier = ImageClassifier(read_manifest(package), session)
    first, second = (classifier.classify(photo).timings for _ in range(2))
    return {"first_ms": first.total_ms, "first_inference_ms": first.inference_ms,
            "second_ms": second.total_ms, "second_inference_ms": second.inference_ms}


def first_photos_in_fresh_processes(repeats: int) -> dict:
    """``first_photos`` in ``repeats`` fresh interpreters each way, taking turns (a busy machine
    then slows both alike): medians, and the median of what the first photo costs more than the
    second, which is what the warm-up saves the first visitor of a worker."""
    runs: dict[str, list[dict]] = {"with_warm_up": [], "without_warm_up": []}
    for _ in range(repeats):
        for way, flag in (("with_warm_up", "warm"), ("without_warm_up", "cold")):
            runs[way].append(json.loads(subprocess.run(
                ["python", "-m", "bench.cold_start", "--first-photos", flag], cwd=ROOT,
                check=True, text=True, capture_output=True).stdout))
    return {way: {**{key: round(statistics.median(run[key] for run in done), 1)
                     for key in done[0]},
                  "first_minus_second_ms": round(statistics.median(
                      run["first_ms"] - run["second_ms"] for run in done), 1),
                  "processes": len(done)}
            for way, done in runs.items()}


def migrated_sqlite(folder: Path) -> str:
    """A SQLite database migrated and loaded on the host, mounted into the web containers
    (as the chart's migration Job prepares the database before the pods start)."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o777)  # the image's user (10001) writes its journal beside the file
    database = folder / "catsite.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}",
           "DJANGO_SETTINGS_MODULE": "catsite.settings", "DJANGO_DEBUG": "1"}
    for command in (["migrate", "--no-input", "-v", "0"], ["load_species", "-v", "0"]):
        subprocess.run(["python", "manage.py", *command], cwd=ROOT, env=env, check=True)
    database.chmod(0o666)
    return "sqlite:////data/catsite.sqlite3"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return []
    flags = re.search(r"^flags\s*:(.*)$", text, re.MULTILINE)
    wanted = ("avx2", "avx512f", "avx512_vnni", "avx_vnni")
    return [flag for flag in wanted if flags and flag in flags.group(1).split()]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default=os.environ.get("IMAGE", "catsite:ci"))
    parser.add_argument("--model-image", default=os.environ.get("MODEL_IMAGE",
                                                                 "catsite-model:ci"))
    parser.add_argument("--starts", type=int, default=3, help="starts of each image (3)")
    parser.add_argument("--web-cpus", default="1", help="--cpus of the web containers (the "
                        "chart's web limit, 1)")
    parser.add_argument("--model-cpus", default="2", help="--cpus of the model containers "
                        "(the chart's model service limit, 2)")
    parser.add_argument("--processes", type=int, default=7, help="fresh processes each way "
                        "for the first photos with and without a warm-up (7)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds to wait for ready")
    parser.add_argument("--build", action="store_true",
                        help="build both images first with deploy/ci/build-image.sh")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--first-photos", choices=("warm", "cold"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.first_photos:  # one fresh process of first_photos_in_fresh_processes
        print(json.dumps(first_photos(args.first_photos == "warm")))
        return {}

    photo = photos.small_jpeg()
    podman = Podman()
    with podman_lock(), tempfile.TemporaryDirectory(prefix="catsite-coldstart-") as work:
        if args.build:
            subprocess.run([str(ROOT / "deploy/ci/build-image.sh")], cwd=ROOT, check=True,
                           env={**os.environ, "IMAGE": args.image,
                                "MODEL_IMAGE": args.model_image})
        for image in (args.image, args.model_image):
            if not podman.has_image(image):
                raise SystemExit(f"no image {image}: build both with deploy/ci/build-image.sh "
                                 "(or run this with --build)")
        load_at_start = [round(x, 2) for x in os.getloadavg()]
        trust = [f"{TRUSTED_KEY}:{KEY_IN_CONTAINER}:ro"]
        common = {"DJANGO_SECRET_KEY": SECRET, "MODEL_TRUSTED_KEYS": KEY_IN_CONTAINER}
        database_url = migrated_sqlite(Path(work) / "data")
        # The chart's web settings: 2 workers of 4 threads (WEB_CONCURRENCY, GUNICORN_THREADS).
        web_env = {**common, "DJANGO_ALLOWED_HOSTS": HOST, "DATABASE_URL": database_url,
                   "WEB_CONCURRENCY": "2", "GUNICORN_THREADS": "4"}
        model_name = json.loads((ROOT / "deploy/models/base/manifest.json").read_text())["name"]
        roles = {
            "web": dict(image=args.image, cpus=args.web_cpus, ready_path="/readyz",
                        volumes=trust + [f"{Path(work) / 'data'}:/data"],
                        identify=lambda url: identify_web(url, photo)),
            "model": dict(image=args.model_image, cpus=args.model_cpus,
                          ready_path="/v2/health/ready", volumes=trust,
                          identify=lambda url: identify_model(url, model_name, photo)),
        }
        results = {"started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                   "command": "python -m bench.cold_start", "images": {}}
        for role, spec in roles.items():
            runs = []
            for attempt in range(1, args.starts + 1):
                env = dict(web_env if role == "web" else common)
                if role == "web":
                    env["METRICS_PORT"] = str(free_port())
                run = start_once(podman, role, spec["image"], spec["cpus"], env, spec["volumes"],
                                 spec["ready_path"], spec["identify"], args.timeout)
                print(f"{role} start {attempt}: ready after {run['start_to_ready_s']:.2f} s "
                      f"(podman run {run['podman_run_s']:.2f} s); first identification "
                      f"{run['first_identification_ms']} ms, second "
                      f"{run['second_identification_ms']} ms; "
                      f"{run['available_cpus_inside']} CPU(s) inside", flush=True)
                runs.append(run)
            ready = [run["start_to_ready_s"] for run in runs]
            results["images"][role] = {
                "image": spec["image"], "cpus": spec["cpus"], "ready_path": spec["ready_path"],
                "start_to_ready_s": {"median": round(statistics.median(ready), 3),
                                     "min": min(ready), "max": max(ready)},
                "runs": runs,
            }
        results["machine"] = {"cpu": cpu_model(), "cpu_flags": cpu_flags(),
                              "cores": len(os.sched_getaffinity(0)),
                              "load_average_at_start": load_at_start,
                              "load_average_at_end": [round(x, 2) for x in os.getloadavg()]}
    # After the lock is given back: no container is involved.
    results["first_photos_in_a_fresh_process"] = first_photos_in_fresh_processes(args.processes)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    for role, figures in results["images"].items():
        ready = figures["start_to_ready_s"]
        print(f"{role} ({figures['image']}, --cpus {figures['cpus']}): container start to "
              f"{figures['ready_path']} 200 in {ready['median']:.2f} s median "
              f"({ready['min']:.2f}-{ready['max']:.2f} s over {len(figures['runs'])} starts)")
    for way, figures in results["first_photos_in_a_fresh_process"].items():
        print(f"a fresh process, {way.replace('_', ' ')}: first photo {figures['first_ms']} ms "
              f"({figures['first_inference_ms']} ms inference), second {figures['second_ms']} "
              f"ms ({figures['second_inference_ms']} ms), first minus second "
              f"{figures['first_minus_second_ms']} ms: medians of {figures['processes']}")
    machine = results["machine"]
    print(f"{machine['cpu']} ({', '.join(machine['cpu_flags'])}), load average at start "
          f"{machine['load_average_at_start']}, at end {machine['load_average_at_end']}\n"
          f"Saved {args.out}")
    return results


if __name__ == "__main__":
    main()
