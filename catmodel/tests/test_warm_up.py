"""Warm starts: a model is ready only after one warm-up inference through it, on a photo made in
memory (catmodel/inference/model.py for the web processes, catmodel/serving/model.py for the
model service). Real packages, real ONNX Runtime sessions: the warm-up's answer is the network's
own, worked out by hand for the tiny colour model."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from catmodel.inference import ImageClassifier, load_classifier, softmax, warm_up_photo
from catmodel.inference.errors import BadModelPackage
from testsupport import tiny_package

BASE_MODEL = "deploy/models/base"


@pytest.fixture
def tiny(tmp_path):
    return load_classifier(tiny_package.write_package(tmp_path / "tiny"), threads=1)


def expected_probabilities(classifier) -> np.ndarray:
    """The tiny network's answer on the warm-up photo, computed in numpy (no ONNX Runtime)."""
    image = classifier.decode(warm_up_photo(classifier.manifest.input.size))
    return softmax(tiny_package.expected_logits(classifier.preprocess(image)))[0]


def test_the_warm_up_photo_is_a_jpeg_at_the_models_input_size():
    for size in (16, 224):
        image = Image.open(io.BytesIO(warm_up_photo(size)))
        assert image.format == "JPEG" and image.size == (size, size) and image.mode == "RGB"


def test_load_classifier_returns_a_model_warmed_up_by_one_inference(tiny):
    assert tiny.ready
    warm = tiny.warmed_up
    # The network ran on the photo: its answer is what the tiny network computes for it (the
    # channel means sit just above 127: "bright" by a little).
    np.testing.assert_allclose(warm.probabilities, expected_probabilities(tiny), rtol=1e-5)
    assert warm.top[0].label == "bright"
    assert warm.timings.inference_ms > 0 and warm.timings.decode_ms > 0


def test_a_classifier_is_ready_only_once_its_warm_up_has_run(tiny):
    fresh = ImageClassifier(tiny.manifest, tiny.session)
    assert not fresh.ready and fresh.warmed_up is None and fresh.warm_up_ms is None
    answer = fresh.warm_up()
    assert fresh.ready and fresh.warmed_up is answer
    assert fresh.warm_up_ms == answer.timings.total_ms > 0
    np.testing.assert_allclose(answer.probabilities, expected_probabilities(tiny), rtol=1e-5)


def test_a_model_that_fails_its_warm_up_is_refused_at_load(tmp_path):
    # log(-mean) is NaN on the mid-grey warm-up photo.
    model = tiny_package.tiny_onnx(unary_ops=["Neg", "Log"])
    with pytest.raises(BadModelPackage, match="finite logits"):
        load_classifier(tiny_package.write_package(tmp_path / "nan", model=model))


def test_the_base_model_is_warm_when_loaded():
    classifier = load_classifier(BASE_MODEL, threads=1)
    warm = classifier.warmed_up
    assert classifier.ready and warm.probabilities.shape == (1000,)
    assert warm.probabilities.sum() == pytest.approx(1.0)
    assert warm.timings.inference_ms > 0


def test_the_model_service_is_ready_only_after_its_own_warm_up(tiny):
    from catmodel.serving.model import CatsiteModel

    model = CatsiteModel(tiny, decode_threads=1)
    assert model.ready is False and model.warmed_up is None  # KServe's /ready reads the flag
    assert model.load() is True
    assert model.ready
    # Through the service's steps (decode, preprocess, a batch run, softmax): the network's answer.
    np.testing.assert_allclose(model.warmed_up[0], expected_probabilities(tiny), rtol=1e-5)
    assert model.classifier.labels[int(model.warmed_up[0].argmax())] == "bright"
