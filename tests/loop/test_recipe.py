"""The recipes "Name more breeds with the Oxford-IIIT Pet dataset" and "Name wild cats from an
iNaturalist export" (issue 23), run as written: every command of their fenced ``sh`` blocks, read
from the documentation (the one section of that title, in README.md or docs/data-science.md,
that holds the blocks; a short README section of the same title links to the page's), so the
text and this test cannot drift apart. The ``env`` block is applied to the settings of the site
under test, which then scores live identifications with the challenger in the shadow.

The data: small sets in the exact layouts (testsupport/public_datasets.py, crops of real
photos), the Oxford set packed as its two archives so the recipe's own ``tar`` commands unpack
it. The recipe's downloads are the user's; everything after them runs here, on the real
components (the database, a local-folder model store, PyTorch on the CPU, the site through
Django's test client).

Done when (issue 23): a model trained on each import names the imported labels on held-out
crops: the Oxford test list and the iNaturalist test split, and fresh crops of the same photos.
SQLite only, as the data scientist's loop (tests/loop/test_data_science_loop.py): it trains two
networks and the database does nothing here the other runs do not cover.
"""
from __future__ import annotations

import json
import re
import shlex
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from prometheus_client import REGISTRY

from catmodel.evaluation import read_dataset
from catmodel.inference import load_classifier
from catmodel.inference.package import read_manifest
from classifier import runtime, shadow
from testsupport import public_datasets
from testsupport.datasets import crops, photo
from testsupport.web_fixtures import upload

pytestmark = [
    pytest.mark.slow,
    # The challenger's thread reads the encyclopedia through its own connection, as in
    # production: the rows must be committed (the seeded species restored afterwards).
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "sqlite",
                       reason="the recipes train on SQLite only (see the module docstring)"),
]

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = (ROOT / "README.md", ROOT / "docs" / "data-science.md")
PETS = "Name more breeds with the Oxford-IIIT Pet dataset"
WILD = "Name wild cats from an iNaturalist export"
# What the recipe may run besides manage.py: unpacking what the user downloaded.
SHELL_PROGRAMS = {"mkdir", "tar"}
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def sections(title: str) -> dict[Path, str]:
    """The text under "## title" in each document that has such a section."""
    found = {}
    for document in DOCUMENTS:
        text = document.read_text() if document.exists() else ""
        match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", text,
                          re.MULTILINE | re.DOTALL)
        if match:
            found[document] = match.group(1)
    return found


def section(title: str) -> str:
    """The section "## title" that holds the recipe's fenced blocks. Exactly one document may
    hold them (README.md or docs/data-science.md): a second copy of the commands could drift
    from the one this test runs."""
    found = sections(title)
    assert found, f"no section '## {title}' in {' or '.join(map(str, DOCUMENTS))}"
    with_blocks = [document for document, text in found.items() if FENCE.search(text)]
    assert len(with_blocks) == 1, (f"the commands of '## {title}' must be in exactly one of "
                                   f"{', '.join(map(str, found))}; they are in {with_blocks}")
    return found[with_blocks[0]]


