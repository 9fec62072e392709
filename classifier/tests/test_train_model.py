"""manage.py train_model and evaluate_model on a small dataset of real photos (classifier/tests/
datasets.py): crops of chelsea taught as a Maine Coon, crops of a stained tissue slide as a
Bengal, coffee, rocket and astronaut as not-a-cat. CPU only: one training of 6 epochs on 24
photos (plus one more for determinism)."""
from __future__ import annotations

import hashlib
import json
import shutil
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from catmodel.evaluation import OTHER_CAT, read_dataset
from catmodel.inference import load_classifier
from catmodel.inference.package import verify
from catmodel.modelbuild.labels import imagenet_labels
from classifier import answer
from classifier.evaluator import evaluate_package
from testsupport import datasets
from testsupport.comparison import assert_consistent
from testsupport.images import jpeg

EPOCHS = 6
SEED = 4  # see test_evaluate_model_compares...: 3 not-a-cat test photos make recall seed-sensitive
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def teaching_dataset(tmp_path_factory):
    return datasets.write_dataset(tmp_path_factory.mktemp("data") / "dataset",
                                  datasets.teaching_examples())


@pytest.fixture(scope="module")
def trained(tmp_path_factory, teaching_dataset, model_package_dir, django_db_setup,
            django_db_blocker):
    """The package train_model writes (the encyclopedia checks the slugs), and its output."""
    out = tmp_path_factory.mktemp("trained") / "package"
    stdout = StringIO()
    with django_db_blocker.unblock():
        # The encyclopedia a deployment has (a transactional test earlier in the session may
        # have flushed the tables): train_model checks every slug against it.
        call_command("load_species", verbosity=0)
        call_command("train_model", data=teaching_dataset, out=out, epochs=EPOCHS, seed=SEED,
                     threads=1, package_version="2.0.0", stdout=stdout)
    return out, stdout.getvalue()


@pytest.fixture(scope="module")
def classifier(trained):
    return load_classifier(trained[0], threads=1)


def test_progress_is_shown_per_epoch(trained):
    output = trained[1]
    for epoch in range(1, EPOCHS + 1):
        assert f"epoch {epoch}/{EPOCHS}: loss " in output
    assert "validation loss" in output
    assert "Trained efficientnet-lite0-imagenet 2.0.0 in " in output


def test_the_model_names_the_taught_labels_on_crops_it_has_not_seen(classifier, teaching_dataset):
    dataset = read_dataset(teaching_dataset)
    held_out = [e for e in dataset.split("test") if e.label != "not-a-cat"]
    assert {e.label for e in held_out} == {"maine-coon", "bengal"}
    # Fresh crops too, from another seed than any crop of the dataset.
    fresh = [(data, "maine-coon") for data in datasets.crops(datasets.photo("chelsea"), 3, 999)]
    for data, label in [(dataset.read(e), e.label) for e in held_out] + fresh:
        top = classifier.classify(data).top[0]
        assert top.label == f"species:{label}", (label, top)
        assert top.probability > 0.5


@pytest.mark.django_db
def test_a_photo_it_never_saw_that_is_not_a_cat_is_still_not_a_cat(classifier):
    photo = jpeg(datasets.photo(datasets.HELD_OUT_NOT_A_CAT))
    result = answer.summarise(classifier.classify(photo), {})
    assert not result.is_cat
    # "What it looks like instead" still comes from ImageNet's classes.
    assert result.looks_like.label in imagenet_labels()


def test_labels_are_imagenet_then_one_per_taught_species(classifier):
    assert list(classifier.labels) == [*imagenet_labels(), "species:bengal", "species:maine-coon"]


