"""Small public datasets in their exact layouts, made from real photo crops (testsupport/
datasets.py: scikit-image's photos, no download), for manage.py import_dataset and the recipe.

    oxford_pets(root, plan)      images/<Breed>_<n>.jpg, annotations/list.txt (with the real
                                 file's header), trainval.txt, test.txt
    inaturalist(root, rows)      observations-<n>.csv with the columns of iNaturalist's export,
                                 photos/<id>.jpg (photos/<id>_<k>.jpg for more than one)
    imagefolder(root, labels)    <label>/<n>.jpg
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from testsupport.datasets import crops, photo

# The 37 classes of the Oxford-IIIT Pet dataset, in the order of their CLASS-ID (1..37); a
# capitalised name is a cat breed (SPECIES 1), the others dogs (SPECIES 2).
OXFORD_CLASSES = (
    "Abyssinian", "american_bulldog", "american_pit_bull_terrier", "basset_hound", "beagle",
    "Bengal", "Birman", "Bombay", "boxer", "British_Shorthair", "chihuahua", "Egyptian_Mau",
    "english_cocker_spaniel", "english_setter", "german_shorthaired", "great_pyrenees",
    "havanese", "japanese_chin", "keeshond", "leonberger", "Maine_Coon", "miniature_pinscher",
    "newfoundland", "Persian", "pomeranian", "pug", "Ragdoll", "Russian_Blue", "saint_bernard",
    "samoyed", "scottish_terrier", "shiba_inu", "Siamese", "Sphynx",
    "staffordshire_bull_terrier", "wheaten_terrier", "yorkshire_terrier",
)
# list.txt's header as the dataset ships it (its BREED ID line has cats and dogs swapped).
OXFORD_HEADER = (
    "#Image CLASS-ID SPECIES BREED ID\n"
    "#ID: 1:37 Class ids\n"
    "#SPECIES: 1:Cat 2:Dog\n"
    "#BREED ID: 1-25:Cat 1:12:Dog\n"
    "#All images with 1st letter as captial are cat images\n"
    "#images with small first letter are dog images\n"
)

# breed -> (the photo its crops come from, trainval crops, test crops, seed). Two cat breeds
# ImageNet cannot name (chelsea as a Maine Coon, the stained slide's brown spots as a Bengal, as
# testsupport/datasets.py teaches them) and two dog breeds, which become not-a-cat.
OXFORD_PLAN = {
    "Maine_Coon": ("chelsea", 8, 3, 11),
    "Bengal": ("ihc", 8, 3, 12),
    "beagle": ("coffee", 6, 2, 13),
    "pug": ("rocket", 6, 2, 14),
}


def oxford_row(image: str) -> str:
    """list.txt's line for an image: "Image CLASS-ID SPECIES BREED-ID"."""
    breed = image.rsplit("_", 1)[0]
    cat = breed[0].isupper()
    same_species = [c for c in OXFORD_CLASSES if c[0].isupper() == cat]
    return (f"{image} {OXFORD_CLASSES.index(breed) + 1} {1 if cat else 2} "
            f"{same_species.index(breed) + 1}")


def oxford_pets(root: Path, plan: dict = OXFORD_PLAN) -> Path:
    """The Oxford-IIIT Pet layout as images.tar.gz and annotations.tar.gz unpack into ``root``.
    Returns ``root``; its test list is ``oxford_split(root, "test")``."""
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "annotations").mkdir(exist_ok=True)
    trainval, test = [], []
    for breed, (name, n_trainval, n_test, seed) in plan.items():
        for number, data in enumerate(crops(photo(name), n_trainval + n_test, seed), start=1):
            image = f"{breed}_{number}"
            (root / "images" / f"{image}.jpg").write_bytes(data)
            (trainval if number <= n_trainval else test).append(oxford_row(image))
    (root / "annotations" / "list.txt").write_text(
        OXFORD_HEADER + "".join(f"{row}\n" for row in sorted(trainval + test)))
    (root / "annotations" / "trainval.txt").write_text("".join(f"{r}\n" for r in trainval))
    (root / "annotations" / "test.txt").write_text("".join(f"{r}\n" for r in test))
    return root


