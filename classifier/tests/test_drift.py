"""Drift against a reference, end to end on a real (tiny) model: evaluate_model records the
site's answers on the test split in the package's manifest (a signed package is left alone),
the site records live answers through POST /api/classify/, and drift_by_version compares them
per version. Runs on SQLite and on PostgreSQL (DATABASE_URL).

The tiny colour model (testsupport/tiny_package.py) with its label "red" owned by the lion: a
red photo is a lion, a blue one is not a cat, each with a probability worked out from the
network's fixed weights.
"""
from __future__ import annotations

import datetime
import json
import shutil
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone
from prometheus_client import CollectorRegistry

from catmodel.evaluation import drift as profiles
from catmodel.inference import load_classifier, softmax
from catmodel.inference.package import MANIFEST, read_manifest, verify
from catmodel.inference.signatures import sign_package
from classifier import drift, records, runtime
from classifier.answer import NOT_A_CAT_KEY
from core import metrics_server
from species.models import ModelLabel, Species
from testsupport import datasets, signing, tiny_package
from testsupport.tiny_package import BLUE, RED
from testsupport.web_fixtures import upload

pytestmark = pytest.mark.django_db
API = "/api/classify/"
photo = tiny_package.colour_photo


# The test split: two red photos (lions), one blue (not a cat); train photos are never read.
TEST_SPLIT = [(photo(RED), "lion"), (photo(RED, 3), "lion"), (photo(BLUE), "not-a-cat")]


@pytest.fixture
def red_is_a_lion(db):
    return ModelLabel.objects.create(label="red", species=Species.objects.get(slug="lion"))


@pytest.fixture
def dataset(tmp_path):
    examples = [(data, label, "test") for data, label in TEST_SPLIT]
    examples.append((photo(RED, 6), "lion", "train"))
    return datasets.write_dataset(tmp_path / "dataset", examples)


@pytest.fixture
def package(tmp_path):
    return tiny_package.write_package(tmp_path / "package")


def top_probability(package_dir, data: bytes, label: str) -> float:
    """The probability of one label for a photo, straight from the network (no site code)."""
    classifier = load_classifier(package_dir)
    batch = classifier.preprocess(classifier.decode(data))
    return float(softmax(classifier.predict(batch))[0][list(classifier.labels).index(label)])


def evaluate(package_dir, dataset, **options) -> tuple[str, str]:
    stdout, stderr = StringIO(), StringIO()
    call_command("evaluate_model", str(package_dir), data=dataset, stdout=stdout, stderr=stderr,
                 **options)
    return stdout.getvalue(), stderr.getvalue()


def test_evaluate_model_records_the_sites_answers_on_the_split(package, dataset, red_is_a_lion,
                                                              tmp_path):
    output, _ = evaluate(package, dataset, json=tmp_path / "evaluation.json")
    assert "Recorded the reference profile (test split, 3 photo(s)) as reference_profile" in output
    manifest = verify(package)  # still a valid package: the manifest lists no hash of itself
    reference = profiles.reference_of(manifest.raw)
    assert reference.count == 3 and reference.split == "test" and reference.cat_threshold == 0.5
    assert reference.answer_shares == pytest.approx({"lion": 2 / 3, NOT_A_CAT_KEY: 1 / 3})
    # The top answer's probability: the lion's (its one label) on red, the label "blue" on blue.
    expected = [top_probability(package, data, "red" if label == "lion" else "blue")
                for data, label in TEST_SPLIT]
    assert reference.confidence_shares == pytest.approx(profiles.confidence_shares(expected))
    assert max(reference.confidence_shares) < 1  # the photos are not all in one bin
    assert reference.confidence_bins == list(profiles.CONFIDENCE_EDGES)
    # The same profile in --json, beside the numbers.
    written = json.loads((tmp_path / "evaluation.json").read_text())
    assert profiles.Profile.from_dict(written["reference_profile"]) == reference


def test_without_recording_or_signed_the_package_is_left_alone(package, dataset, red_is_a_lion,
                                                              tmp_path):
    before = (package / MANIFEST).read_bytes()
    evaluate(package, dataset, no_record=True)
    assert (package / MANIFEST).read_bytes() == before
    private, _public = signing.key_pair(tmp_path, "publisher")
    sign_package(package, private)
    output, errors = evaluate(package, dataset, json=tmp_path / "evaluation.json")
    assert "Not recording the reference profile: " in errors and "is signed" in errors
    assert "before publish_model --signing-key" in errors
    assert (package / MANIFEST).read_bytes() == before
    assert json.loads((tmp_path / "evaluation.json").read_text())["reference_profile"]["count"] == 3


@pytest.fixture
def served(settings, tmp_path, package, dataset, red_is_a_lion):
    """The package, with its reference recorded by evaluate_model, installed and served."""
    evaluate(package, dataset)
    model_dir = tmp_path / "model"
    (model_dir / "versions").mkdir(parents=True)
    shutil.copytree(package, model_dir / "versions" / "0.0.1")
    (model_dir / "current").symlink_to("versions/0.0.1")
    settings.MODEL_DIR = model_dir
    settings.MODEL_CHALLENGER_DIR = None
    assert runtime.load(force=True) is not None, runtime.status()
    yield model_dir
    runtime.load(force=True)


