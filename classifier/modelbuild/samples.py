"""The photos and preprocessing used to check a freshly built model.

The preprocessing follows the manifest's input spec exactly as docs/model-package.md states it
(resize the shorter side, centre crop, ``(pixel - mean) / std`` on the 0-255 scale, NCHW), so
the checks exercise the same numbers the app feeds the model.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

# ImageNet indices: 281-285 are the domestic cats, 286-293 the wild ones.
DOMESTIC_CAT_CLASSES = range(281, 286)
CAT_CLASSES = range(281, 294)
ESPRESSO = 967


def sample_photos() -> dict[str, np.ndarray]:
    """Real photos shipped by scikit-image (no download): a tabby cat and a cup of coffee."""
    from skimage import data

    return {"skimage.data.chelsea": data.chelsea(), "skimage.data.coffee": data.coffee()}


def preprocess(rgb: np.ndarray, input_spec: dict) -> np.ndarray:
    """One HxWx3 uint8 RGB image -> a (3, size, size) float32 array as the manifest specifies."""
    image = Image.fromarray(rgb).convert("RGB")
    width, height = image.size
    scale = input_spec["resize"] / min(width, height)
    image = image.resize((round(width * scale), round(height * scale)), Image.Resampling.BILINEAR)
    size = input_spec["size"]
    left = (image.width - size) // 2
    top = (image.height - size) // 2
    image = image.crop((left, top, left + size, top + size))
    pixels = np.asarray(image, dtype=np.float32)
    mean = np.asarray(input_spec["mean"], dtype=np.float32)
    std = np.asarray(input_spec["std"], dtype=np.float32)
    return ((pixels - mean) / std).transpose(2, 0, 1).copy()


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)
