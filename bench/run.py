"""The benchmark: one command, about two minutes, figures printed and saved.

    python -m bench.run            # writes bench/results/latest.json and bench/results/latest.png

What it measures, in one run on this machine:
- identification through the real HTTP API under gunicorn (catsite/gunicorn_conf.py, the real
  model), a 0.3 MP and a 12 MP JPEG: p50/p95 with one client, throughput with several clients,
  the decode/preprocess/inference split the API reports in timings_ms;
- the same photos through the classifier in this process (decode + inference alone), and through
  the naive pipeline (full-size Pillow decode, torchvision transforms, PyTorch eager, same
  weights): the ratios the README quotes;
- pages (home, species list, a species page, an illustration) as a share of /healthz (no I/O)
  on the same server, in alternating rounds, with the page cache on Redis (production) and
  with it off; a minimal Django view for the framework's own ceiling;
- worker memory (RSS) with the model loaded, before and after the load, and the time from
  starting gunicorn to /readyz answering ready;
- concurrent 12 MP identification with one ONNX Runtime thread per worker against ONNX
  Runtime's default (a thread per core in every worker), the setting the figures led us to
  change, on two servers taking turns.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from testsupport import load, photos
from testsupport.harness import GunicornServer, install_model, manage, prepare_site, request

RESULTS_DIR = Path(__file__).resolve().parent / "results"
API = "/api/classify/"
PAGES = {"/healthz": "/healthz", "minimal view": "/bench/minimal", "home": "/",
         "species list": "/species/", "species page": "/species/domestic-tabby/",
         "illustration": None}  # the page's own versioned picture URL, found at run time
BASELINE = "/healthz"
CONCURRENT_CLIENTS = 4
INT8 = "int8"  # build_model --quantize int8: measured beside the default float32 package
# The bench's own Redis database (emptied at the start): the page cache as in production.
DEFAULT_CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/10")


def cores() -> int:
    return len(os.sched_getaffinity(0))


def summary(values: list[float]) -> dict:
    ordered = sorted(values)
    return {"count": len(ordered), "p50": load.percentile(ordered, 50),
            "p95": load.percentile(ordered, 95), "mean": round(statistics.fmean(ordered), 2)}


def in_process(photo_bytes: dict[str, bytes], threads: int, repeats: dict[str, int],
               quantize: str | None = None) -> dict:
    """Decode + preprocess + inference alone: the classifier object, no web framework.
    ``quantize``: "int8" for the int8 package (build_model --quantize int8)."""
    from catmodel.inference import load_classifier
    from catmodel.modelbuild.cache import ensure_built

    classifier = load_classifier(ensure_built(quantize=quantize), threads=threads)
    results = {}
    for name, data in photo_bytes.items():
        for _ in range(3):
            classifier.classify(data)
        totals, splits = [], []
        for _ in range(repeats[name]):
            started = time.perf_counter()
            result = classifier.classify(data)
            totals.append((time.perf_counter() - started) * 1000)
            splits.append(result.timings)
        results[name] = {
            "total_ms": summary(totals),
            "decode_ms": summary([t.decode_ms for t in splits]),
            "inference_ms": summary([t.inference_ms for t in splits]),
            "top_label": result.top[0].label,
        }
    return results


def install_int8(site) -> Path:
    """The int8 package (quantized from the cached float32 one, once) installed beside the
    site's model; its MODEL_DIR."""
    package = manage({**site.env, "DJANGO_DEBUG": "1"}, "build_model", "--cached",
                     "--quantize", INT8).strip().splitlines()[-1]
    model_dir = site.workdir / "model-int8"
    install_model(Path(package), model_dir, version="1.0.0-int8")
    return model_dir


def naive(photo_bytes: dict[str, bytes], repeats: dict[str, int]) -> dict:
    """The naive pipeline with PyTorch's default threads (one per core) and with one thread;
    the faster of the two is the baseline, so the ratio is never flattered by a bad setting
    (OpenMP's threads suffer badly when anything else runs on the machine)."""
    import torch

    from bench.naive import NaivePipeline
    from catmodel.modelbuild.labels import imagenet_labels

    pipeline = NaivePipeline()
    labels = imagenet_labels()
    default_threads = torch.get_num_threads()
    by_threads = {}
    for threads in sorted({default_threads, 1}, reverse=True):
        torch.set_num_threads(threads)
        by_threads[threads] = {}
        for name, data in photo_bytes.items():
            pipeline.classify(data)
            runs = [pipeline.classify(data) for _ in range(repeats[name])]
            by_threads[threads][name] = {
                step + "_ms": summary([timings[step] for _best, timings in runs])
                for step in ("total", "decode", "preprocess", "inference")
            }
            by_threads[threads][name]["top_label"] = labels[runs[0][0]]
    torch.set_num_threads(default_threads)
    results = {"by_torch_threads": by_threads}
    for name in photo_bytes:
        threads = min(by_threads, key=lambda t: by_threads[t][name]["total_ms"]["p50"])
        results[name] = {**by_threads[threads][name], "torch_threads": threads}
    return results