def identify(client, data: bytes) -> dict:
    response = client.post(API, {"image": upload(data)})
    assert response.status_code == 200, response.content
    return response.json()


def test_live_answers_like_the_split_do_not_drift(client, served):
    for data, _label in TEST_SPLIT:
        identify(client, data)
    result = drift.drift_by_version(min_identifications=1)
    assert result == {("tiny-colours", "0.0.1"): {
        "confidence": 0.0, "answers": 0.0, "identifications": 3, "window_days": 7,
        "reference": {"split": "test", "count": 3}}}


def test_more_not_a_cat_answers_drift_by_hand(client, served):
    for data in [*(d for d, _ in TEST_SPLIT), photo(BLUE, 2), photo(BLUE, 4), photo(BLUE, 6)]:
        identify(client, data)
    entry = drift.drift_by_version(min_identifications=1)[("tiny-colours", "0.0.1")]
    # Reference: lion 2/3, not a cat 1/3; live: lion 2/6, not a cat 4/6.
    by_hand = (1 / 3 - 2 / 3) * np.log((1 / 3) / (2 / 3)) + (2 / 3 - 1 / 3) * np.log(2)
    assert entry["answers"] == pytest.approx(by_hand) and by_hand > profiles.PSI_MAJOR
    # Confidence by hand: the live probabilities, straight from the network, in the bins.
    reference = profiles.reference_of(read_manifest(served / "current").raw)
    live = [top_probability(served / "current", photo(RED), "red"),
            top_probability(served / "current", photo(RED, 3), "red"),
            *(top_probability(served / "current", photo(BLUE, s), "blue") for s in (0, 2, 4, 6))]
    assert entry["confidence"] == pytest.approx(profiles.psi(
        reference.confidence_shares, profiles.confidence_shares(live)))
    assert entry["identifications"] == 6


def test_the_window_other_versions_and_too_few_answers(client, served, settings):
    identify(client, photo(RED))
    answer = identify(client, photo(BLUE))
    now = timezone.now()
    # Older than the window: not counted.
    records.identification_create(photo=b"old", answer=answer,
                                  now=now - datetime.timedelta(days=8))
    # A version whose package is not on disk, and one installed without a profile.
    other = {**answer, "model": {"name": "tiny-colours", "version": "0.0.0"}}
    records.identification_create(photo=b"gone", answer=other)
    old = tiny_package.write_package(served / "versions" / "0.0.2", version="0.0.2")
    assert profiles.reference_of(read_manifest(old).raw) is None
    records.identification_create(photo=b"x", answer={
        **answer, "model": {"name": "tiny-colours", "version": "0.0.2"}})
    result = drift.drift_by_version(min_identifications=1)
    assert result[("tiny-colours", "0.0.1")]["identifications"] == 2
    for version in ("0.0.0", "0.0.2"):
        assert result[("tiny-colours", version)] == {
            "confidence": None, "answers": None, "identifications": 1, "window_days": 7,
            "reference": None}
    # The longer window takes the old answer in.
    assert drift.drift_by_version(9, min_identifications=1)[
        ("tiny-colours", "0.0.1")]["identifications"] == 3
    # Below DRIFT_MIN_IDENTIFICATIONS: counted, but no index.
    settings.DRIFT_MIN_IDENTIFICATIONS = 3
    entry = drift.drift_by_version()[("tiny-colours", "0.0.1")]
    assert (entry["confidence"], entry["answers"], entry["identifications"]) == (None, None, 2)


def test_the_challengers_package_holds_its_reference(client, served, settings, tmp_path):
    # The challenger's reference is found in MODEL_CHALLENGER_DIR; its live answers would be
    # recorded under its version once it is the champion.
    challenger_dir = tmp_path / "challenger"
    (challenger_dir / "versions").mkdir(parents=True)
    target = challenger_dir / "versions" / "0.0.9"
    shutil.copytree(served / "current", target)
    raw = json.loads((target / MANIFEST).read_text())
    (target / MANIFEST).write_text(json.dumps({**raw, "version": "0.0.9"}))
    settings.MODEL_CHALLENGER_DIR = challenger_dir
    references = drift.reference_profiles()
    assert references[("tiny-colours", "0.0.9")] == references[("tiny-colours", "0.0.1")]
    assert references[("tiny-colours", "0.0.9")].count == 3


def test_the_gauges_are_published_for_the_metrics_port(client, served, tmp_path, settings):
    for data, _label in TEST_SPLIT:
        identify(client, data)
    identify(client, photo(BLUE, 2))
    settings.DRIFT_MIN_IDENTIFICATIONS = 1
    folder = tmp_path / "metrics"
    folder.mkdir()
    assert drift.refresh_gauges(folder, every=60) is True
    assert drift.refresh_gauges(folder, every=60) is False  # fresh: not computed again
    registry = CollectorRegistry()
    registry.register(metrics_server.PublishedGauges(folder))
    expected = drift.drift_by_version()[("tiny-colours", "0.0.1")]
    for signal in ("confidence", "answers"):
        labels = {"model": "tiny-colours", "version": "0.0.1", "signal": signal}
        assert registry.get_sample_value("catsite_drift_psi", labels) == pytest.approx(
            expected[signal])
    assert expected["answers"] > 0
