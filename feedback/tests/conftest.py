"""A history of answers and verdicts, as production builds it (records.identification_create,
then services.feedback_create), shared by the live-accuracy tests: the selector, model_report
and the admin page "Models in production"."""
from __future__ import annotations

import datetime
from dataclasses import dataclass

import pytest
from django.utils import timezone

from classifier.models import Identification
from feedback.services import feedback_create
from species.models import Species
from testsupport.feedback import identify, jpeg_with_gps

PHOTO = jpeg_with_gps()


@dataclass
class History:
    now: datetime.datetime

    def answer(self, species: str | None = None, *, version: str, days_ago: int = 0,
               model: str = "catnet", group: str | None = None, verdict: dict | None = None):
        """One answer (a species slug, a group such as "lynx", or not a cat) given ``days_ago``
        days before now, with the visitor's verdict if any (feedback_create's fields)."""
        entry = Species.objects.get(slug=species) if species else None
        identification = identify(PHOTO, entry, is_cat=entry is not None or group is not None,
                                  group=group, model_name=model, model_version=version)
        if verdict is not None:
            feedback_create(identification_id=identification.pk, **verdict)
        # Answered in the past: moved back once the verdict is in (an expired answer takes
        # none), as the days of a real history are.
        Identification.objects.filter(pk=identification.pk).update(
            created_at=self.now - datetime.timedelta(days=days_ago))
        return identification

    def day(self, days_ago: int) -> str:
        return (self.now - datetime.timedelta(days=days_ago)).date().isoformat()


RIGHT = {"correct": True}


def wrong(species: str | None = None) -> dict:
    if species is None:
        return {"correct": False, "not_a_cat": True}
    return {"correct": False, "species": species}


@pytest.fixture
def history(db):
    """catnet 1.0 over 40 days and catnet 2.0 today (the numbers the tests expect are worked out
    in their comments):

    catnet 1.0  40 days ago  lion (right)
                3 days ago   lion (right), lion (wrong: tiger), not a cat (right),
                             lynx group (wrong: eurasian-lynx), tiger (no verdict)
                1 day ago    lion (wrong: not a cat), not a cat (no verdict), lion (wrong: tiger)
    catnet 2.0  today        lion (right), lion (right), not a cat (no verdict)
    """
    made = History(now=timezone.now() - datetime.timedelta(minutes=1))
    old = {"version": "1.0"}
    made.answer("lion", **old, days_ago=40, verdict=RIGHT)
    made.answer("lion", **old, days_ago=3, verdict=RIGHT)
    made.answer("lion", **old, days_ago=3, verdict=wrong("tiger"))
    made.answer(None, **old, days_ago=3, verdict=RIGHT)
    made.answer(None, **old, days_ago=3, group="lynx", verdict=wrong("eurasian-lynx"))
    made.answer("tiger", **old, days_ago=3)
    made.answer("lion", **old, days_ago=1, verdict=wrong())
    made.answer(None, **old, days_ago=1)
    made.answer("lion", **old, days_ago=1, verdict=wrong("tiger"))
    new = {"version": "2.0"}
    made.answer("lion", **new, verdict=RIGHT)
    made.answer("lion", **new, verdict=RIGHT)
    made.answer(None, **new)
    return made


@pytest.fixture
def catnet_2_reference(settings, tmp_path):
    """catnet 2.0's package installed (MODEL_DIR), its reference profile: one lion at 0.9, one
    "not a cat" at 0.5; catnet 1.0 has no package on disk. Drift counts from one answer on."""
    from catmodel.evaluation import drift
    from testsupport.tiny_package import write_package

    settings.MODEL_DIR = tmp_path / "model"
    settings.MODEL_CHALLENGER_DIR = None
    settings.DRIFT_MIN_IDENTIFICATIONS = 1
    package = write_package(settings.MODEL_DIR / "versions" / "2.0", name="catnet",
                            version="2.0")
    (settings.MODEL_DIR / "current").symlink_to("versions/2.0")
    reference = drift.profile(["lion", "not_a_cat"], [0.9, 0.5], split="test")
    drift.record_profile(package, reference)
    return reference