def test_manifest_records_lineage_and_the_test_split_evaluation(trained, teaching_dataset,
                                                                model_package_dir, db):
    manifest = verify(trained[0])
    raw = manifest.raw
    dataset = read_dataset(teaching_dataset)
    assert raw["lineage"]["dataset"]["sha256"] == dataset.sha256
    assert raw["lineage"]["dataset"]["counts"]["labels"]["maine-coon"]["train"] == 8
    base = verify(model_package_dir)
    assert raw["lineage"]["base"] == {
        "name": base.name, "version": base.version, "path": str(model_package_dir),
        "model_sha256": base.files["model.onnx"].sha256}
    training = raw["lineage"]["training"]
    assert (training["seed"], training["epochs"], training["fine_tune_blocks"]) == (SEED, EPOCHS, 0)
    assert [entry["epoch"] for entry in training["history"]] == list(range(1, EPOCHS + 1))
    assert training["device"] == "cpu"  # --device auto, and this machine has no GPU
    assert "mlflow" not in raw["lineage"]  # no MLFLOW_TRACKING_URI: no run
    assert raw["checks"]["parity"]["max_abs_diff"] < 1e-3
    assert raw["checks"]["sanity"][0]["passed"]
    evaluation = raw["evaluation"]
    assert evaluation["dataset"] == {"sha256": dataset.sha256, "split": "test"}
    assert evaluation["count"] == len(dataset.split("test"))
    # The recorded numbers are what evaluating the package again gives; the reference profile
    # of drift beside them, at the top (what the site reads), not twice.
    again = json.loads(json.dumps(evaluate_package(trained[0], teaching_dataset).as_dict()))
    reference = again.pop("reference_profile")
    assert evaluation == again
    assert raw["reference_profile"] == reference


def test_manifest_records_the_reference_profile_of_the_sites_answers(trained, teaching_dataset,
                                                                      db):
    from catmodel.evaluation.drift import CONFIDENCE_EDGES, reference_of

    reference = reference_of(verify(trained[0]).raw)
    test_split = read_dataset(teaching_dataset).split("test")
    assert (reference.split, reference.count) == ("test", len(test_split))
    assert reference.confidence_bins == list(CONFIDENCE_EDGES)
    assert sum(reference.confidence_shares) == pytest.approx(1.0)
    # The trained model names every held-out crop (its accuracy on them is 1): the site answers
    # with the taught breeds and not a cat, in the dataset's proportions.
    labels = [example.label for example in test_split]
    assert reference.answer_shares == pytest.approx({
        ("not_a_cat" if label == "not-a-cat" else label): labels.count(label) / len(labels)
        for label in set(labels)})


def test_the_same_seed_gives_the_same_model_on_any_number_of_loading_workers(
        trained, teaching_dataset, tmp_path):
    from catmodel.cpus import available_cpus
    from catmodel.modelbuild.training.train import TrainingConfig
    from catmodel.modelbuild.training.trained_package import train_package

    # The fixture loaded photos with one worker process per CPU; this run loads them in the
    # training process itself: each photo's crops come from a generator of its own.
    assert available_cpus() > 1, "the fixture must have used worker processes"
    assert f"loading photos with {available_cpus()} worker process(es)" in trained[1]
    again = train_package(teaching_dataset, tmp_path / "again", version="2.0.0",
                          config=TrainingConfig(epochs=EPOCHS, seed=SEED, threads=1, workers=0))
    first = (trained[0] / "model.onnx").read_bytes()
    second = (again.path / "model.onnx").read_bytes()
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()


