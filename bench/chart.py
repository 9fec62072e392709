"""The benchmark's chart (PNG): identification latency by pipeline, and page throughput."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: render straight to a file
import matplotlib.pyplot as plt  # noqa: E402


def draw(results: dict, path: Path) -> Path:
    figure, (latency, pages) = plt.subplots(1, 2, figsize=(12, 4.8))
    photos = list(results["photos"])
    series = [
        ("naive: full decode + PyTorch eager", "#b0b0b0",
         [results["naive"][p]["total_ms"] for p in photos]),
        ("catsite over HTTP (gunicorn)", "#d9822b",
         [results["http"][p]["one_client_ms"] for p in photos]),
        ("decode + inference alone", "#2b6cb0",
         [results["in_process"][p]["total_ms"] for p in photos]),
    ]
    width = 0.26
    for i, (label, colour, stats) in enumerate(series):
        xs = [x + (i - 1) * width for x in range(len(photos))]
        p50 = [s["p50"] for s in stats]
        p95 = [s["p95"] for s in stats]
        above = [b - a for a, b in zip(p50, p95, strict=True)]
        bars = latency.bar(xs, p50, width, label=label, color=colour,
                           yerr=[[0] * len(p50), above], capsize=3)
        latency.bar_label(bars, labels=[f"{v:.0f}" for v in p50], padding=2, fontsize=8)
    latency.set_xticks(range(len(photos)), [
        f"{p} JPEG\n({results['photos'][p]['bytes'] / 1e6:.1f} MB)" for p in photos])
    latency.set_yscale("log")  # the naive pipeline is an order of magnitude slower
    latency.set_ylabel("ms per photo, one client (bar p50, whisker p95; log scale)")
    latency.set_title("Identifying a photo")
    latency.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)

    rows = [(f"{name}{'' if server == 'cached' else ' (no page cache)'}", page,
             "#b0b0b0" if name in ("/healthz", "minimal view")
             else "#2b6cb0" if server == "cached" else "#d9822b")
            for server, by_name in results["pages"].items() for name, page in by_name.items()
            if server == "cached" or name != "/healthz"]
    bars = pages.barh([r[0] for r in rows], [r[1]["per_second"] for r in rows],
                      color=[r[2] for r in rows])
    pages.bar_label(bars, padding=3, fontsize=8, labels=[
        f"{r[1]['per_second']:.0f}/s ({r[1]['share_of_healthz']:.2f} of /healthz)" for r in rows])
    pages.invert_yaxis()
    pages.set_xlabel(f"requests per second, {results['server']['concurrent_clients']} clients")
    pages.set_title("Pages: page cache on Redis (blue) and off (orange)")
    server = results["server"]
    figure.suptitle(f"catsite on {results['machine']['cores']} cores: gunicorn "
                    f"{server['workers']} workers x {server['threads']} threads, ONNX Runtime "
                    f"{server['model_threads']} thread(s) per worker ({results['created_at']})",
                    fontsize=10)
    figure.tight_layout()
    figure.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(figure)
    return path
