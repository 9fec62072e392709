"""The data scientist's loop (issue 14), end to end, as one test on the real components: the
database, the site through Django's test client, the feedback API, the admin's accept action,
export_dataset, train_model (PyTorch, CPU: a couple of dozen photos, a few epochs),
evaluate_model, publish_model into a local-folder store with the champion gate, fetch_model, and
the site's runtime reloaded onto the new champion.

identify the tabby -> a visitor corrects it as a Maine Coon and shares the photo (other visitors
share more crops: Maine Coons and things that are not cats) -> an editor accepts them -> export
-> train -> evaluate -> publish as challenger -> the gate promotes it over the ImageNet champion,
and refuses a worse candidate without --force -> fetch champion -> the site answers the tabby
"Maine Coon" and its model card names the new version.

SQLite only: the loop trains a network (most of this test's time) and the database does nothing
here that the PostgreSQL runs of the feedback, export and delivery tests do not already cover;
running it twice would double the suite's most expensive test for no new check.
"""
from __future__ import annotations

import json
import shutil
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from catmodel.evaluation import read_dataset
from catmodel.inference.package import read_manifest
from classifier import runtime
from feedback.models import Feedback
from species.models import Species
from testsupport import images
from testsupport.datasets import crops, photo
from testsupport.delivery import degraded_copy
from testsupport.web_fixtures import upload

pytestmark = [
    pytest.mark.slow,
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite",
                       reason="the training loop runs on SQLite only (see the module docstring)"),
]

BREED = "maine-coon"
NEW_VERSION = "2.0.0"
EPOCHS = 8
# Crops (testsupport/datasets.py: seeded, so the same photos every run) that other visitors
# share. Their splits follow from their hashes; these seeds and counts give each label at least
# five training photos (train_model's minimum) and a test split with both labels in it.
MAINE_COON_CROPS = ("chelsea", 6, 1)
NOT_A_CAT_CROPS = (("rocket", 8, 4), ("astronaut", 6, 5))


def identify(client, data: bytes) -> dict:
    response = client.post(reverse("api:classify"), {"image": upload(data)})
    assert response.status_code == 200, response.content
    return response.json()


def give_feedback(client, answer: dict, data: bytes, **verdict) -> None:
    url = f"/api/identifications/{answer['id']}/feedback/"
    response = client.post(url, {**verdict, "share_photo": "true", "image": upload(data)})
    assert response.status_code == 201, response.content
    assert response.json()["photo_kept"] is True


def correct_as_breed(client, data: bytes) -> None:
    answer = identify(client, data)
    assert (answer["species"] or {}).get("slug") != BREED   # ImageNet cannot name the breed
    give_feedback(client, answer, data, correct="false", species=BREED)


def confirm_not_a_cat(client, data: bytes) -> None:
    answer = identify(client, data)
    verdict = {"correct": "true"} if not answer["is_cat"] else {"correct": "false",
                                                                "not_a_cat": "true"}
    give_feedback(client, answer, data, **verdict)


def command(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out, **options)
    return out.getvalue()


def aliases(history: bool = False) -> dict:
    """manage.py model_aliases --json: alias -> {"version", and with history its moves}."""
    return json.loads(command("model_aliases", json=True, history=history))["aliases"]


def install_champion(settings) -> dict:
    """What the web process does at start-up after fetch_model: load MODEL_DIR/current."""
    command("fetch_model", package_version="champion")
    assert runtime.load(force=True) is not None, runtime.status()
    return runtime.status()


