"""Reading a dataset folder written by ``manage.py export_dataset`` (issue 13). Pure Python: no
Django, no torch, so a training script or a notebook reads it as the site's tools do.

    images/<sha256>.jpg   every photo
    labels.csv            file,label,split (label: a species slug or not-a-cat)
    dataset.json          format, format_version, created, counts, the sha256 of every image and
                          the dataset's sha256

This module is the format's one definition, for the reader and every writer (export_dataset in
feedback/dataset.py, the tests' datasets in testsupport/datasets.py): the constants, the
image names, labels.csv and dataset.json as ``write_index`` writes them, the dataset hash and the
counts. A dataset is read only when its format version is the one this code knows and every
image, labels.csv and the dataset hash are what dataset.json says, so a model's lineage names
exactly the data it saw.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from catmodel.errors import AppError

FORMAT = "catsite-dataset"
FORMAT_VERSION = 1
SPLITS = ("train", "validation", "test")
NOT_A_CAT = "not-a-cat"
LABELS_FILE = "labels.csv"
MANIFEST_FILE = "dataset.json"
LABELS_HEADER = ("file", "label", "split")
IMAGES_DIR = "images"


class DatasetError(AppError):
    """The dataset cannot be used as it is; the message says what to do (one line)."""

    code = "dataset_invalid"
    status = 400
    default_message = "The dataset folder cannot be read."


@dataclass(frozen=True)
class Example:
    file: str       # relative to the dataset folder, e.g. images/<sha256>.jpg
    label: str      # a species slug or not-a-cat
    split: str      # train, validation or test
    sha256: str


@dataclass(frozen=True)
class Dataset:
    root: Path
    examples: tuple[Example, ...]
    sha256: str
    created: str
    counts: dict    # as dataset.json records them (checked against labels.csv)

    @property
    def labels(self) -> list[str]:
        """Every label of the dataset, sorted (``not-a-cat`` included when present)."""
        return sorted({example.label for example in self.examples})

    def split(self, name: str) -> list[Example]:
        if name not in SPLITS:
            raise DatasetError(f"unknown split {name!r}: choose one of {', '.join(SPLITS)}")
        return [example for example in self.examples if example.split == name]

    def read(self, example: Example) -> bytes:
        return (self.root / example.file).read_bytes()

    def lineage(self) -> dict:
        """What a model's manifest records of the data it was trained or evaluated on."""
        return {"format_version": FORMAT_VERSION, "sha256": self.sha256, "created": self.created,
                "counts": self.counts}


