"""Writing a dataset folder that a training script reads without Django:

    images/<sha256>.jpg   every photo, re-encoded without metadata, named by its own sha256
    labels.csv            file,label,split (label: a species slug or not-a-cat), sorted
    dataset.json          format, format_version, created, counts per label and split, the
                          sha256 of every image, and the dataset's sha256

The split of a photo follows from its sha256 alone (train 80 %, validation 10 %, test 10 %), so
a photo never changes split as the dataset grows, and the same photo can never be in two splits.
An imported dataset's own splits narrow that choice (``Example.splits``: the Oxford-IIIT Pet
set's test list stays test, its trainval list is train or validation by the same hash).
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
    Dataset,
    DatasetError,
    image_file,
    write_index,
)
from feedback import photos
from feedback.selectors import Example

# Where each split ends on the hash's scale [0, 1): train 80 %, validation 10 %, test 10 %.
SPLIT_BOUNDS = dict(zip(SPLITS, (0.8, 0.9, 1.0), strict=True))


def split_for(sha256: str, within: tuple[str, ...] | None = None) -> str:
    """train, validation or test, from the first 64 bits of the photo's sha256 (uniform).
    ``within``: the splits the photo may go to (an imported dataset's own lists: the Oxford-IIIT
    Pet set's trainval photos go to train or validation, its test photos to test): the hash's
    split when it is one of them, else the first of them."""
    point = int(sha256[:16], 16) / 2**64
    split = next(name for name, upper in SPLIT_BOUNDS.items() if point < upper)
    return split if not within or split in within else within[0]


def export(examples: Iterable[Example], out: Path, *, status: str,
           progress: Callable[[int, int], None] | None = None,
           warn: Callable[[str], None] | None = None,
           unreadable: Callable[[Example, Exception], None] | None = None,
           merge: Dataset | None = None, refuse_empty: str | None = None,
           now: datetime.datetime | None = None, **extra) -> dict:
    """Write the dataset into ``out`` (created, or replaced if it holds an earlier export) and
    return dataset.json's content. Written in a temporary folder beside ``out`` and renamed into
    place, so a failed export never leaves half a dataset.

    ``unreadable(example, error)``: told of each photo that cannot be decoded (default: a
    ``warn`` line). ``merge``: a dataset (read_dataset: checked) whose photos and rows are kept
    as they are, not re-encoded again; an example whose re-encoded photo is already one of them
    is left out (the same photo appears once, with the merged dataset's label and split).
    ``refuse_empty``: when no example is written, raise DatasetError with this message instead
    (``out`` untouched). ``extra``: more fields for dataset.json (import_dataset's report)."""
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
        kept: set[str] = set()          # the merged dataset's files: their rows win
        if merge is not None:
            for example in merge.examples:
                if example.file not in images:
                    (work / example.file).write_bytes(merge.read(example))
                    images[example.file] = example.sha256
                rows.add((example.file, example.label, example.split))
            kept = set(images)
        duplicates = added = 0

        def add(example: Example) -> None:
            nonlocal duplicates, added
            try:
                clean = photos.reencode(example.read())
            except Exception as exc:  # noqa: BLE001 - one unreadable photo must not stop an export
                if unreadable:
                    unreadable(example, exc)
                elif warn:
                    warn(f"skipped {example.source}: {exc}")
                return
            sha256 = hashlib.sha256(clean).hexdigest()
            file = image_file(sha256)
            added += 1
            if file in kept:
                duplicates += 1
                return
            if file not in images:
                (work / file).write_bytes(clean)
                images[file] = sha256
            rows.add((file, example.label, split_for(sha256, example.splits)))

        for done, example in enumerate(examples, start=1):
            add(example)
            if progress:
                progress(done, len(examples))
        if refuse_empty and not added:
            raise DatasetError(refuse_empty)
        conflicting = [f for f, n in Counter(file for file, _, _ in rows).items() if n > 1]
        if conflicting and warn:
            warn(f"{len(conflicting)} photo(s) carry more than one label: "
                 + ", ".join(sorted(conflicting)[:5]))
        if merge is not None:
            extra["merged"] = {"sha256": merge.sha256, "photos": len(kept),
                               "duplicates": duplicates}
        manifest = write_index(
            work, rows, images, status=status, splits=SPLIT_BOUNDS,
            created=(now or datetime.datetime.now(datetime.UTC)).isoformat(), **extra)
        if out.exists():
            shutil.rmtree(out)
        os.replace(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest
