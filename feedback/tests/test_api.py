"""The whole loop over HTTP with the real model: identify -> feedback with the photo -> accept in
admin -> export_dataset; and every answer of POST /api/identifications/<id>/feedback/."""
import csv
import io
import json

import pytest
from django.core.cache import caches
from django.core.management import call_command

from classifier.models import Identification
from feedback.models import Feedback
from testsupport.feedback import has_location, identify, jpeg_with_gps

pytestmark = pytest.mark.django_db
PHOTO = jpeg_with_gps()


@pytest.fixture(autouse=True)
def model(installed_model):
    return installed_model


def classify(client, photo=PHOTO):
    response = client.post("/api/classify/", {"image": io.BytesIO(photo)})
    assert response.status_code == 200, response.content
    return response.json()


def feedback_url(identification_id):
    return f"/api/identifications/{identification_id}/feedback/"


def send(client, identification_id, **fields):
    if "image" in fields:
        fields["image"] = io.BytesIO(fields["image"])
    return client.post(feedback_url(identification_id), fields)


def test_the_whole_loop(client, staff_client, tmp_path):
    answer = classify(client)
    assert answer["is_cat"]
    identification = Identification.objects.get(pk=answer["id"])
    # The species answered, if the answer names one (a house cat may be answered as a group).
    answered = (answer["species"] or {}).get("slug")
    assert getattr(identification.predicted_species, "slug", None) == answered
    assert identification.model_version == answer["model"]["version"]
    assert "timings_ms" not in identification.answer

    response = send(client, answer["id"], correct="false", species="maine-coon",
                    share_photo="true", image=PHOTO)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body == {"id": answer["id"], "correct": False, "species": "maine-coon",
                    "not_a_cat": False, "label": "maine-coon", "photo_kept": True,
                    "status": "pending"}

    feedback = Feedback.objects.get()
    staff_client.post("/admin/feedback/feedback/", {"action": "accept",
                                                    "_selected_action": [feedback.pk]})
    call_command("export_dataset", "--out", str(tmp_path / "ds"), stdout=io.StringIO())
    with open(tmp_path / "ds" / "labels.csv", newline="") as f:
        rows = [row for row in csv.DictReader(f) if row["label"] == "maine-coon"]
    assert len(rows) == 1
    assert not has_location((tmp_path / "ds" / rows[0]["file"]).read_bytes())
    manifest = json.loads((tmp_path / "ds" / "dataset.json").read_text())
    assert manifest["counts"]["labels"]["maine-coon"]["total"] == 1


def test_every_identification_gets_its_own_unguessable_id(client):
    ids = {classify(client)["id"] for _ in range(3)}
    assert len(ids) == 3 and all(len(i) == 32 for i in ids)
    assert Identification.objects.count() == 3
    # A guess, even one digit off a real id, is unknown.
    real = ids.pop()
    guess = real[:-1] + ("0" if real[-1] != "0" else "1")
    response = send(client, guess, correct="true")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "identification_not_found"
    assert send(client, real + "0", correct="true").status_code == 404
    assert send(client, real.upper(), correct="true").status_code == 404
    confirmed = send(client, real, correct="true")
    assert confirmed.status_code == 201
    # No photo shared: nothing to review, so not "pending".
    assert confirmed.json()["photo_kept"] is False and confirmed.json()["status"] == "no_photo"


@pytest.mark.parametrize("fields, code", [
    ({"correct": "false", "species": "unicorn"}, "unknown_species"),
    ({"correct": "false"}, "invalid_feedback"),
    ({"correct": "true", "not_a_cat": "true"}, "invalid_feedback"),
    ({"species": "lion"}, "invalid_request"),  # correct must be said
    ({"correct": "maybe"}, "invalid_request"),
    ({"correct": "false", "species": "lion", "share_photo": "true"}, "photo_missing"),
])
def test_bad_feedback_is_a_400_that_says_what_to_do(client, fields, code):
    identification_id = classify(client)["id"]
    response = send(client, identification_id, **fields)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == code and error["message"]
    assert not Feedback.objects.exists()


def test_a_mismatched_photo_is_refused(client):
    identification_id = classify(client)["id"]
    other = jpeg_with_gps(orientation=3)  # same cat, other bytes
    response = send(client, identification_id, correct="false", species="lion",
                    share_photo="true", image=other)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "photo_mismatch"
    assert not Feedback.objects.exists()


