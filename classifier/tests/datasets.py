"""Small labelled datasets in the export_dataset format (issue 13), made from real photos that
ship with scikit-image: augmented crops, so every photo is different and the held-out ones are
crops the model has not seen.

The writer follows feedback/dataset.py's format (images/<sha256>.jpg, labels.csv, dataset.json
with the same counts and dataset sha256, computed by classifier.evaluation.dataset) but takes the
split of each photo as given, so a test knows which crops are held out.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

from classifier.evaluation.dataset import (
    FORMAT,
    FORMAT_VERSION,
    LABELS_FILE,
    MANIFEST_FILE,
    count_rows,
    dataset_sha256,
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
    """Write (photo bytes, label, split) examples as an export_dataset folder."""
    out = Path(out)
    (out / "images").mkdir(parents=True, exist_ok=True)
    images, rows = {}, set()
    for data, label, split in examples:
        sha256 = hashlib.sha256(data).hexdigest()
        file = f"images/{sha256}.jpg"
        (out / file).write_bytes(data)
        images[file] = sha256
        rows.add((file, label, split))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("file", "label", "split"))
    writer.writerows(sorted(rows))
    labels_csv = buffer.getvalue().encode()
    (out / LABELS_FILE).write_bytes(labels_csv)
    document = {
        "format": FORMAT, "format_version": format_version, "created": CREATED,
        "status": "accepted", "counts": count_rows(rows), "images": dict(sorted(images.items())),
        "sha256": dataset_sha256(labels_csv, images),
    }
    (out / MANIFEST_FILE).write_text(json.dumps(document, indent=2) + "\n")
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
