"""The photos the benchmarks and load tests send, made from scikit-image's tabby (no download)."""
from __future__ import annotations

import numpy as np
from PIL import Image

from testsupport import images

SMALL_SIZE = (640, 480)      # 0.3 megapixels
LARGE_SIZE = (4000, 3000)    # 12 megapixels, a phone camera's photo
# An upscaled photo is unnaturally smooth and compresses to under 1 MB; sensor-like grain brings
# the 12 MP JPEG to the 2-3 MB a phone writes, which is what decoding and uploading really cost.
GRAIN_SIGMA = 6.0


def small_jpeg() -> bytes:
    return images.jpeg(images.chelsea(), size=SMALL_SIZE)


def large_smooth_jpeg() -> bytes:
    """12 MP upscaled without grain (about 0.8 MB): cheap to entropy-decode, the best case."""
    return images.jpeg(images.chelsea(), size=LARGE_SIZE)


def large_jpeg(seed: int = 0) -> bytes:
    upscaled = images.chelsea().resize(LARGE_SIZE, Image.Resampling.BILINEAR)
    pixels = np.asarray(upscaled, dtype=np.float32)
    grain = np.random.default_rng(seed).normal(0.0, GRAIN_SIGMA, pixels.shape).astype(np.float32)
    noisy = np.clip(pixels + grain, 0, 255).astype(np.uint8)
    return images.encode(Image.fromarray(noisy), "JPEG", quality=90)