def anchor(title: str) -> str:
    """The heading's link target as GitHub makes it."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def blocks(text: str) -> list[tuple[str, list[list[str]] | dict[str, str]]]:
    """The fenced blocks in order: ("sh", [argv, ...]) and ("env", {name: value})."""
    found = []
    for language, body in FENCE.findall(text):
        lines = body.replace("\\\n", " ").splitlines()
        if language == "sh":
            found.append(("sh", [argv for argv in (shlex.split(line, comments=True)
                                                   for line in lines) if argv]))
        elif language == "env":
            found.append(("env", dict(line.split("=", 1) for line in lines if line.strip())))
    return found


def test_the_recipe_blocks_are_read_from_the_documentation():
    pets = blocks(section(PETS))
    commands = [argv for kind, body in pets if kind == "sh" for argv in body]
    assert ["manage.py", "import_dataset", "--format", "oxford-pets"] == commands[4][:4]
    assert {argv[1] for argv in commands if argv[0] == "manage.py"} >= {
        "import_dataset", "train_model", "evaluate_model", "compare_models", "publish_model"}
    assert [kind for kind, _ in pets].count("env") == 1
    wild = [argv for kind, body in blocks(section(WILD)) if kind == "sh" for argv in body]
    assert wild[0][:4] == ["manage.py", "import_dataset", "--format", "inaturalist"]


def test_a_short_readme_section_links_to_the_recipe_it_names():
    """Where README.md's section of a recipe's title holds no commands, it leads to the one
    that does."""
    for title in (PETS, WILD):
        readme = sections(title).get(ROOT / "README.md")
        if readme is not None and not FENCE.search(readme):
            assert f"docs/data-science.md#{anchor(title)}" in readme, (title, readme)


class Recipe:
    """Runs a section's blocks in a working folder; the env block goes to ``on_env``."""

    def __init__(self, cwd: Path, on_env):
        self.cwd, self.on_env, self.outputs = cwd, on_env, {}

    def run(self, title: str) -> None:
        for kind, body in blocks(section(title)):
            if kind == "env":
                self.on_env(body)
                continue
            for argv in body:
                self.outputs[" ".join(argv)] = self.command(argv)

    def command(self, argv: list[str]) -> str:
        if argv[0] == "manage.py":
            out = StringIO()
            call_command(argv[1], *argv[2:], stdout=out, stderr=out)
            return out.getvalue()
        assert argv[0] in SHELL_PROGRAMS, f"the recipe runs {argv[0]}: only manage.py and " \
                                          f"{', '.join(sorted(SHELL_PROGRAMS))} are run here"
        done = subprocess.run(argv, cwd=self.cwd, capture_output=True, text=True, check=False)
        assert done.returncode == 0, (argv, done.stderr)
        return done.stdout

    def output(self, *words: str) -> str:
        """The output of the one command whose line starts with ``words``."""
        found = [out for line, out in self.outputs.items()
                 if line.startswith(" ".join(words))]
        assert len(found) == 1, (words, list(self.outputs))
        return found[0]


def shadow_count(metric: str, **labels) -> float:
    return REGISTRY.get_sample_value(metric, labels) or 0.0


def aliases() -> dict:
    out = StringIO()
    call_command("model_aliases", json=True, stdout=out)
    return json.loads(out.getvalue())["aliases"]


def names(package: Path, held_out: list[tuple[bytes, str]]) -> None:
    """The trained model's first answer is each held-out photo's label."""
    classifier = load_classifier(package, threads=1)
    for data, label in held_out:
        top = classifier.classify(data).top[0]
        assert top.label == f"species:{label}", (package, label, top)


