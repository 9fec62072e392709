"""The challenger in the shadow (classifier/shadow.py): a sampled share of identifications is
also scored by the challenger, agreement is counted, and the visitor never waits for it.

The database is committed (transaction=True, the seeded species restored after each test): the
challenger's thread reads the labels through its own connection, as in production.
"""
from __future__ import annotations

import shutil
import threading

import pytest
from django.urls import reverse
from prometheus_client import REGISTRY

from catmodel.inference import load_classifier
from catmodel.inference.signatures import load_trusted_keys, sign_package
from classifier import shadow
from classifier.shadow import QUEUE_SIZE, Shadow
from testsupport import tiny_package
from testsupport.signing import key_pair
from testsupport.web_fixtures import (  # noqa: F401 (fixtures)
    cat_jpeg,
    coffee_jpeg,
    installed_model,
    upload,
)

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("installed_model")]
API = reverse("api:classify")


def value(metric, **labels) -> float:
    return REGISTRY.get_sample_value(metric, labels) or 0.0


def install(package_dir, model_dir, version="2.0.0"):
    (model_dir / "versions").mkdir(parents=True)
    (model_dir / "versions" / version).symlink_to(package_dir, target_is_directory=True)
    (model_dir / "current").symlink_to(f"versions/{version}")
    return model_dir


@pytest.fixture
def use_shadow(monkeypatch):
    """Serve identifications with the given Shadow, and wait for it to finish afterwards."""
    made = []

    def use(challenger_dir, rate=1.0, load=load_classifier, trusted_keys=()):
        made.append(Shadow(challenger_dir, rate, load=load, trusted_keys=trusted_keys))
        monkeypatch.setattr(shadow, "_shadow", made[-1])
        return made[-1]

    yield use
    for each in made:
        each.join()


def identify(client, data):
    response = client.post(API, {"image": upload(data)})
    assert response.status_code == 200, response.content
    return response.json()


def test_agreement_is_counted(client, tmp_path, model_package_dir, use_shadow):
    the_shadow = use_shadow(install(model_package_dir, tmp_path / "challenger"))
    version = load_classifier(model_package_dir).version
    before = (value("catsite_shadow_predictions_total", challenger_version=version),
              value("catsite_shadow_agreement_total", challenger_version=version, agreed="true"))
    identify(client, cat_jpeg())
    identify(client, coffee_jpeg())
    the_shadow.join()
    # The same model as the champion: it agrees on the cat and on the coffee.
    assert value("catsite_shadow_predictions_total", challenger_version=version) == before[0] + 2
    assert value("catsite_shadow_agreement_total", challenger_version=version,
                 agreed="true") == before[1] + 2


def test_disagreement_is_counted(client, tmp_path, use_shadow):
    package = tiny_package.write_package(tmp_path / "tiny", version="0.0.1")
    the_shadow = use_shadow(install(package, tmp_path / "challenger", "0.0.1"))
    before = value("catsite_shadow_agreement_total", challenger_version="0.0.1", agreed="false")
    assert identify(client, cat_jpeg())["is_cat"]
    the_shadow.join()
    # Its labels (colours) belong to no species: "not a cat" against the champion's cat.
    assert value("catsite_shadow_agreement_total", challenger_version="0.0.1",
                 agreed="false") == before + 1


class SlowChallenger:
    """The real challenger, held at each photo until the test releases it."""

    def __init__(self, real):
        self.real, self.started, self.release = real, threading.Event(), threading.Event()
        self.name, self.version, self.labels = real.name, "slow", real.labels

    def classify(self, data):
        self.started.set()
        assert self.release.wait(timeout=60), "never released"
        return self.real.classify(data)


def test_a_slow_challenger_does_not_delay_the_answer(client, tmp_path, model_package_dir,
                                                      use_shadow):
    slow = SlowChallenger(load_classifier(model_package_dir))
    the_shadow = use_shadow(install(model_package_dir, tmp_path / "challenger"),
                            load=lambda path, **options: slow)
    before = value("catsite_shadow_predictions_total", challenger_version="slow")
    answer = identify(client, cat_jpeg())  # returned while the challenger is held ...
    assert answer["is_cat"]
    assert slow.started.wait(timeout=30)  # ... and working on the same photo
    assert value("catsite_shadow_predictions_total", challenger_version="slow") == before
    slow.release.set()
    the_shadow.join()
    assert value("catsite_shadow_predictions_total", challenger_version="slow") == before + 1


def test_a_busy_challenger_sheds_and_identification_goes_on(client, tmp_path, model_package_dir,
                                                             use_shadow):
    slow = SlowChallenger(load_classifier(model_package_dir))
    the_shadow = use_shadow(install(model_package_dir, tmp_path / "challenger"),
                            load=lambda path, **options: slow)
    shed = value("catsite_shadow_shed_total")
    before = value("catsite_shadow_predictions_total", challenger_version="slow")
    identify(client, cat_jpeg())
    assert slow.started.wait(timeout=30)  # the thread holds one photo
    for _ in range(QUEUE_SIZE + 2):  # the queue fills, the rest is shed
        assert identify(client, cat_jpeg())["is_cat"]
    assert value("catsite_shadow_shed_total") == shed + 2
    slow.release.set()
    the_shadow.join()
    assert value("catsite_shadow_predictions_total", challenger_version="slow") == (
        before + 1 + QUEUE_SIZE)


def test_nothing_is_sampled_without_a_challenger_or_a_rate(tmp_path, model_package_dir):
    assert not Shadow(None, 1.0).enabled
    assert not Shadow(tmp_path, 0.0).enabled
    assert Shadow(tmp_path, 0.5).enabled


def test_a_challenger_that_does_not_load_turns_shadowing_off(client, tmp_path, use_shadow,
                                                             caplog):
    (tmp_path / "challenger").mkdir()
    the_shadow = use_shadow(tmp_path / "challenger")  # nothing installed there
    assert identify(client, cat_jpeg())["is_cat"]
    the_shadow.join()
    assert not the_shadow.enabled
    assert "Shadow scoring off" in caplog.text


def test_with_trusted_keys_an_unsigned_challenger_is_not_loaded(client, tmp_path,
                                                               model_package_dir, use_shadow,
                                                               caplog):
    """The challenger is held to the champion's trust: with MODEL_TRUSTED_KEYS an unsigned
    package is never handed to ONNX Runtime, and shadow scoring turns off saying why."""
    _, public = key_pair(tmp_path, "publisher")
    the_shadow = use_shadow(install(model_package_dir, tmp_path / "challenger"),
                            trusted_keys=load_trusted_keys([public]))
    version = load_classifier(model_package_dir).version
    before = value("catsite_shadow_predictions_total", challenger_version=version)
    assert identify(client, cat_jpeg())["is_cat"]
    the_shadow.join()
    assert not the_shadow.enabled
    assert "Shadow scoring off" in caplog.text and "signature" in caplog.text.lower()
    assert value("catsite_shadow_predictions_total", challenger_version=version) == before


def test_a_challenger_signed_by_a_trusted_key_is_scored(client, tmp_path, model_package_dir,
                                                        use_shadow):
    private, public = key_pair(tmp_path, "publisher")
    package = tmp_path / "signed"
    shutil.copytree(model_package_dir, package)
    sign_package(package, private)
    the_shadow = use_shadow(install(package, tmp_path / "challenger"),
                            trusted_keys=load_trusted_keys([public]))
    version = load_classifier(package).version
    before = value("catsite_shadow_predictions_total", challenger_version=version)
    identify(client, cat_jpeg())
    the_shadow.join()
    assert value("catsite_shadow_predictions_total", challenger_version=version) == before + 1
