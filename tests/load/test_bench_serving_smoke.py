"""``python -m bench.run --serving --quick`` runs end to end: serve_model and in-process
identification measured at 1, 4 and 16 clients, every request answered, the figures saved.
(tests/ never imports bench/: the bench runs as its users run it.)

    python -m pytest tests/load/test_bench_serving_smoke.py -m slow
"""
from __future__ import annotations

import json
import subprocess

import pytest

from testsupport.harness import PYTHON, ROOT

pytestmark = pytest.mark.slow


def test_the_serving_bench_measures_every_concurrency(tmp_path):
    out = tmp_path / "serving.json"
    result = subprocess.run([PYTHON, "-m", "bench.run", "--serving", "--quick", "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["machine"]["cpu"]  # the CPU and its AVX-512 / VNNI flags
    assert len(figures["machine"]["load_average_at_end"]) == 3
    for name in ("0.3 MP", "12 MP"):
        photo = figures["photos"][name]
        for side in ("serve_model", "in_process"):
            assert sorted(photo[side], key=int) == ["1", "4", "16"], photo[side].keys()
            for clients, run in photo[side].items():
                assert run["errors"] == 0, (name, side, clients, run)
                assert run["per_second"] > 0 and run["latency_ms"]["p95"] is not None
    batched = figures["photos"]["0.3 MP"]["serve_model_batched_one_client"]
    assert sorted(batched, key=int) == ["1", "4", "16"]
    assert all(run["errors"] == 0 and run["images_per_second"] > 0 for run in batched.values())
    assert sorted(figures["onnxruntime_ms_per_image_by_batch"], key=int) == ["1", "4", "16"]
    assert "16 client(s): serve_model" in result.stdout