def test_evaluate_model_compares_the_base_and_the_trained_model_on_the_same_data(
        trained, teaching_dataset, model_package_dir, tmp_path, db):
    numbers = {}
    # A copy of the shared build cache's package: evaluate_model records its profile in it.
    base_copy = shutil.copytree(model_package_dir, tmp_path / "base-package")
    for name, package in (("base", base_copy), ("trained", trained[0])):
        stdout = StringIO()
        call_command("evaluate_model", str(package), data=teaching_dataset,
                     json=tmp_path / f"{name}.json", plot=tmp_path / f"{name}.png", stdout=stdout)
        assert "top-1" in stdout.getvalue() and "not-a-cat: precision" in stdout.getvalue()
        numbers[name] = json.loads((tmp_path / f"{name}.json").read_text())
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    base, trained_numbers = numbers["base"], numbers["trained"]
    assert trained_numbers["top1_accuracy"] > base["top1_accuracy"]
    # ImageNet cannot name a Maine Coon: its tabby answers are another cat, scored wrong.
    confusion = base["confusion"]
    row = confusion["matrix"][confusion["labels"].index("maine-coon")]
    assert row[confusion["answers"].index(OTHER_CAT)] == sum(row) > 0
    assert base["per_label"]["maine-coon"]["recall"] == 0.0
    assert trained_numbers["per_label"]["maine-coon"]["recall"] == 1.0
    # Both models keep the not-a-cat photos out of the cats.
    assert trained_numbers["not_a_cat"]["recall"] == base["not_a_cat"]["recall"] == 1.0
    for key in ("top5_accuracy", "expected_calibration_error"):
        assert 0.0 <= trained_numbers[key] <= 1.0
    # ImageNet answers "domestic cat" (a group) on the Maine Coon crops; the trained model names
    # the breed. The base package's profile is recorded in its manifest, as the --json has it.
    assert "maine-coon" not in base["reference_profile"]["answer_shares"]
    assert "maine-coon" in trained_numbers["reference_profile"]["answer_shares"]
    assert verify(base_copy).raw["reference_profile"] == base["reference_profile"]


def test_compare_models_says_what_the_training_taught(trained, teaching_dataset,
                                                     model_package_dir, tmp_path, db):
    # The base (A) and the trained model (B) on the same test photos: B alone names the Maine
    # Coons and the Bengals, both keep the photos that are not cats out of the cats.
    stdout = StringIO()
    call_command("compare_models", str(model_package_dir), str(trained[0]), "--data",
                 str(teaching_dataset), "--json", str(tmp_path / "c.json"), "--plot",
                 str(tmp_path / "c.png"), stdout=stdout)
    comparison = json.loads((tmp_path / "c.json").read_text())
    assert_consistent(comparison)
    per_label = comparison["per_label"]
    for label in ("maine-coon", "bengal"):
        assert per_label[label]["a"]["correct"] == 0, per_label[label]
        assert per_label[label]["b_only"] == per_label[label]["support"] == 3
    assert per_label["not-a-cat"]["both"] == per_label["not-a-cat"]["support"] == 3
    overall = comparison["overall"]
    assert (overall["a_only"], overall["b_only"]) == (0, 6)
    assert overall["mcnemar_p_value"] == pytest.approx(2 / 2 ** 6)  # beyond chance, just
    assert comparison["b"]["model"] == {"name": "efficientnet-lite0-imagenet", "version": "2.0.0"}
    assert "a difference beyond chance on these photos" in stdout.getvalue()
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- one-line errors, before any training -------------------------------------------------------

def train(data, tmp_path):
    call_command("train_model", data=data, out=tmp_path / "out", epochs=1, stdout=StringIO())


def few_examples(tmp_path, plan=None, taught=None, **options):
    examples = datasets.teaching_examples(plan or {"train": 5, "validation": 0, "test": 1},
                                          taught=taught)
    return datasets.write_dataset(tmp_path / "data", examples, **options)


@pytest.mark.django_db
def test_an_empty_dataset_is_one_line(tmp_path):
    with pytest.raises(CommandError, match=r"holds no labelled photos: accept some feedback"):
        train(datasets.write_dataset(tmp_path / "data", []), tmp_path)
    assert not (tmp_path / "out").exists()


@pytest.mark.django_db
def test_a_label_with_too_few_photos_is_named_with_its_count(tmp_path):
    examples = [e for e in datasets.teaching_examples({"train": 5, "validation": 0, "test": 1})
                if not (e[1] == "bengal" and e[2] == "train")][:-1]
    examples += datasets.teaching_examples({"train": 3, "validation": 0, "test": 0},
                                           taught={"bengal": ["ihc"]})
    data = datasets.write_dataset(tmp_path / "data", examples)
    with pytest.raises(CommandError, match=r"label 'bengal' has 3 training photo\(s\); at least "
                                           r"5 are needed"):
        train(data, tmp_path)


