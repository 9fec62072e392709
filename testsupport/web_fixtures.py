"""The real model package, installed for the Django side of identification, or none.

A pytest plugin (listed in the root conftest.py): its fixtures serve every test folder, and no
test module imports them. The helpers below (upload, cat_jpeg, coffee_jpeg, answer_for) are plain
functions to import.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from classifier import answer, runtime
from testsupport import images


@pytest.fixture(scope="session")
def model_package_dir():
    """The real model package (model.onnx + manifest.json), from the build cache.

    Built once (a few seconds) into ``${CATSITE_CACHE_DIR:-~/.cache/catsite}/models/<key>/``
    and reused by later runs while the build code and library versions stay the same. Shared
    by every test: copy it before changing anything in it.
    """
    from catmodel.modelbuild.cache import ensure_built

    return ensure_built()


@pytest.fixture
def installed_model(settings, tmp_path, model_package_dir):
    """The real package installed the way fetch_model installs it, loaded by the runtime."""
    model_dir = tmp_path / "model"
    (model_dir / "versions").mkdir(parents=True)
    (model_dir / "versions" / "1.0.0").symlink_to(model_package_dir, target_is_directory=True)
    (model_dir / "current").symlink_to("versions/1.0.0")
    settings.MODEL_DIR = model_dir
    classifier = runtime.load(force=True)
    assert classifier is not None, runtime.status()
    yield classifier
    runtime.load(force=True)


@pytest.fixture
def no_model(settings, tmp_path):
    settings.MODEL_DIR = tmp_path / "empty-model-dir"
    runtime.load(force=True)
    yield
    runtime.load(force=True)


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def cat_jpeg(size=None) -> bytes:
    return images.jpeg(images.chelsea(), size=size)


def coffee_jpeg() -> bytes:
    return images.jpeg(images.coffee())


def answer_for(classifier, **label_probabilities):
    """The answer to model output with these label probabilities (the rest spread evenly):
    the real summarising code on the real model's labels, for photos we do not have."""
    labels = list(classifier.labels)
    rest = (1 - sum(label_probabilities.values())) / (len(labels) - len(label_probabilities))
    probabilities = np.full(len(labels), rest)
    for label, p in label_probabilities.items():
        probabilities[labels.index(label.replace("_", " "))] = p
    # A real classification of a real photo, with these probabilities in place of its own.
    classification = dataclasses.replace(classifier.classify(coffee_jpeg()),
                                         probabilities=probabilities)
    return answer.summarise(classification, {})
