"""The model service against identification in process: throughput and p95 at 1, 4 and 16
concurrent clients, in one run (``python -m bench.run --serving``; bench/results/serving.json).

- service: ``manage.py serve_model`` (KServe's model server, catmodel/serving/) on a free
  loopback port, the cached model package installed as fetch_model installs it; each client
  keeps one connection and sends one photo a request, as the web process's client does
  (catmodel.serving.client.infer_request), back to back;
- in process: one ImageClassifier (catmodel.inference) shared by as many threads, each calling
  ``classify`` back to back: what a web worker does with the model loaded;
- batching: one client sending 1, 4 and 16 small photos (0.3 MP, where inference is most of
  the cost) a request, images/s. Adaptive batching would gather single-photo requests into
  such batches; if a batch is not faster per image than single requests, it cannot be either.
  (Sixteen 12 MP photos would pass the service's request limit, and their decodes, which
  batching cannot share, are most of their cost.) And ONNX Runtime alone, ms per image at
  batch sizes 1, 4 and 16: the part of a request a server-side batcher could make cheaper.

Both sides use ONNX Runtime's threads as their defaults do (MODEL_THREADS unset: the service's
default; in process the same value), and take turns at each concurrency, so drift in the
machine's load hits both alike.
"""
from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

from catmodel.serving.client import infer_request
from testsupport import load, photos
from testsupport.harness import install_model
from testsupport.model_service import ModelService

CONCURRENCIES = (1, 4, 16)
BATCHES = (1, 4, 16)
BATCHED_PHOTO = "0.3 MP"


def closed_loop(work, clients: int, seconds: float) -> dict:
    """``clients`` threads calling ``work()`` back to back for ``seconds``: calls/s and the
    latency percentiles, as load.run reports them for HTTP."""
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + seconds

    def client():
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            try:
                work()
            except Exception as exc:  # noqa: BLE001 (counted and reported, as load.run does)
                with lock:
                    errors.append(exc)
                continue
            with lock:
                latencies.append(time.perf_counter() - began)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start
    ordered = sorted(ms * 1000 for ms in latencies)
    return {"per_second": round(len(ordered) / elapsed, 2), "errors": len(errors),
            "latency_ms": {"count": len(ordered), "p50": load.percentile(ordered, 50),
                           "p95": load.percentile(ordered, 95)}}


def over_service(service: ModelService, data: bytes, clients: int, seconds: float,
                 batch: int = 1) -> dict:
    body, headers = infer_request([data] * batch)
    call = load.Call("infer", "POST", f"/v2/models/{service.model_name}/infer", body, headers)
    run = load.run(service.url, [call], clients=clients, seconds=seconds)
    return {"per_second": run.throughput(), "images_per_second": round(run.throughput() * batch,
                                                                       2),
            "errors": len(run.errors()), "latency_ms": run.latency_ms()}


def measure(package_dir: Path, seconds: float, rounds: int, report=print) -> dict:
    from catmodel.inference import load_classifier

    threads = int(os.environ.get("MODEL_THREADS") or 0) or None
    classifier = load_classifier(package_dir, threads=threads)
    pictures = {"0.3 MP": photos.small_jpeg(), "12 MP": photos.large_jpeg()}
    results: dict = {"seconds_per_measure": seconds, "rounds": rounds, "photos": {}}
    with tempfile.TemporaryDirectory(prefix="catsite-bench-serving-") as workdir:
        model_dir = Path(workdir) / "model"
        install_model(package_dir, model_dir)
        with ModelService(model_dir, Path(workdir)) as service:
            for name, data in pictures.items():
                over_service(service, data, 2, 1.0)  # warm: first requests pay lazy set-up
                closed_loop(lambda data=data: classifier.classify(data), 2, 1.0)
                served = {c: [] for c in CONCURRENCIES}
                alone = {c: [] for c in CONCURRENCIES}
                for round_number in range(rounds):
                    for clients in CONCURRENCIES:
                        report(f"  {name}, {clients} client(s), round {round_number + 1}")
                        served[clients].append(over_service(service, data, clients, seconds))
                        alone[clients].append(closed_loop(
                            lambda data=data: classifier.classify(data), clients, seconds))
                results["photos"][name] = {
                    "bytes": len(data),
                    "serve_model": {c: _median(runs) for c, runs in served.items()},
                    "in_process": {c: _median(runs) for c, runs in alone.items()},
                }
            batches = {}
            for batch in BATCHES:
                report(f"  {BATCHED_PHOTO}, one client, {batch} photo(s) a request")
                batches[batch] = over_service(service, pictures[BATCHED_PHOTO], 1, seconds,
                                              batch=batch)
            results["photos"][BATCHED_PHOTO]["serve_model_batched_one_client"] = batches
    results["onnxruntime_ms_per_image_by_batch"] = inference_by_batch(classifier)
    return results


def inference_by_batch(classifier, repeats: int = 32) -> dict:
    """ONNX Runtime alone, milliseconds per image by batch size: what gathering requests into
    one run (adaptive batching) could save, at most, per image."""
    import numpy as np

    spec = classifier.manifest.input
    batch = np.random.default_rng(0).standard_normal(
        (max(BATCHES), 3, spec.size, spec.size)).astype(np.float32)
    per_image = {}
    for size in BATCHES:
        classifier.predict(batch[:size])
        times = []
        for _ in range(max(3, repeats // size)):
            started = time.perf_counter()
            classifier.predict(batch[:size])
            times.append((time.perf_counter() - started) * 1000 / size)
        per_image[size] = round(sorted(times)[len(times) // 2], 2)
    return per_image


def _median(runs: list[dict]) -> dict:
    """The round with the median throughput (its p95 with it), and every round's rate."""
    ordered = sorted(runs, key=lambda run: run["per_second"])
    middle = ordered[len(ordered) // 2]
    return {**middle, "per_second_rounds": [run["per_second"] for run in runs]}


def lines(results: dict) -> list[str]:
    out = []
    for name, photo in results["photos"].items():
        out.append(f"{name} JPEG ({photo['bytes']} bytes): requests/s (p95 ms)")
        for clients in CONCURRENCIES:
            served, alone = photo["serve_model"][clients], photo["in_process"][clients]
            out.append(f"  {clients:>2} client(s): serve_model {served['per_second']:>6}/s "
                       f"(p95 {served['latency_ms']['p95']}) | in process "
                       f"{alone['per_second']:>6}/s (p95 {alone['latency_ms']['p95']})")
        if "serve_model_batched_one_client" in photo:
            out.append("  serve_model, one client, photos a request -> images/s: " + ", ".join(
                f"{batch}: {run['images_per_second']} ({run['errors']} errors)"
                for batch, run in photo["serve_model_batched_one_client"].items()))
    out.append("ONNX Runtime alone, ms per image by batch size: " + ", ".join(
        f"{size}: {ms}" for size, ms in results["onnxruntime_ms_per_image_by_batch"].items()))
    return out