def test_feedback_becomes_a_better_champion_that_the_site_answers_with(
        client, staff_client, settings, tmp_path, model_package_dir):
    # The encyclopedia a deployment has (a transactional test earlier in the session, e.g. the
    # browser journeys' live server, may have flushed it); an upsert, undone with this test.
    command("load_species", verbosity=0)
    base = read_manifest(model_package_dir)
    settings.MODEL_NAME = base.name
    settings.MODEL_STORE = str(tmp_path / "store")        # a local-folder model store
    settings.MODEL_DIR = tmp_path / "model"
    settings.IDENTIFY_RATE_LIMIT = settings.FEEDBACK_RATE_LIMIT = "off"  # many visitors, one IP
    # Production runs the ImageNet conversion: the first champion, promoted before there was
    # any dataset to gate it with (--force, recorded in the alias's history).
    command("publish_model", str(model_package_dir), alias="champion", force=True)
    install_champion(settings)

    # 1. Identify the tabby: ImageNet answers "a domestic cat", never a breed.
    tabby = images.jpeg(images.chelsea())
    answer = identify(client, tabby)
    assert answer["is_cat"] and answer["species"] is None and answer["id"]
    assert answer["model"]["version"] == base.version
    # 2. The visitor corrects it: it is a Maine Coon; they share the photo.
    give_feedback(client, answer, tabby, correct="false", species=BREED)
    # ... and other visitors do the same with their photos.
    name, count, seed = MAINE_COON_CROPS
    for data in crops(photo(name), count, seed):
        correct_as_breed(client, data)
    for name, count, seed in NOT_A_CAT_CROPS:
        for data in crops(photo(name), count, seed):
            confirm_not_a_cat(client, data)
    # An editor's photo of a Maine Coon, uploaded on its encyclopedia entry (as the admin's
    # image field saves it), is a labelled example too.
    maine_coon = Species.objects.get(slug=BREED)
    maine_coon.image.save("maine-coon.jpg", ContentFile(crops(photo("chelsea"), 1, 2)[0]))

    # 3. An editor accepts every pending feedback with the admin's bulk action.
    pending = list(Feedback.objects.filter(status=Feedback.Status.PENDING)
                   .values_list("pk", flat=True))
    assert len(pending) == 1 + MAINE_COON_CROPS[1] + sum(n for _, n, _ in NOT_A_CAT_CROPS)
    response = staff_client.post(reverse("admin:feedback_feedback_changelist"),
                                 {"action": "accept", "_selected_action": pending})
    assert response.status_code == 302
    assert Feedback.objects.filter(status=Feedback.Status.ACCEPTED).count() == len(pending)

    # 4. Export: the feedback photos and the species photo, labelled and split by hash.
    data_dir = tmp_path / "dataset"
    command("export_dataset", out=str(data_dir))
    dataset = read_dataset(data_dir)
    counts = dataset.counts["labels"]
    assert set(counts) == {BREED, "not-a-cat"}
    assert counts[BREED]["total"] == 1 + MAINE_COON_CROPS[1] + 1
    assert all(counts[label]["train"] >= 5 and counts[label]["test"] >= 1 for label in counts)

    # 5. Train on it (from the base model), then evaluate the result on the test split.
    package = tmp_path / "trained"
    output = command("train_model", data=data_dir, out=package, base=model_package_dir,
                     epochs=EPOCHS, seed=0, threads=1, package_version=NEW_VERSION)
    assert f"epoch {EPOCHS}/{EPOCHS}: loss " in output
    trained = read_manifest(package)
    assert trained.name == base.name and f"species:{BREED}" in trained.labels
    evaluation_file = tmp_path / "evaluation.json"
    command("evaluate_model", str(package), data=data_dir, json=evaluation_file)
    evaluation = json.loads(evaluation_file.read_text())
    assert evaluation["dataset"]["sha256"] == dataset.sha256
    assert evaluation["per_label"][BREED]["recall"] == 1.0, evaluation
    assert evaluation["top1_accuracy"] == 1.0

    # 6. Published as challenger: production does not change.
    command("publish_model", str(package), alias="challenger")
    moved = aliases()
    assert moved["champion"]["version"] == base.version
    assert moved["challenger"]["version"] == NEW_VERSION

    # 7. The gate: the candidate is better than the champion on the export's test split.
    command("publish_model", promote=NEW_VERSION, alias="champion", evaluate=data_dir)
    champion = aliases(history=True)["champion"]
    assert champion["version"] == NEW_VERSION
    promotion = champion["history"][-1]
    assert not promotion["forced"]
    # The gate's numbers are evaluate_model's: ImageNet gets the photos that are not cats right
    # and cannot name a Maine Coon.
    assert promotion["evaluation"]["candidate"] == evaluation["top1_accuracy"]
    assert 0 < promotion["evaluation"]["champion"] < promotion["evaluation"]["candidate"]
    # A deliberately worse candidate (the trained network calling every photo a tabby:
    # delivery_support.degraded_copy) is refused...
    worse = degraded_copy(package, tmp_path / "worse", "2.0.1-worse")
    with pytest.raises(CommandError, match=r"not promoted"):
        command("publish_model", str(worse), alias="champion", evaluate=data_dir)
    assert aliases()["champion"]["version"] == NEW_VERSION

    # 8. Production fetches champion; the web process loads it.
    status = install_champion(settings)
    assert status["version"] == NEW_VERSION, status
    # The site now names the breed of the very photo it could not name before...
    answer = identify(client, tabby)
    assert answer["model"]["version"] == NEW_VERSION
    assert answer["species"]["slug"] == BREED, answer
    assert answer["taxon"]["rank"] == "species"
    # ... and its model card says which model runs and that it can name a Maine Coon.
    card = client.get(reverse("api:model")).json()
    assert card["model"]["version"] == NEW_VERSION
    entry = next(e for e in card["entries"] if e["slug"] == BREED)
    assert entry["level"] == "species"
    shutil.rmtree(worse)
