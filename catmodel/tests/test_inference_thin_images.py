"""Long, thin images within the pixel limit must not blow up memory while being resized.

Found by fuzzing the upload page: a 1 x N image resized to a 256-pixel shorter side became
256 x 256N pixels (tens of gigabytes) before the centre crop threw nearly all of it away.
"""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Run in a child with a 2 GB address-space cap, so the old behaviour fails with MemoryError
# instead of taking the machine down, and the check does not depend on this process's past peak.
CHILD = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
from PIL import Image
from catmodel.inference import InputSpec, preprocess_image
spec = InputSpec.from_dict({"name": "input", "layout": "NCHW", "color": "RGB", "size": 224,
                            "resize": 256, "mean": [127, 127, 127], "std": [128, 128, 128]})
width, height = int(sys.argv[1]), int(sys.argv[2])
batch = preprocess_image(Image.new("RGB", (width, height), (30, 140, 60)), spec)
assert batch.shape == (1, 3, 224, 224), batch.shape
assert abs(float(batch[0, 1].mean()) - (140 - 127) / 128) < 1e-3
print("ok")
"""


@pytest.mark.parametrize("size", [(1, 40_000_000), (40_000_000, 1), (2, 9_000_000)])
def test_thin_images_preprocess_within_bounded_memory(size):
    result = subprocess.run([sys.executable, "-c", CHILD, *map(str, size)], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "ok"