def identify_over_http(server: GunicornServer, photo_bytes: dict[str, bytes],
                       single: dict[str, int], concurrent_seconds: float) -> dict:
    results = {}
    for name, data in photo_bytes.items():
        call = load.Call.upload(name, API, data)
        load.run(server.url, [call], clients=2, requests_per_client=3)  # warm both workers
        one = load.run(server.url, [call], clients=1, requests_per_client=single[name],
                       keep_bodies=True)
        bodies = [json.loads(s.body) for s in one.samples if s.ok]
        many = load.run(server.url, [call], clients=CONCURRENT_CLIENTS, seconds=concurrent_seconds)
        results[name] = {
            "one_client_ms": one.latency_ms(),
            "errors": len(one.errors()) + len(many.errors()),
            "api_timings_ms": {step: summary([body["timings_ms"][step] for body in bodies])
                               for step in ("decode", "preprocess", "inference", "total")},
            "top_label": bodies[0]["predictions"][0]["label"] if bodies else None,
            f"{CONCURRENT_CLIENTS}_clients": {"per_second": many.throughput(),
                                               "latency_ms": many.latency_ms()},
        }
    return results


def picture_url(server: GunicornServer) -> str:
    _status, _headers, body = request("GET", server.url + PAGES["species page"])
    found = re.search(r'src="(/species/[^"]+/illustration\.svg\?v=[^"]+)"', body.decode())
    if not found:
        raise RuntimeError("the species page shows no illustration URL")
    return found.group(1)


def pages_over_http(servers: dict[str, GunicornServer], pages: dict[str, list[str]],
                    rounds: int, seconds: float) -> dict:
    """Requests/s of each page with several clients, and its share of /healthz's rate: every
    server and page takes a turn in each round (drift in the machine's load hits them alike);
    the share is the median over the rounds of page ÷ /healthz within the round."""
    paths = {name: path for name, path in PAGES.items() if path}
    rates = {server: {name: [] for name in pages[server]} for server in servers}
    errors = {server: {name: 0 for name in pages[server]} for server in servers}
    for server_name, server in servers.items():
        paths["illustration"] = picture_url(server)
        for name in pages[server_name]:
            load.run(server.url, [load.Call(name, "GET", paths[name])], clients=2,
                     requests_per_client=5)  # warm: the first request of each worker fills it
    for _ in range(rounds):
        for server_name, server in servers.items():
            for name in pages[server_name]:
                run = load.run(server.url, [load.Call(name, "GET", paths[name])],
                               clients=CONCURRENT_CLIENTS, seconds=seconds)
                rates[server_name][name].append(run.throughput())
                errors[server_name][name] += len(run.errors())
    results = {}
    for server_name in servers:
        baseline = rates[server_name][BASELINE]
        results[server_name] = {name: {
            "per_second": round(statistics.median(values), 1),
            "per_second_rounds": values,
            "share_of_healthz": round(statistics.median(
                [v / b for v, b in zip(values, baseline, strict=True)]), 3),
            "errors": errors[server_name][name],
        } for name, values in rates[server_name].items()}
    return results


def empty_redis(url: str) -> None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
    except redis.exceptions.ConnectionError as exc:
        raise SystemExit(f"Redis is not reachable at {url} ({exc}): start it, or point "
                         "--cache-url (BENCH_CACHE_URL) at a Redis database the bench may empty"
                         ) from None


def compare_model_threads(env: dict, data: bytes, rounds: int, seconds: float = 4.0) -> dict:
    """12 MP identifications/s with 4 clients, and one client's p50, under both settings. Both
    servers run side by side and take turns, so drift in the machine's load hits both alike."""
    call = load.Call.upload("12 MP", API, data)
    settings = {"one per worker": {}, "default": {"MODEL_THREADS": "0"}}
    rates = {name: [] for name in settings}
    single = {name: [] for name in settings}
    with GunicornServer(env) as tuned, GunicornServer({**env, "MODEL_THREADS": "0"}) as default:
        servers = {"one per worker": tuned, "default": default}
        for server in servers.values():
            server.wait_workers(int(env["WEB_CONCURRENCY"]))
            load.run(server.url, [call], clients=2, requests_per_client=3)
        for _ in range(rounds):
            for name, server in servers.items():
                rates[name].append(load.run(server.url, [call], clients=CONCURRENT_CLIENTS,
                                            seconds=seconds).throughput())
                one = load.run(server.url, [call], clients=1, requests_per_client=8)
                single[name].append(one.latency_ms()["p50"])
    return {name: {f"{CONCURRENT_CLIENTS}_clients_per_second": rates[name],
                   "median_per_second": round(statistics.median(rates[name]), 2),
                   "one_client_p50_ms": statistics.median(single[name])} for name in settings}


