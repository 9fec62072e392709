"""Photos -> network inputs: augmented for training, the app's own preprocessing otherwise.

Augmentation (torchvision): a random crop of 35-100 % of the photo's area resized to 224, a
horizontal flip, small changes of brightness, contrast, saturation and hue: the ways a
visitor's photo of the same cat differs. Drawn from torch's random generator, which training
seeds, so the same seed gives the same crops.
"""
from __future__ import annotations

import numpy as np
from PIL import Image
from torchvision.transforms import v2

from catmodel.inference import InputSpec, decode_image, preprocess_image
from catmodel.inference.preprocess import normalise

# Photos are decoded once and kept at this shorter side: enough for a 224 crop of a third of
# the photo, and small enough to keep a few thousand in memory.
WORKING_SIDE = 320


def load_photo(data: bytes) -> Image.Image:
    """Decode (with the app's guards and orientation) and shrink to WORKING_SIDE."""
    image = decode_image(data, min_side=WORKING_SIDE)
    scale = WORKING_SIDE / min(image.size)
    if scale < 1:
        image = image.resize((round(image.width * scale), round(image.height * scale)),
                             Image.Resampling.BILINEAR)
    return image


def augmenter(size: int) -> v2.Compose:
    return v2.Compose([
        v2.RandomResizedCrop(size, scale=(0.35, 1.0), antialias=True),
        v2.RandomHorizontalFlip(),
        v2.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2, hue=0.02),
    ])


def augmented_batch(images: list[Image.Image], spec: InputSpec) -> np.ndarray:
    transform = augmenter(spec.size)
    return np.concatenate([normalise(transform(image), spec) for image in images])


def plain_batch(images: list[Image.Image], spec: InputSpec) -> np.ndarray:
    """What the app feeds the model: resize, centre crop, normalise."""
    return np.concatenate([preprocess_image(image, spec) for image in images])