def test_the_recipes_run_as_written_and_teach_the_imported_labels(
        client, settings, tmp_path, monkeypatch, model_package_dir):
    call_command("load_species", verbosity=0)
    base = read_manifest(model_package_dir)
    settings.MODEL_NAME = base.name
    settings.MODEL_STORE = str(tmp_path / "store")
    settings.MODEL_DIR = tmp_path / "model"
    settings.IDENTIFY_RATE_LIMIT = "off"
    # Production runs the ImageNet model as champion (promoted before there was a dataset).
    call_command("publish_model", str(model_package_dir), alias="champion", force=True,
                 stdout=StringIO())
    call_command("fetch_model", package_version="champion", stdout=StringIO())
    assert runtime.load(force=True) is not None

    # What the user downloads: the two Oxford archives and an iNaturalist export with photos.
    work = tmp_path / "work"
    work.mkdir()
    oxford = public_datasets.oxford_pets(tmp_path / "download" / "oxford")
    for archive, folder in (("images.tar.gz", "images"), ("annotations.tar.gz", "annotations")):
        subprocess.run(["tar", "-czf", str(work / archive), "-C", str(oxford), folder],
                       check=True)
    public_datasets.inaturalist(work / "inat")
    monkeypatch.chdir(work)

    shadowed = []

    def watch_the_shadow(env: dict[str, str]) -> None:
        """The env block, as the site's settings; live identifications then reach the
        challenger in the shadow, and its metrics count them."""
        for name, value in env.items():
            assert hasattr(django_settings, name), f"the recipe sets an unknown setting {name}"
            setattr(settings, name, type(getattr(django_settings, name) or Path())(value))
        settings.MODEL_SHADOW_RATE = 1.0     # every photo, so the counts are exact
        monkeypatch.setattr(shadow, "_shadow", None)
        version = read_manifest(Path(settings.MODEL_CHALLENGER_DIR) / "current").version
        before = shadow_count("catsite_shadow_predictions_total", challenger_version=version)
        disagreed = shadow_count("catsite_shadow_agreement_total", challenger_version=version,
                                 agreed="false")
        fresh = crops(photo("chelsea"), 2, 901) + crops(photo("coffee"), 1, 902)
        for data in fresh:
            response = client.post(reverse("api:classify"), {"image": upload(data)})
            assert response.status_code == 200, response.content
        shadow.get().join()
        assert shadow_count("catsite_shadow_predictions_total",
                            challenger_version=version) == before + len(fresh)
        # The champion says "a domestic cat" of the tabby's crops; the challenger names the
        # Maine Coon.
        assert shadow_count("catsite_shadow_agreement_total", challenger_version=version,
                            agreed="false") >= disagreed + 2
        shadowed.append(version)

    recipe = Recipe(work, watch_the_shadow)

    # Name more breeds with the Oxford-IIIT Pet dataset.
    recipe.run(PETS)
    pets = read_dataset(work / "data" / "pets")
    assert set(pets.labels) == {"maine-coon", "bengal", "not-a-cat"}
    assert "Wrote 38 labelled photo(s), 3 label(s)" in recipe.output(
        "manage.py import_dataset --format oxford-pets")
    held_out = [(path.read_bytes(), slug)
                for path in public_datasets.oxford_split(oxford, "test")
                for breed, slug in (("Maine_Coon", "maine-coon"), ("Bengal", "bengal"))
                if path.name.startswith(f"{breed}_")]
    held_out += [(data, "maine-coon") for data in crops(photo("chelsea"), 2, 999)]
    held_out += [(data, "bengal") for data in crops(photo("ihc"), 2, 998)]
    names(work / "pkg" / "pets", held_out)
    evaluation = json.loads((work / "pets-evaluation.json").read_text())
    assert evaluation["per_label"]["maine-coon"]["recall"] == 1.0, evaluation
    assert (work / "pets-confusion.png").read_bytes().startswith(b"\x89PNG")
    # The comparison: the ImageNet champion (A) cannot name a Maine Coon or a Bengal; B can.
    comparison = json.loads((work / "pets-comparison.json").read_text())
    assert [comparison[side]["model"]["version"] for side in "ab"] == [base.version, "2.0.0"]
    assert comparison["overall"]["b_only"] >= 6 and comparison["overall"]["a_only"] == 0
    assert comparison["per_label"]["maine-coon"]["b"]["correct"] == 3
    assert (work / "pets-comparison.png").read_bytes().startswith(b"\x89PNG")
    assert shadowed == ["2.0.0"]
    assert aliases()["champion"]["version"] == "2.0.0"

    # Name wild cats from an iNaturalist export (merged with the Oxford dataset).
    recipe.run(WILD)
    wild = read_dataset(work / "data" / "wild")
    assert set(wild.labels) == {"maine-coon", "bengal", "eurasian-lynx", "puma", "not-a-cat"}
    wild_held_out = [(wild.read(e), e.label) for e in wild.split("test")
                     if e.label in ("eurasian-lynx", "puma")]
    assert {label for _, label in wild_held_out} == {"eurasian-lynx", "puma"}
    wild_held_out += [(data, "eurasian-lynx") for data in crops(photo("retina"), 2, 997)]
    wild_held_out += [(data, "puma") for data in crops(photo("hubble_deep_field"), 2, 996)]
    # The wild model names the wild cats, and still the breeds it learnt from the Oxford set.
    names(work / "pkg" / "wild", wild_held_out + held_out)
    comparison = json.loads((work / "wild-comparison.json").read_text())
    assert [comparison[side]["model"]["version"] for side in "ab"] == ["2.0.0", "3.0.0"]
    assert comparison["per_label"]["puma"]["a"]["correct"] == 0
    assert comparison["per_label"]["puma"]["b"]["correct"] >= 1
    # The gate printed the comparison it decided on.
    assert "Comparison on " in recipe.output("manage.py publish_model --promote 3.0.0")
    assert aliases()["champion"]["version"] == "3.0.0"
