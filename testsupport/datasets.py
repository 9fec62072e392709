"""Small labelled datasets in the export_dataset format (issue 13), made from real photos that
ship with scikit-image: augmented crops, so every photo is different and the held-out ones are
crops the model has not seen.

The writer uses the format's one definition (catmodel.evaluation.dataset: image names,
labels.csv, dataset.json, as export_dataset writes them) but takes the split of each photo as
given, so a test knows which crops are held out.
"""
from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

from catmodel.evaluation.dataset import (
    FORMAT_VERSION,
    IMAGES_DIR,
    MANIFEST_FILE,
    image_file,
    write_index,
)

CREATED = "2026-12-01T00:00:00+00:00"


def photo(name: str) -> Image.Image:
    """A photo scikit-image ships (no download): chelsea, coffee, rocket, astronaut, ..."""
    from skimage import data

    loaders = {"motorcycle": lambda: data.stereo_motorcycle()[0],
               "ihc": data.immunohistochemistry}
    return Image.fromarray(loaders.get(name, getattr(data, name, None))()).convert("RGB")


def crops(image: Image.Image, count: int, seed: int) -> list[bytes]:
    """``count`` JPEGs of random crops (45-90 % of each side), some mirrored, shorter side 256."""
    rng = np.random.default_rng(seed)
    result = []
    for _ in range(count):
        fraction = rng.uniform(0.45, 0.9)
        width, height = round(image.width * fraction), round(image.height * fraction)
        left = int(rng.integers(0, image.width - width + 1))
        top = int(rng.integers(0, image.height - height + 1))
        crop = image.crop((left, top, left + width, top + height))
        if rng.random() < 0.5:
            crop = crop.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        scale = 256 / min(crop.size)
        crop = crop.resize((round(crop.width * scale), round(crop.height * scale)),
                           Image.Resampling.BILINEAR)
        buffer = io.BytesIO()
        crop.save(buffer, "JPEG", quality=90)
        result.append(buffer.getvalue())
    return result


def write_dataset(out: Path, examples: list[tuple[bytes, str, str]], *,
                  format_version: int = FORMAT_VERSION) -> Path:
    """Write (photo bytes, label, split) examples as an export_dataset folder; another
    ``format_version`` only to test that readers refuse it."""
    out = Path(out)
    (out / IMAGES_DIR).mkdir(parents=True, exist_ok=True)
    images, rows = {}, set()
    for data, label, split in examples:
        sha256 = hashlib.sha256(data).hexdigest()
        file = image_file(sha256)
        (out / file).write_bytes(data)
        images[file] = sha256
        rows.add((file, label, split))
    manifest = write_index(out, rows, images, created=CREATED, status="accepted")
    if format_version != FORMAT_VERSION:
        manifest["format_version"] = format_version
        (out / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return out


# label -> the photos its crops come from. Two taught labels: chelsea (a tabby) as a Maine Coon,
# which ImageNet cannot name, and the immunohistochemistry slide's brown spots as a Bengal, which
# ImageNet does not think is a cat at all: the new head must learn both.
TAUGHT = {"maine-coon": ["chelsea"], "bengal": ["ihc"],
          "not-a-cat": ["coffee", "rocket", "astronaut"]}
SPLIT_PLAN = {"train": 8, "validation": 2, "test": 3}   # crops per label
HELD_OUT_NOT_A_CAT = "motorcycle"                       # in no split: never seen in training


def teaching_examples(plan: dict[str, int] = SPLIT_PLAN, taught: dict | None = None
                      ) -> list[tuple[bytes, str, str]]:
    examples = []
    for label_number, (label, names) in enumerate(sorted((taught or TAUGHT).items())):
        total = sum(plan.values())
        per_photo = [crops(photo(name), -(-total // len(names)), seed=100 * label_number + i)
                     for i, name in enumerate(names)]
        # Taken in turn from each photo, so every split holds crops of every photo.
        pictures = [crop for group in zip(*per_photo, strict=True) for crop in group][:total]
        splits = [split for split, n in plan.items() for _ in range(n)]
        examples += [(data, label, split) for data, split in zip(pictures, splits, strict=True)]
    return examples