def test_a_shared_photo_waits_for_the_gate_of_identification(client, settings):
    # A large photo (decoded at 1/2 scale, 36 MB) takes a slot of the same gate as
    # identification's large decodes: while identification holds the only one, the share is
    # turned away with Retry-After, and kept once the slot is free.
    from classifier import runtime
    from testsupport import images

    photo = images.jpeg(images.chelsea(), size=(6000, 6000))
    identification_id = classify(client, photo)["id"]
    settings.IDENTIFY_DECODE_WAIT_SECONDS = 0
    classifier = runtime.load(force=True)
    with classifier.decode_gate.slot():
        response = send(client, identification_id, correct="true", share_photo="true",
                        image=photo)
    assert response.status_code == 503, response.content
    assert response["Retry-After"] == "1" and response.json()["error"]["code"] == "busy"
    assert not Feedback.objects.exists()
    response = send(client, identification_id, correct="true", share_photo="true", image=photo)
    assert response.status_code == 201 and response.json()["photo_kept"]


def test_feedback_is_given_once(client):
    identification_id = classify(client)["id"]
    assert send(client, identification_id, correct="true").status_code == 201
    response = send(client, identification_id, correct="false", species="lion")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "feedback_exists"


def test_withdrawing_deletes_the_feedback_and_photo(client, django_capture_on_commit_callbacks):
    identification_id = classify(client)["id"]
    send(client, identification_id, correct="false", species="lion", share_photo="true",
         image=PHOTO)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(feedback_url(identification_id)).status_code == 204
    assert not Feedback.objects.exists()
    assert client.delete(feedback_url(identification_id)).status_code == 404


def test_a_withdrawn_id_takes_no_new_feedback_and_forgets_the_photo(client):
    identification_id = classify(client)["id"]
    assert send(client, identification_id, correct="true").status_code == 201
    assert client.delete(feedback_url(identification_id)).status_code == 204
    assert Identification.objects.get(pk=identification_id).photo_sha256 == ""
    response = send(client, identification_id, correct="false", species="lion",
                    share_photo="true", image=PHOTO)
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "feedback_withdrawn"
    assert "withdrawn" in response.json()["error"]["message"]
    assert not Feedback.objects.exists()


def test_feedback_has_its_own_rate_limit(client, settings):
    caches["counters"].clear()  # counts from other tests in this window
    settings.FEEDBACK_RATE_LIMIT = "2/hour"
    ids = [classify(client)["id"] for _ in range(3)]
    assert send(client, ids[0], correct="true").status_code == 201
    assert send(client, ids[1], correct="true").status_code == 201
    response = send(client, ids[2], correct="true")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "rate_limited"
    settings.FEEDBACK_RATE_LIMIT = "off"
    assert send(client, ids[2], correct="true").status_code == 201


def test_the_schema_documents_the_endpoint(client):
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/identifications/{identification_id}/feedback/"]["post"]
    assert set(operation["responses"]) == {"201", "400", "404", "409", "410", "429"}


def test_every_verdict_is_counted_with_the_model_version_that_answered(client, model):
    from prometheus_client import REGISTRY

    served = {"model": model.name, "version": model.version}
    # An answer an earlier release gave (the feedback comes after the new model is out).
    earlier = {"model": "test-model", "version": "0.9.0"}

    def count(verdict, labels):
        return REGISTRY.get_sample_value("catsite_feedback_total",
                                         {"verdict": verdict, **labels}) or 0.0

    verdicts = ("correct", "corrected", "not_a_cat")
    before = {(v, m["version"]): count(v, m) for v in verdicts for m in (served, earlier)}
    send(client, classify(client)["id"], correct="true")
    send(client, classify(client)["id"], correct="false", species="lion")
    send(client, classify(client)["id"], correct="false", not_a_cat="true")
    send(client, classify(client)["id"], correct="false")  # refused: not counted
    old_answer = identify(PHOTO, model_version=earlier["version"])
    assert old_answer.model_name == earlier["model"]
    assert send(client, old_answer.pk, correct="true").status_code == 201
    after = {(v, m["version"]): count(v, m) for v in verdicts for m in (served, earlier)}
    assert {key: after[key] - before[key] for key in before} == {
        ("correct", model.version): 1, ("corrected", model.version): 1,
        ("not_a_cat", model.version): 1,
        ("correct", "0.9.0"): 1, ("corrected", "0.9.0"): 0, ("not_a_cat", "0.9.0"): 0}
