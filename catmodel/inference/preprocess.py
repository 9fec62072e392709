"""An RGB image -> the network's input tensor, as the manifest's input spec says."""
from __future__ import annotations

import numpy as np
from PIL import Image

from .package import InputSpec

# When the source is at least twice this many times the target, Pillow first shrinks it by an
# integer factor with a box filter, then resamples bilinearly: much faster on big non-JPEG images
# and, per Pillow's docs, indistinguishable from a plain bilinear resize at 3. Below 6x the
# target (all draft-decoded JPEGs) the result is exactly a plain bilinear resize.
REDUCING_GAP = 3.0


def resize_and_crop(image: Image.Image, spec: InputSpec) -> Image.Image:
    """Resize the shorter side to ``spec.resize`` (bilinear), then centre-crop ``spec.size``.

    Done in one step: Pillow resamples only the source region that the crop keeps. Resizing
    the whole image first would let a long, thin image (say 1 x 40,000,000 pixels, within the
    pixel limit) grow to gigabytes before the crop.
    """
    width, height = image.size
    scale = spec.resize / min(width, height)
    resized = (max(spec.size, round(width * scale)), max(spec.size, round(height * scale)))
    left = (resized[0] - spec.size) // 2
    top = (resized[1] - spec.size) // 2
    scale_x, scale_y = width / resized[0], height / resized[1]
    box = (left * scale_x, top * scale_y,
           (left + spec.size) * scale_x, (top + spec.size) * scale_y)
    return image.resize((spec.size, spec.size), Image.Resampling.BILINEAR, box=box,
                        reducing_gap=REDUCING_GAP)


def normalise(image: Image.Image, spec: InputSpec) -> np.ndarray:
    """RGB pixels (0-255) -> ``(pixel - mean) / std`` as a (1, 3, H, W) float32 array."""
    pixels = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    height, width = pixels.shape[:2]
    # Into one preallocated NCHW array, the same arithmetic in the same float32 steps as
    # ((pixels - mean) / std).transpose(): 4x faster (0.12 ms for 224 x 224), the same bits.
    out = np.empty((1, 3, height, width), dtype=np.float32)
    np.subtract(pixels.transpose(2, 0, 1), np.asarray(spec.mean, np.float32).reshape(3, 1, 1),
                out=out[0])
    np.divide(out[0], np.asarray(spec.std, np.float32).reshape(3, 1, 1), out=out[0])
    return out


def preprocess_image(image: Image.Image, spec: InputSpec) -> np.ndarray:
    return normalise(resize_and_crop(image, spec), spec)
