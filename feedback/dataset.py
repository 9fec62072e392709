"""Writing a dataset folder that a training script reads without Django:

    images/<sha256>.jpg   every photo, re-encoded without metadata, named by its own sha256
    labels.csv            file,label,split (label: a species slug or not-a-cat), sorted
    dataset.json          format, format_version, created, counts per label and split, the
                          sha256 of every image, and the dataset's sha256

The split of a photo follows from its sha256 alone (train 80 %, validation 10 %, test 10 %), so
a photo never changes split as the dataset grows, and the same photo can never be in two splits.
The dataset's sha256 covers the format version, labels.csv and every image, not the creation
time: the same data always gives the same hash.
"""
from __future__ import annotations

import datetime
import hashlib
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

# The format's one definition lives with its reader (pure Python, for training scripts too):
# the writer here names the images and writes labels.csv and dataset.json with it, so
# read_dataset() accepts its output.
from catmodel.evaluation.dataset import (
    IMAGES_DIR,
    MANIFEST_FILE,
    SPLITS,
    DatasetError,
    image_file,
    write_index,
)
from feedback import photos
from feedback.selectors import Example

# Where each split ends on the hash's scale [0, 1): train 80 %, validation 10 %, test 10 %.
SPLIT_BOUNDS = dict(zip(SPLITS, (0.8, 0.9, 1.0), strict=True))


def split_for(sha256: str) -> str:
    """train, validation or test, from the first 64 bits of the photo's sha256 (uniform)."""
    point = int(sha256[:16], 16) / 2**64
    return next(name for name, upper in SPLIT_BOUNDS.items() if point < upper)


def export(examples: Iterable[Example], out: Path, *, status: str,
           progress: Callable[[int, int], None] | None = None,
           warn: Callable[[str], None] | None = None,
           now: datetime.datetime | None = None) -> dict:
    """Write the dataset into ``out`` (created, or replaced if it holds an earlier export) and
    return dataset.json's content. Written in a temporary folder beside ``out`` and renamed into
    place, so a failed export never leaves half a dataset."""
    out = Path(out)
    examples = list(examples)
    if out.exists() and any(out.iterdir()) and not (out / MANIFEST_FILE).exists():
        raise DatasetError(f"{out} is not empty and holds no dataset: choose an empty or new "
                           "folder.")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        (work / IMAGES_DIR).mkdir()
        rows: set[tuple[str, str, str]] = set()
        images: dict[str, str] = {}
        for done, example in enumerate(examples, start=1):
            try:
                clean = photos.reencode(example.read())
            except Exception as exc:  # noqa: BLE001 - one unreadable photo must not stop an export
                if warn:
                    warn(f"skipped {example.source}: {exc}")
                continue
            sha256 = hashlib.sha256(clean).hexdigest()
            file = image_file(sha256)
            if file not in images:
                (work / file).write_bytes(clean)
                images[file] = sha256
            rows.add((file, example.label, split_for(sha256)))
            if progress:
                progress(done, len(examples))
        conflicting = [f for f, n in Counter(file for file, _, _ in rows).items() if n > 1]
        if conflicting and warn:
            warn(f"{len(conflicting)} photo(s) carry more than one label: "
                 + ", ".join(sorted(conflicting)[:5]))
        manifest = write_index(
            work, rows, images, status=status, splits=SPLIT_BOUNDS,
            created=(now or datetime.datetime.now(datetime.UTC)).isoformat())
        if out.exists():
            shutil.rmtree(out)
        os.replace(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest

