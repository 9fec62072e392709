"""Peak resident memory of one decode, measured in a fresh interpreter.

    python -m testsupport.decode_probe FILE [MIN_SIDE]

prints one JSON line: {"baseline_mb", "peak_mb", "above_baseline_mb", "outcome", "size"}.
The baseline is the resident memory once Pillow, NumPy and the decoder are imported and the file
is read; Linux's peak counter (VmHWM) is then reset (``/proc/self/clear_refs``) so the peak is
the decode's own, not the imports'. ``outcome`` is "decoded" or the error code it raised.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} missing from /proc/self/status")


def _reset_peak() -> None:
    # "5" resets the peak resident set size (Documentation/filesystems/proc.rst).
    Path("/proc/self/clear_refs").write_text("5")


def measure(path: str, min_side: int | None) -> dict:
    from catmodel.inference import ClassifierError, decode_image

    data = Path(path).read_bytes()
    baseline = _status_kb("VmRSS")
    _reset_peak()
    try:
        image = decode_image(data, min_side=min_side)
        outcome, size = "decoded", list(image.size)
    except ClassifierError as error:
        outcome, size = error.code, None
    peak = _status_kb("VmHWM")
    return {
        "baseline_mb": round(baseline / 1024, 1),
        "peak_mb": round(peak / 1024, 1),
        "above_baseline_mb": round((peak - baseline) / 1024, 1),
        "outcome": outcome,
        "size": size,
    }


if __name__ == "__main__":
    side = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2] != "none" else None
    print(json.dumps(measure(sys.argv[1], side)))