def start_seconds(env: dict, samples: int) -> dict:
    """gunicorn started to /readyz 200 (every worker has loaded the model only a little later)."""
    ready, all_workers = [], []
    for _ in range(samples):
        with GunicornServer(env) as server:
            ready.append(server.ready_seconds)
            server.wait_workers(int(env.get("WEB_CONCURRENCY", 2)))
            all_workers.append(time.monotonic() - server.started_at)
    return {"ready_s": summary(ready), "all_workers_loaded_s": summary(all_workers)}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples (a smoke run)")
    parser.add_argument("--out", type=Path, default=None,
                        help="default bench/results/latest.json (--pages: pages.json)")
    parser.add_argument("--cache-url", default=DEFAULT_CACHE_URL,
                        help="a Redis database the bench may empty (default %(default)s)")
    parser.add_argument("--pages", action="store_true",
                        help="only the pages, cache on and off (about a minute)")
    parser.add_argument("--serving", action="store_true",
                        help="only serve_model against in-process identification at 1, 4 and "
                             "16 clients (bench/serving.py; about two minutes)")
    args = parser.parse_args(argv)
    if args.pages and args.serving:
        parser.error("--pages and --serving are separate runs: choose one")
    args.out = args.out or RESULTS_DIR / (
        "pages.json" if args.pages else "serving.json" if args.serving else "latest.json")
    if args.pages:
        return pages_only(args)
    if args.serving:
        return serving_only(args)
    scale = 0.3 if args.quick else 1.0
    begun = time.monotonic()

    def step(message):
        print(f"[{time.monotonic() - begun:5.1f} s] {message}", flush=True)

    # "12 MP" has sensor-like grain (2.6 MB, like a phone's photo); "12 MP smooth" is the bare
    # upscale (0.8 MB): entropy decoding, which draft mode cannot skip, grows with the bytes.
    photo_bytes = {"0.3 MP": photos.small_jpeg(), "12 MP": photos.large_jpeg(),
                   "12 MP smooth": photos.large_smooth_jpeg()}
    single = {"0.3 MP": max(10, int(60 * scale)), "12 MP": max(8, int(40 * scale)),
              "12 MP smooth": max(8, int(30 * scale))}
    naive_repeats = {"0.3 MP": max(5, int(20 * scale)), "12 MP": max(3, int(10 * scale)),
                     "12 MP smooth": max(3, int(8 * scale))}
    workers, threads = 2, 4
    model_threads = max(1, cores() // workers)  # what catsite/gunicorn_conf.py picks
    results = {
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "photos": {name: {"bytes": len(data)} for name, data in photo_bytes.items()},
        "server": {"workers": workers, "threads": threads, "model_threads": model_threads,
                   "concurrent_clients": CONCURRENT_CLIENTS, "cache": "redis"},
    }
    empty_redis(args.cache_url)

    with tempfile.TemporaryDirectory(prefix="catsite-bench-") as workdir:
        step("Preparing a site: SQLite database, static files, model package")
        site = prepare_site(Path(workdir))
        env = site.with_env(DJANGO_SETTINGS_MODULE="bench.settings", MODEL_REQUIRED=1,
                            IDENTIFY_RATE_LIMIT="", WEB_CONCURRENCY=workers,
                            GUNICORN_THREADS=threads, GUNICORN_ACCESS_LOG="",
                            CACHE_URL=args.cache_url)

        int8_env = {**env, "MODEL_DIR": str(install_int8(site))}

        step("Decode + inference alone, in this process")
        results["in_process"] = in_process(photo_bytes, model_threads, single)
        results["in_process_int8"] = in_process(photo_bytes, model_threads, single, INT8)
        step("Naive pipeline: full-size decode + PyTorch eager")
        results["naive"] = naive(photo_bytes, naive_repeats)

        step("Start-up: gunicorn to ready")
        results["startup"] = start_seconds(env, samples=2 if args.quick else 3)

        step(f"gunicorn {workers} workers x {threads} threads, ONNX Runtime {model_threads} "
             "thread(s) a worker")
        with GunicornServer(env) as server:
            server.wait_workers(workers)
            rss_loaded = server.worker_rss_mb()
            step("Identification over HTTP")
            results["http"] = identify_over_http(server, photo_bytes, single, 6 * scale + 2)
            results["memory_mb"] = {"per_worker_model_loaded": sorted(rss_loaded.values()),
                                    "per_worker_after_run": sorted(server.worker_rss_mb().values())}

        step("Identification over HTTP with the int8 package (build_model --quantize int8)")
        with GunicornServer(int8_env) as server:
            server.wait_workers(workers)
            results["http_int8"] = identify_over_http(server, photo_bytes, single, 6 * scale + 2)

        step("Pages over HTTP, page cache on (Redis) and off, alternating rounds")
        results["pages"] = page_servers(env, rounds=1 if args.quick else 3,
                                        seconds=2 * scale + 1)

        step("ONNX Runtime threads: one a worker vs its default (one per core, per worker)")
        results["ort_threads"] = compare_model_threads(env, photo_bytes["12 MP"],
                                                       rounds=2 if args.quick else 3)

    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["ratios"] = ratios(results)
    results["bench_seconds"] = round(time.monotonic() - begun, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    from bench.chart import draw

    chart = draw(results, args.out.with_suffix(".png"))
    print(report(results))
    print(f"\nSaved {args.out} and {chart}")
    return results


def page_servers(env: dict, rounds: int, seconds: float) -> dict:
    """The pages on two servers side by side: the page cache on (Redis) and off."""
    with GunicornServer(env) as server, \
            GunicornServer({**env, "PAGE_CACHE_SECONDS": "0"}) as uncached:
        server.wait_workers(int(env["WEB_CONCURRENCY"]))
        uncached.wait_workers(int(env["WEB_CONCURRENCY"]))
        return pages_over_http(
            {"cached": server, "uncached": uncached},
            {"cached": list(PAGES),
             "uncached": [BASELINE, "species list", "species page", "illustration"]},
            rounds=rounds, seconds=seconds)


def pages_only(args) -> dict:
    """python -m bench.run --pages: the page figures alone, printed and saved."""
    results = {"created_at": datetime.now(UTC).isoformat(timespec="seconds"),
               "machine": {"cores": cores(),
                           "load_average_at_start": [round(x, 2) for x in os.getloadavg()]},
               "server": {"workers": 2, "threads": 4, "concurrent_clients": CONCURRENT_CLIENTS,
                          "cache": "redis"}}
    empty_redis(args.cache_url)
    with tempfile.TemporaryDirectory(prefix="catsite-bench-") as workdir:
        site = prepare_site(Path(workdir))
        env = site.with_env(DJANGO_SETTINGS_MODULE="bench.settings", MODEL_REQUIRED=1,
                            IDENTIFY_RATE_LIMIT="", WEB_CONCURRENCY=2, GUNICORN_THREADS=4,
                            GUNICORN_ACCESS_LOG="", CACHE_URL=args.cache_url)
        results["pages"] = page_servers(env, rounds=1 if args.quick else 3, seconds=3)
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join(page_lines(results)))
    print(f"load average at start {results['machine']['load_average_at_start']}, at end "
          f"{results['machine']['load_average_at_end']}\nSaved {args.out}")
    return results


def serving_only(args) -> dict:
    """python -m bench.run --serving: the model service's figures alone, printed and saved."""
    from bench import serving
    from catmodel.modelbuild.cache import ensure_built

    results = {"created_at": datetime.now(UTC).isoformat(timespec="seconds"),
               "machine": machine()}
    print("serve_model against in-process identification", flush=True)
    results.update(serving.measure(ensure_built(), seconds=1.5 if args.quick else 4.0,
                                   rounds=1 if args.quick else 3))
    results["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join(serving.lines(results)))
    print(f"load average at start {results['machine']['load_average_at_start']}, at end "
          f"{results['machine']['load_average_at_end']}\nSaved {args.out}")
    return results


def machine() -> dict:
    """The machine a run measured, and its load average at the start (other work on the
    machine skews every figure: recorded to judge a run)."""
    return {"cores": cores(), "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(), "cpu": cpu_model(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()]}


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            names = [line.split(":", 1)[1].strip() for line in info if line.startswith(
                "model name")]
            info.seek(0)
            flags = next((line for line in info if line.startswith("flags")), "")
    except OSError:
        return platform.processor() or platform.machine()
    extras = [flag for flag in ("avx512f", "avx512_vnni", "avx_vnni") if f" {flag}" in flags]
    return " ".join([names[0] if names else platform.machine(), *extras])


def page_lines(r: dict) -> list[str]:
    return [f"pages, page cache {'on (Redis)' if server == 'cached' else 'off'}, requests/s "
            f"with {CONCURRENT_CLIENTS} clients (share of /healthz): "
            + ", ".join(f"{name} {page['per_second']} ({page['share_of_healthz']})"
                        for name, page in pages.items())
            for server, pages in r["pages"].items()]


def ratios(results: dict) -> dict:
    out = {}
    for name in results["photos"]:
        naive_p50 = results["naive"][name]["total_ms"]["p50"]
        http_p50 = results["http"][name]["one_client_ms"]["p50"]
        out[name] = {
            "naive_over_http": round(naive_p50 / http_p50, 2),
            "http_over_in_process": round(
                http_p50 / results["in_process"][name]["total_ms"]["p50"], 2),
        }
        if "http_int8" in results:
            int8_p50 = results["http_int8"][name]["one_client_ms"]["p50"]
            out[name]["naive_over_http_int8"] = round(naive_p50 / int8_p50, 2)
            out[name]["naive_over_in_process_int8"] = round(
                naive_p50 / results["in_process_int8"][name]["total_ms"]["p50"], 2)
    return out


def report(r: dict) -> str:
    lines = [f"\ncatsite benchmark, {r['machine']['cores']} cores, gunicorn "
             f"{r['server']['workers']} workers x {r['server']['threads']} threads, ONNX Runtime "
             f"{r['server']['model_threads']} thread(s) a worker"]
    lines.append(f"{'photo':12} {'bytes':>9} | {'HTTP p50':>8} {'p95':>7} | {'API decode':>10} "
                 f"{'infer':>6} | {'alone':>6} | {'naive':>7} | {'naive/HTTP':>10} "
                 f"{'HTTP/alone':>10} | {CONCURRENT_CLIENTS} clients/s")
    for name, photo in r["photos"].items():
        http, api = r["http"][name], r["http"][name]["api_timings_ms"]
        lines.append(
            f"{name:12} {photo['bytes']:>9} | {http['one_client_ms']['p50']:>8} "
            f"{http['one_client_ms']['p95']:>7} | {api['decode']['p50']:>10} "
            f"{api['inference']['p50']:>6} | {r['in_process'][name]['total_ms']['p50']:>6} | "
            f"{r['naive'][name]['total_ms']['p50']:>7} | "
            f"{r['ratios'][name]['naive_over_http']:>9}x "
            f"{r['ratios'][name]['http_over_in_process']:>9}x | "
            f"{http[f'{CONCURRENT_CLIENTS}_clients']['per_second']}")
    if "http_int8" in r:
        lines.append("int8 package (build_model --quantize int8), same run:")
        for name in r["photos"]:
            http, api = r["http_int8"][name], r["http_int8"][name]["api_timings_ms"]
            lines.append(
                f"{name + ' int8':12} {'':>9} | {http['one_client_ms']['p50']:>8} "
                f"{http['one_client_ms']['p95']:>7} | {api['decode']['p50']:>10} "
                f"{api['inference']['p50']:>6} | "
                f"{r['in_process_int8'][name]['total_ms']['p50']:>6} | "
                f"{r['naive'][name]['total_ms']['p50']:>7} | "
                f"{r['ratios'][name]['naive_over_http_int8']:>9}x {'':>10} | "
                f"{http[f'{CONCURRENT_CLIENTS}_clients']['per_second']}")
    threads = r["ort_threads"]
    lines.append("12 MP, ONNX Runtime threads (median of alternating rounds): " + "; ".join(
        f"{name}: {CONCURRENT_CLIENTS} clients {t['median_per_second']}/s "
        f"({', '.join(str(x) for x in t[f'{CONCURRENT_CLIENTS}_clients_per_second'])}), "
        f"one client p50 {t['one_client_p50_ms']} ms" for name, t in threads.items()))
    lines += page_lines(r)
    memory = r["memory_mb"]
    lines.append(f"worker RSS with the model loaded: "
                 f"{', '.join(f'{v:.0f}' for v in memory['per_worker_model_loaded'])} MB; after "
                 f"the run {', '.join(f'{v:.0f}' for v in memory['per_worker_after_run'])} MB")
    lines.append(f"start to ready: p50 {r['startup']['ready_s']['p50']} s (every worker loaded: "
                 f"{r['startup']['all_workers_loaded_s']['p50']} s)")
    lines.append(f"bench took {r['bench_seconds']} s; load average (1, 5, 15 min) at start "
                 f"{r['machine']['load_average_at_start']}, at end "
                 f"{r['machine']['load_average_at_end']}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