def oxford_split(root: Path, name: str) -> list[Path]:
    """The photos of the trainval or test list."""
    lines = (Path(root) / "annotations" / f"{name}.txt").read_text().splitlines()
    return [Path(root) / "images" / f"{line.split()[0]}.jpg" for line in lines if line]


# The columns of an iNaturalist observations export (Explore > Download, the default columns),
# in its order; "taxon_family_name" is one of the export's optional taxon columns.
INATURALIST_COLUMNS = (
    "id", "uuid", "observed_on_string", "observed_on", "time_observed_at", "time_zone",
    "user_id", "user_login", "user_name", "created_at", "updated_at", "quality_grade",
    "license", "url", "image_url", "sound_url", "tag_list", "description",
    "num_identification_agreements", "num_identification_disagreements", "captive_cultivated",
    "oauth_application_id", "place_guess", "latitude", "longitude", "positional_accuracy",
    "private_place_guess", "private_latitude", "private_longitude",
    "public_positional_accuracy", "geoprivacy", "taxon_geoprivacy", "coordinates_obscured",
    "positioning_method", "positioning_device", "species_guess", "scientific_name",
    "common_name", "iconic_taxon_name", "taxon_id", "taxon_family_name",
)

# (scientific name, common name, iconic taxon, family, photo, observations, seed): a Eurasian
# lynx (the retina's crops), a puma under its old name Felis concolor (a synonym the
# encyclopedia holds; the Hubble deep field), and observations of other families, which become
# not-a-cat. Photos apart from the Oxford set's, so a model trained on both can tell them apart.
INATURALIST_PLAN = (
    ("Lynx lynx", "Eurasian Lynx", "Mammalia", "Felidae", "retina", 10, 20),
    ("Felis concolor", "Cougar", "Mammalia", "Felidae", "hubble_deep_field", 10, 23),
    ("Canis lupus", "Gray Wolf", "Mammalia", "Canidae", "astronaut", 5, 23),
    ("Corvus corax", "Common Raven", "Aves", "Corvidae", "coffee", 5, 24),
)


def inaturalist(root: Path, plan=INATURALIST_PLAN, *, first_id: int = 100001) -> Path:
    """An observations export: ``root``/observations-12345.csv and ``root``/photos/<id>.jpg.
    Returns the CSV's path."""
    root = Path(root)
    (root / "photos").mkdir(parents=True, exist_ok=True)
    rows = []
    observation = first_id
    for scientific, common, iconic, family, name, count, seed in plan:
        for data in crops(photo(name), count, seed):
            (root / "photos" / f"{observation}.jpg").write_bytes(data)
            rows.append(inaturalist_row(observation, scientific, common, iconic, family))
            observation += 1
    path = root / "observations-12345.csv"
    path.write_text(inaturalist_csv(rows))
    return path


def inaturalist_row(observation: int, scientific: str, common: str = "", iconic: str = "",
                    family: str = "") -> dict:
    return {
        "id": str(observation), "uuid": f"00000000-0000-4000-8000-{observation:012d}",
        "observed_on_string": "2026-05-01 10:00", "observed_on": "2026-05-01",
        "time_zone": "UTC", "user_id": "1", "user_login": "observer", "quality_grade":
        "research", "license": "CC-BY-NC",
        "url": f"https://www.inaturalist.org/observations/{observation}",
        "image_url": f"https://inaturalist-open-data.s3.amazonaws.com/photos/{observation}/"
                     "medium.jpg",
        "captive_cultivated": "false", "species_guess": common, "scientific_name": scientific,
        "common_name": common, "iconic_taxon_name": iconic, "taxon_id": "1",
        "taxon_family_name": family,
    }


def inaturalist_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, INATURALIST_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def imagefolder(root: Path, labels: dict[str, tuple[str, int, int]]) -> Path:
    """``root``/<label>/<n>.jpg: label -> (photo, crops, seed)."""
    root = Path(root)
    for label, (name, count, seed) in labels.items():
        (root / label).mkdir(parents=True, exist_ok=True)
        for number, data in enumerate(crops(photo(name), count, seed), start=1):
            (root / label / f"{number}.jpg").write_bytes(data)
    return root
