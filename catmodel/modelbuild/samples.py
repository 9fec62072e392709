"""The photos and preprocessing used to check a freshly built model.

The preprocessing and softmax are the app's own (catmodel.inference), so the checks exercise
exactly the numbers the app feeds the model.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from catmodel.inference import InputSpec, preprocess_image, softmax  # noqa: F401 (re-exported)

# ImageNet indices: 281-285 are the domestic cats, 286-293 the wild ones.
DOMESTIC_CAT_CLASSES = range(281, 286)
CAT_CLASSES = range(281, 294)
ESPRESSO = 967


def sample_photos() -> dict[str, np.ndarray]:
    """Real photos shipped by scikit-image (no download): a tabby cat and a cup of coffee."""
    from skimage import data

    return {"skimage.data.chelsea": data.chelsea(), "skimage.data.coffee": data.coffee()}


def preprocess(rgb: np.ndarray, input_spec: dict) -> np.ndarray:
    """One HxWx3 uint8 RGB image -> a (3, size, size) float32 array, through the app's own
    preprocessing, so the build verifies the very numbers the app will feed the model."""
    return preprocess_image(Image.fromarray(rgb).convert("RGB"), InputSpec.from_dict(input_spec))[0]
