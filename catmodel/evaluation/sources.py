"""Public datasets in their own layouts, read as labelled photos for ``manage.py import_dataset``
(issue 23). Pure Python: no Django, no Pillow; the photos are only listed here (the importer
re-encodes them as export_dataset does, and the format's one definition is dataset.py).

    imagefolder    SRC/<label>/**/*.jpg     label: an entry's slug (or name) or not-a-cat
    oxford-pets    SRC/images/<Image>.jpg, SRC/annotations/list.txt ("Image CLASS-ID SPECIES
                   BREED-ID", '#' comments; SPECIES 1 cat, 2 dog; the breed is the image name
                   without its number), and SRC/annotations/trainval.txt and test.txt, the splits
    inaturalist    an observations export (CSV with iNaturalist's columns: id, scientific_name,
                   ...; SRC is the CSV file or the folder holding it) and its photos in photos/
                   beside the CSV, named by observation id: photos/<id>.jpg, or photos/<id>_<n>.jpg
                   for several photos of one observation

Each reader returns a ``Source``: the photos with the name their layout gives them (a folder, a
breed, a scientific name) and whether the layout itself says they are not cats (the Oxford set's
dogs; an iNaturalist observation of another family), and what it left out and why. ``EntryNames``
maps those names to encyclopedia entries (by slug, common name, scientific name or synonym).
A layout that is not the one asked for is a ``DatasetError`` (one line saying what was expected).
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .dataset import NOT_A_CAT, DatasetError

FORMATS = ("imagefolder", "oxford-pets", "inaturalist")
# The photo formats the site decodes (catmodel.inference: JPEG, PNG, WebP, GIF), by file name.
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".gif")

# Why something was not imported: the report groups by these.
NO_SUCH_ENTRY = "no such entry"
AMBIGUOUS = "ambiguous"
UNREADABLE = "unreadable photo"
NOT_A_PHOTO = "not a photo"
NO_LABEL = "no label"
NO_PHOTO = "no photo file"

# The two splits a photo of a list that is "for training" may go to (by its hash): the Oxford
# set's trainval list; the test list goes to test.
TRAINVAL = ("train", "validation")
TEST = ("test",)

OXFORD_SPECIES = {"1": "cat", "2": "dog"}
INATURALIST_REQUIRED = ("id", "scientific_name")
FAMILY = "Felidae"


@dataclass(frozen=True)
class SourcePhoto:
    path: Path
    name: str                       # the label as the source gives it
    not_a_cat: bool = False         # the source itself says it is no cat
    splits: tuple[str, ...] | None = None   # where it may go (chosen by its hash); None: any
    what: str = ""                  # how the report names the label, e.g. "Maine Coon (cat breed)"

    @property
    def described(self) -> str:
        return self.what or self.name


@dataclass(frozen=True)
class Skipped:
    name: str        # the label, the row or the file left out
    reason: str      # one of the reasons above
    detail: str = ""


@dataclass
class Source:
    format: str
    root: Path
    photos: list[SourcePhoto] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # e.g. "splits by hash: no trainval.txt"


def read_source(format: str, src) -> Source:
    readers = {"imagefolder": imagefolder, "oxford-pets": oxford_pets,
               "inaturalist": inaturalist}
    if format not in readers:
        raise DatasetError(f"unknown format {format!r}: choose one of {', '.join(FORMATS)}")
    return readers[format](Path(src))


def is_photo_name(path: Path) -> bool:
    return path.suffix.lower() in PHOTO_SUFFIXES


def _not_a_photo(path: Path, root: Path) -> Skipped:
    return Skipped(str(path.relative_to(root)), NOT_A_PHOTO,
                   f"{path.suffix or 'no suffix'}: only JPEG, PNG, WebP or GIF files are read")


def _folder(src: Path, expected: str) -> Path:
    if not src.is_dir():
        raise DatasetError(f"{src} is not a folder: expected {expected}")
    return src


# --- imagefolder -------------------------------------------------------------------------------

IMAGEFOLDER_LAYOUT = "SRC/<label>/*.jpg (label: an entry slug or not-a-cat)"


def imagefolder(src: Path) -> Source:
    root = _folder(src, IMAGEFOLDER_LAYOUT)
    source = Source("imagefolder", root)
    labels = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not labels:
        raise DatasetError(f"{root} holds no label folders: expected {IMAGEFOLDER_LAYOUT}")
    for path in sorted(p for p in root.iterdir() if p.is_file()):
        source.skipped.append(Skipped(path.name, NO_LABEL, "outside a label folder"))
    for folder in labels:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            if path.name.startswith("."):
                continue                   # .DS_Store and the like: not the user's photos
            if not is_photo_name(path):
                source.skipped.append(_not_a_photo(path, root))
                continue
            source.photos.append(SourcePhoto(path, folder.name,
                                             not_a_cat=folder.name == NOT_A_CAT))
    return source


# --- oxford-pets -------------------------------------------------------------------------------

OXFORD_LAYOUT = ("SRC/images/ and SRC/annotations/list.txt (the Oxford-IIIT Pet layout: unpack "
                 "images.tar.gz and annotations.tar.gz into SRC)")


@dataclass(frozen=True)
class OxfordRow:
    image: str       # e.g. Abyssinian_100
    class_id: int    # 1..37
    species: str     # cat or dog
    breed_id: int    # 1..12 for cats, 1..25 for dogs

    @property
    def breed(self) -> str:
        """The breed, from the image name (its number dropped): "Maine_Coon" -> "Maine Coon"."""
        return self.image.rsplit("_", 1)[0].replace("_", " ")


def oxford_rows(path: Path) -> list[OxfordRow]:
    """The rows of list.txt, trainval.txt or test.txt: "Image CLASS-ID SPECIES BREED-ID"."""
    rows = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split()
        if (len(fields) != 4 or not all(f.isdigit() for f in fields[1:])
                or fields[2] not in OXFORD_SPECIES):
            raise DatasetError(f"{path} line {number} is not 'Image CLASS-ID SPECIES BREED-ID' "
                               f"(SPECIES 1 cat, 2 dog): {line.strip()[:80]!r}")
        rows.append(OxfordRow(fields[0], int(fields[1]), OXFORD_SPECIES[fields[2]],
                              int(fields[3])))
    return rows


def oxford_pets(src: Path) -> Source:
    root = _folder(src, OXFORD_LAYOUT)
    images, annotations = root / "images", root / "annotations"
    listing = annotations / "list.txt"
    if not images.is_dir() or not listing.is_file():
        missing = "images/" if not images.is_dir() else "annotations/list.txt"
        raise DatasetError(f"{root} has no {missing}: expected {OXFORD_LAYOUT}")
    source = Source("oxford-pets", root)
    rows = oxford_rows(listing)
    if not rows:
        raise DatasetError(f"{listing} lists no images: expected 'Image CLASS-ID SPECIES "
                           "BREED-ID' lines")
    splits: dict[str, tuple[str, ...]] = {}
    for name, goes_to in (("trainval.txt", TRAINVAL), ("test.txt", TEST)):
        if (annotations / name).is_file():
            splits.update({row.image: goes_to for row in oxford_rows(annotations / name)})
        else:
            source.notes.append(f"no annotations/{name}: its photos are split by hash")
    files = {p.stem: p for p in sorted(images.iterdir()) if p.is_file() and is_photo_name(p)}
    for path in sorted(images.iterdir()):
        if path.is_file() and not is_photo_name(path):
            source.skipped.append(_not_a_photo(path, root))   # the set ships a few .mat files
    listed = set()
    for row in rows:
        listed.add(row.image)
        what = f"{row.breed} ({'cat breed' if row.species == 'cat' else 'dog'})"
        found = files.get(row.image)
        if found is None:
            source.skipped.append(Skipped(what, NO_PHOTO, f"images/{row.image}.jpg is missing"))
            continue
        source.photos.append(SourcePhoto(found, row.breed, not_a_cat=row.species == "dog",
                                         splits=splits.get(row.image), what=what))
    for stem, path in files.items():
        if stem not in listed:
            source.skipped.append(Skipped(str(path.relative_to(root)), NO_LABEL,
                                          "not in annotations/list.txt"))
    return source


# --- inaturalist -------------------------------------------------------------------------------

INATURALIST_LAYOUT = ("an iNaturalist observations CSV export (columns id, scientific_name, ...) "
                      "with its photos in photos/ beside it, named <id>.jpg or <id>_<n>.jpg")
_PHOTO_NAME = re.compile(r"^(?P<id>\d+)(?:_\d+)?$")


def inaturalist(src: Path) -> Source:
    if src.is_dir():
        exports = sorted(p for p in src.glob("*.csv") if p.is_file())
        if len(exports) != 1:
            found = ", ".join(p.name for p in exports) or "none"
            raise DatasetError(f"{src} must hold exactly one observations CSV (found {found}): "
                               f"expected {INATURALIST_LAYOUT}; or give the CSV file as SRC")
        export = exports[0]
    elif src.is_file():
        export = src
    else:
        raise DatasetError(f"no file or folder at {src}: expected {INATURALIST_LAYOUT}")
    root = export.parent
    photos_dir = root / "photos"
    if not photos_dir.is_dir():
        raise DatasetError(f"{root} has no photos/ folder: expected {INATURALIST_LAYOUT}")
    with export.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        missing = [c for c in INATURALIST_REQUIRED if c not in columns]
        if missing:
            raise DatasetError(f"{export} has no {' or '.join(missing)} column: expected "
                               f"{INATURALIST_LAYOUT}")
        rows = list(reader)
    source = Source("inaturalist", root)
    by_id: dict[str, list[Path]] = {}
    for path in sorted(p for p in photos_dir.rglob("*") if p.is_file()):
        if path.name.startswith("."):
            continue
        if not is_photo_name(path):
            source.skipped.append(_not_a_photo(path, root))
            continue
        match = _PHOTO_NAME.match(path.stem)
        if match is None:
            source.skipped.append(Skipped(str(path.relative_to(root)), NO_LABEL,
                                          "not named by an observation id (<id>.jpg)"))
            continue
        by_id.setdefault(match["id"], []).append(path)
    seen = set()
    for row in rows:
        observation = (row.get("id") or "").strip()
        name = " ".join((row.get("scientific_name") or "").split())
        seen.add(observation)
        paths = by_id.get(observation, [])
        if not name:
            if paths:
                source.skipped += [Skipped(f"observation {observation}", NO_LABEL,
                                           "no scientific_name (not identified)")] * len(paths)
            continue
        if not paths:
            source.skipped.append(Skipped(name, NO_PHOTO, f"no photos/{observation}.jpg"))
            continue
        not_a_cat = _outside_felidae(row)
        what = name + (f" ({row.get('taxon_family_name') or row.get('iconic_taxon_name')}, not "
                       "a cat)" if not_a_cat else "")
        source.photos += [SourcePhoto(path, name, not_a_cat=not_a_cat, what=what)
                          for path in paths]
    for observation, paths in sorted(by_id.items()):
        if observation not in seen:
            source.skipped += [Skipped(str(p.relative_to(root)), NO_LABEL,
                                       f"no observation {observation} in {export.name}")
                               for p in paths]
    return source


def _outside_felidae(row: dict) -> bool:
    """The export itself says the observation is no cat: its family (the "taxon_family_name"
    extra column) is not Felidae, or its iconic taxon is not Mammalia."""
    family = (row.get("taxon_family_name") or "").strip()
    iconic = (row.get("iconic_taxon_name") or "").strip()
    return bool(family and family != FAMILY) or bool(iconic and iconic != "Mammalia")


# --- names -> encyclopedia entries -------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    slug: str
    common_name: str
    scientific_name: str
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    label: str | None        # an entry's slug, or not-a-cat; None when it does not map
    reason: str = ""         # why not
    detail: str = ""


def plain(name: str) -> str:
    """A name compared loosely: case, '_', '-', apostrophes and spacing do not count
    ("Maine_Coon", "maine-coon" and "Maine Coon" are one name)."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", name.casefold()).split())