@pytest.mark.django_db
def test_another_format_version_is_refused(tmp_path):
    with pytest.raises(CommandError, match=r"written by dataset format version 2; this catsite "
                                           r"reads version 1"):
        train(few_examples(tmp_path, format_version=2), tmp_path)


@pytest.mark.django_db
def test_a_slug_the_encyclopedia_does_not_have_is_a_build_error(tmp_path):
    data = few_examples(tmp_path, taught={"maine-coon": ["chelsea"], "snow-tiger": ["ihc"]})
    with pytest.raises(CommandError, match=r"labels photos with snow-tiger, which is not in the "
                                           r"encyclopedia"):
        train(data, tmp_path)


@pytest.mark.django_db
def test_a_changed_photo_is_refused(tmp_path):
    data = few_examples(tmp_path)
    photo = min((data / "images").iterdir())
    photo.write_bytes(photo.read_bytes() + b"\0")
    with pytest.raises(CommandError, match=r"changed since the export"):
        train(data, tmp_path)


@pytest.mark.django_db
def test_evaluate_model_without_a_package_is_one_line(tmp_path):
    data = few_examples(tmp_path)
    with pytest.raises(CommandError, match=r"no model package at .*: give a package directory"):
        call_command("evaluate_model", str(tmp_path / "nothing"), data=data)


@pytest.mark.django_db
def test_evaluate_model_on_an_empty_split_is_one_line(tmp_path, model_package_dir):
    data = few_examples(tmp_path)
    with pytest.raises(CommandError, match=r"the validation split of .* holds no photo"):
        call_command("evaluate_model", str(model_package_dir), data=data, split="validation")


def test_dataset_copy_keeps_its_hash(teaching_dataset, tmp_path):
    # The dataset's identity is its content: a copy elsewhere is the same dataset.
    copy = shutil.copytree(teaching_dataset, tmp_path / "copy")
    assert read_dataset(copy).sha256 == read_dataset(teaching_dataset).sha256
    assert np.isclose(sum(read_dataset(copy).counts["splits"].values()), 39)


@pytest.mark.django_db
def test_a_base_package_not_built_from_these_weights_is_refused(tmp_path):
    from testsupport.tiny_package import write_package

    base = write_package(tmp_path / "tiny")
    with pytest.raises(CommandError, match=r"the base package .*tiny was not built from the "
                                           r"pretrained weights installed here"):
        call_command("train_model", data=few_examples(tmp_path), out=tmp_path / "out",
                     base=base, epochs=1, stdout=StringIO())
    assert not (tmp_path / "out").exists()


def test_an_installed_model_directory_is_evaluated_like_its_package(trained, teaching_dataset,
                                                                    tmp_path, db):
    # MODEL_DIR/current, as fetch_model installs it: what production runs, on the same photos.
    model_dir = tmp_path / "model"
    (model_dir / "versions").mkdir(parents=True)
    (model_dir / "versions" / "2.0.0").symlink_to(trained[0], target_is_directory=True)
    (model_dir / "current").symlink_to("versions/2.0.0")
    installed = evaluate_package(model_dir / "current", teaching_dataset)
    assert installed == evaluate_package(trained[0], teaching_dataset)
    assert installed.model == {"name": "efficientnet-lite0-imagenet", "version": "2.0.0"}


@pytest.mark.django_db
def test_cuda_without_a_gpu_is_one_line(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: --device cuda is not an error here")
    with pytest.raises(CommandError, match=r"^--device cuda, but PyTorch sees no GPU here .*: "
                                           r"train with --device cpu \(or auto\)"):
        call_command("train_model", data=few_examples(tmp_path), out=tmp_path / "out",
                     device="cuda", epochs=1, stdout=StringIO())
    assert not (tmp_path / "out").exists()