def dataset_sha256(labels_csv: bytes, images: dict[str, str]) -> str:
    """The dataset's identity, as the writer computes it: sha256 of the canonical JSON of the
    format version, labels.csv's sha256 and every image's sha256 (not the creation time)."""
    canonical = json.dumps(
        {"format_version": FORMAT_VERSION,
         "labels_csv_sha256": hashlib.sha256(labels_csv).hexdigest(),
         "images": images},
        sort_keys=True, separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def count_rows(rows) -> dict:
    """``counts`` of dataset.json from (file, label, split) rows: total, per split, per label."""
    by_label: dict[str, dict[str, int]] = {}
    by_split: Counter[str] = Counter()
    for _file, label, split in rows:
        entry = by_label.setdefault(label, dict.fromkeys(SPLITS, 0))
        entry[split] += 1
        by_split[split] += 1
    return {
        "total": sum(by_split.values()),
        "splits": {name: by_split[name] for name in SPLITS},
        "labels": {label: {**splits, "total": sum(splits.values())}
                   for label, splits in sorted(by_label.items())},
    }


def image_file(sha256: str) -> str:
    """Where a photo lives in a dataset folder: named by the sha256 of its bytes."""
    return f"{IMAGES_DIR}/{sha256}.jpg"


def labels_csv(rows) -> bytes:
    """labels.csv's bytes from (file, label, split) rows: the header, then the rows sorted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(LABELS_HEADER)
    writer.writerows(sorted(rows))
    return buffer.getvalue().encode()


def write_index(folder, rows, images: dict[str, str], *, created: str, status: str,
                **extra) -> dict:
    """Write labels.csv and dataset.json into ``folder`` (its images already written, ``images``
    mapping each file to its sha256) and return dataset.json's content. ``extra``: more fields
    a writer records (export_dataset: the split bounds)."""
    folder = Path(folder)
    rows = sorted(rows)
    labels = labels_csv(rows)
    (folder / LABELS_FILE).write_bytes(labels)
    manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "created": created,
                "status": status, **extra, "counts": count_rows(rows),
                "images": dict(sorted(images.items())), "sha256": dataset_sha256(labels, images)}
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def read_dataset(directory) -> Dataset:
    """The dataset in ``directory``, checked: DatasetError (one line) when it is not a dataset,
    was written by another format version, or differs from what its dataset.json records."""
    root = Path(directory)
    document = _manifest(root)
    labels_csv = _read(root / LABELS_FILE, f"{LABELS_FILE} is missing from {root}")
    rows = _rows(labels_csv, root)
    images = document.get("images")
    if not isinstance(images, dict):
        raise DatasetError(f"{root / MANIFEST_FILE} has no images table: re-export the dataset")
    examples = []
    for file, label, split in rows:
        if file not in images:
            raise DatasetError(f"{LABELS_FILE} lists {file}, which {MANIFEST_FILE} does not: "
                               "re-export the dataset")
        examples.append(Example(file=file, label=label, split=split, sha256=images[file]))
    for file, expected in sorted(images.items()):
        found = hashlib.sha256(_read(root / _inside(file, root), f"{file} is missing from "
                                     f"{root}: re-export the dataset")).hexdigest()
        if found != expected:
            raise DatasetError(f"{file} in {root} changed since the export (sha256 {found}, "
                               f"{MANIFEST_FILE} says {expected}): re-export the dataset")
    computed = dataset_sha256(labels_csv, images)
    if computed != document.get("sha256"):
        raise DatasetError(f"{root} does not match its {MANIFEST_FILE} (dataset sha256 "
                           f"{computed}, recorded {document.get('sha256')}): re-export the dataset")
    counts = count_rows(rows)
    if document.get("counts") != counts:
        raise DatasetError(f"the counts in {root / MANIFEST_FILE} differ from {LABELS_FILE}: "
                           "re-export the dataset")
    return Dataset(root=root, examples=tuple(examples), sha256=computed,
                   created=str(document.get("created", "")), counts=counts)


def _manifest(root: Path) -> dict:
    if not root.is_dir():
        raise DatasetError(f"no dataset folder at {root}: run manage.py export_dataset --out "
                           f"{root} first")
    data = _read(root / MANIFEST_FILE, f"{root} holds no {MANIFEST_FILE}: it is not a dataset "
                                       "written by manage.py export_dataset")
    try:
        document = json.loads(data)
    except ValueError:
        raise DatasetError(f"{root / MANIFEST_FILE} is not readable JSON: re-export the "
                           "dataset") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise DatasetError(f"{root / MANIFEST_FILE} is not a {FORMAT} manifest: it is not a "
                           "dataset written by manage.py export_dataset")
    version = document.get("format_version")
    if version != FORMAT_VERSION:
        raise DatasetError(f"{root} was written by dataset format version {version}; this "
                           f"catsite reads version {FORMAT_VERSION}: export it again with this "
                           "catsite's export_dataset")
    return document


def _rows(labels_csv: bytes, root: Path) -> list[tuple[str, str, str]]:
    try:
        reader = csv.reader(io.StringIO(labels_csv.decode()))
        header = next(reader, None)
        rows = [tuple(row) for row in reader if row]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{root / LABELS_FILE} is not readable CSV ({exc}): re-export the "
                           "dataset") from None
    if tuple(header or ()) != LABELS_HEADER:
        raise DatasetError(f"{root / LABELS_FILE} must start with the header "
                           f"{','.join(LABELS_HEADER)}: re-export the dataset")
    for number, row in enumerate(rows, start=2):
        if len(row) != 3 or not row[1] or row[2] not in SPLITS:
            raise DatasetError(f"{root / LABELS_FILE} line {number} is not file,label,split "
                               f"with a split of {', '.join(SPLITS)}: re-export the dataset")
        _inside(row[0], root)
    return [(file, label, split) for file, label, split in rows]  # each row checked: 3 fields


def _inside(file: str, root: Path) -> str:
    """A listed file stays inside the dataset folder (no absolute path, no '..')."""
    path = PurePosixPath(file)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise DatasetError(f"{root} lists the file {file!r} outside the dataset folder: "
                           "re-export the dataset")
    return file


def _read(path: Path, missing: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DatasetError(missing) from None
    except OSError as exc:
        raise DatasetError(f"{path} is not readable ({exc.strerror or exc})") from None