def binomial(name: str) -> str:
    return " ".join(name.casefold().split())


class EntryNames:
    """Encyclopedia entries by the names a dataset may use for them."""

    def __init__(self, entries: Iterable[Entry]):
        self.by_name: dict[str, set[str]] = {}
        self.by_scientific: dict[str, set[str]] = {}
        for entry in entries:
            for name in (entry.slug, entry.common_name):
                self.by_name.setdefault(plain(name), set()).add(entry.slug)
            for name in (entry.scientific_name, *entry.synonyms):
                if name.strip():
                    self.by_scientific.setdefault(binomial(name), set()).add(entry.slug)

    def for_photo(self, photo: SourcePhoto, format: str) -> Match:
        if photo.not_a_cat:
            return Match(NOT_A_CAT)
        if format == "inaturalist":
            return self.scientific(photo.name)
        return self.named(photo.name)

    def named(self, name: str) -> Match:
        """An entry by its slug or common name (the folder of an image folder, an Oxford breed)."""
        if plain(name) == plain(NOT_A_CAT):
            return Match(NOT_A_CAT)
        return self._one(self.by_name.get(plain(name), set()), name,
                         "no entry has this slug or name")

    def scientific(self, name: str) -> Match:
        """An entry by its scientific name or a synonym; a subspecies (a trinomial that is no
        synonym) maps to its species."""
        key = binomial(name)
        slugs = self.by_scientific.get(key)
        words = key.split()
        if slugs is None and len(words) > 2:
            slugs = self.by_scientific.get(" ".join(words[:2]))
        if slugs is None and len(words) == 1:
            return Match(None, NO_SUCH_ENTRY, "a genus or higher group, not a species")
        return self._one(slugs or set(), name, "no entry has this scientific name or synonym")

    @staticmethod
    def _one(slugs: set[str], name: str, missing: str) -> Match:
        if len(slugs) == 1:
            return Match(next(iter(slugs)))
        if not slugs:
            return Match(None, NO_SUCH_ENTRY, missing)
        shown = ", ".join(sorted(slugs)[:4]) + (", ..." if len(slugs) > 4 else "")
        return Match(None, AMBIGUOUS, f"{len(slugs)} entries share it ({shown})")
