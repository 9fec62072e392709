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

import csv
import datetime
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from feedback import photos
from feedback.selectors import Example

FORMAT = "catsite-dataset"
FORMAT_VERSION = 1
SPLITS = (("train", 0.8), ("validation", 0.9), ("test", 1.0))  # upper bounds of the hash point


def split_for(sha256: str) -> str:
    """train, validation or test, from the first 64 bits of the photo's sha256 (uniform)."""
    point = int(sha256[:16], 16) / 2**64
    return next(name for name, upper in SPLITS if point < upper)


def dataset_sha256(labels_csv: bytes, images: dict[str, str]) -> str:
    """The dataset's identity: sha256 of the canonical JSON of the format version, labels.csv's
    sha256 and every image's sha256. A training script recomputes it from the files."""
    canonical = json.dumps(
        {"format_version": FORMAT_VERSION,
         "labels_csv_sha256": hashlib.sha256(labels_csv).hexdigest(),
         "images": images},
        sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class DatasetError(Exception):
    """The export cannot be written (a one-line reason for the command to print)."""


def export(examples: Iterable[Example], out: Path, *, status: str,
           progress: Callable[[int, int], None] | None = None,
           warn: Callable[[str], None] | None = None,
           now: datetime.datetime | None = None) -> dict:
    """Write the dataset into ``out`` (created, or replaced if it holds an earlier export) and
    return dataset.json's content. Written in a temporary folder beside ``out`` and renamed into
    place, so a failed export never leaves half a dataset."""
    out = Path(out)
    examples = list(examples)
    if out.exists() and any(out.iterdir()) and not (out / "dataset.json").exists():
        raise DatasetError(f"{out} is not empty and holds no dataset: choose an empty or new "
                           "folder.")
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        (work / "images").mkdir()
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
            file = f"images/{sha256}.jpg"
            if file not in images:
                (work / file).write_bytes(clean)
                images[file] = sha256
            rows.add((file, example.label, split_for(sha256)))
            if progress:
                progress(done, len(examples))
        labels_csv = _labels_csv(sorted(rows))
        (work / "labels.csv").write_bytes(labels_csv)
        conflicting = [f for f, n in Counter(file for file, _, _ in rows).items() if n > 1]
        if conflicting and warn:
            warn(f"{len(conflicting)} photo(s) carry more than one label: "
                 + ", ".join(sorted(conflicting)[:5]))
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created": (now or datetime.datetime.now(datetime.UTC)).isoformat(),
            "status": status,
            "splits": {name: upper for name, upper in SPLITS},
            "counts": _counts(rows),
            "images": dict(sorted(images.items())),
            "sha256": dataset_sha256(labels_csv, images),
        }
        (work / "dataset.json").write_text(json.dumps(manifest, indent=2) + "\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def _labels_csv(rows: list[tuple[str, str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(("file", "label", "split"))
    writer.writerows(rows)
    return buffer.getvalue().encode()


def _counts(rows: set[tuple[str, str, str]]) -> dict:
    by_label: dict[str, dict[str, int]] = {}
    by_split = Counter()
    for _file, label, split in rows:
        entry = by_label.setdefault(label, {name: 0 for name, _ in SPLITS})
        entry[split] += 1
        by_split[split] += 1
    return {
        "total": len(rows),
        "splits": {name: by_split[name] for name, _ in SPLITS},
        "labels": {label: {**splits, "total": sum(splits.values())}
                   for label, splits in sorted(by_label.items())},
    }
