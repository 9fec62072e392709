"""ImageClassifier end to end: preprocessing, ONNX Runtime, softmax and top-k, on the tiny
colour model (answers known by hand) and on the real EfficientNet-Lite0 package."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

from catmodel.inference import (
    InferenceFailed,
    InputSpec,
    InvalidImage,
    load_classifier,
    preprocess_image,
    softmax,
)
from testsupport import images, tiny_package

# ImageNet: 281 tabby ... 285 Egyptian cat are the domestic cats.
DOMESTIC_CATS = list(range(281, 286))
ESPRESSO = 967


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return load_classifier(tiny_package.write_package(tmp_path_factory.mktemp("tiny")), threads=1)


def solid(colour, size=(40, 30), format="PNG") -> bytes:
    return images.encode(Image.new("RGB", size, colour), format)


# --- preprocessing -------------------------------------------------------------------------

SPEC = InputSpec.from_dict(tiny_package.INPUT)  # resize 20, crop 16, (x - 127) / 128


def test_preprocess_gives_a_contiguous_nchw_float32_batch_of_one():
    batch = preprocess_image(Image.new("RGB", (50, 30), (255, 127, 0)), SPEC)
    assert batch.shape == (1, 3, 16, 16) and batch.dtype == np.float32
    assert batch.flags["C_CONTIGUOUS"]
    assert np.allclose(batch[0, 0], 1.0) and np.allclose(batch[0, 1], 0.0)
    assert np.allclose(batch[0, 2], -127 / 128)


@pytest.mark.parametrize("size", [(200, 100), (100, 200), (1000, 600), (17, 13)])
def test_preprocess_resizes_the_shorter_side_and_crops_the_centre(size):
    # A blue square in the middle, red around it: after resizing the shorter side to 20 and
    # cropping 16, the crop is the middle 80 % of the shorter side, all blue.
    width, height = size
    image = Image.new("RGB", size, (255, 0, 0))
    short = min(size)
    margin = short // 10
    image.paste((0, 0, 255), ((width - short) // 2 + margin, (height - short) // 2 + margin,
                              (width + short) // 2 - margin, (height + short) // 2 - margin))
    batch = preprocess_image(image, SPEC)
    assert np.allclose(batch[0, 2, 2:-2, 2:-2], 128 / 128, atol=0.05)  # blue
    assert np.allclose(batch[0, 0, 2:-2, 2:-2], -127 / 128, atol=0.05)  # no red


# --- the tiny colour model -----------------------------------------------------------------


@pytest.mark.parametrize(
    "colour, label",
    [((255, 0, 0), "red"), ((0, 255, 0), "green"), ((0, 0, 255), "blue"),
     ((0, 0, 0), "dark"), ((255, 255, 255), "bright")],
)
def test_tiny_model_names_the_colour(tiny, colour, label):
    result = tiny.classify(solid(colour, format="JPEG"))
    assert result.top[0].label == label
    assert result.top[0].index == tiny_package.LABELS.index(label)


def test_probabilities_are_the_softmax_of_the_networks_logits(tiny):
    data = images.jpeg(images.chelsea())
    result = tiny.classify(data, top_k=5)
    batch = tiny.preprocess(tiny.decode(data))
    expected = softmax(tiny_package.expected_logits(batch)[0])
    assert np.allclose(result.probabilities, expected, rtol=1e-5, atol=1e-7)
    assert result.probabilities.sum() == pytest.approx(1.0)
    assert [p.index for p in result.top] == list(np.argsort(-expected))
    assert [p.probability for p in result.top] == sorted(
        (p.probability for p in result.top), reverse=True)
    assert result.model_name == "tiny-colours" and result.model_version == "0.0.1"


def test_probabilities_are_read_only(tiny):
    result = tiny.classify(solid((10, 200, 30)))
    with pytest.raises(ValueError):
        result.probabilities[0] = 1.0


@pytest.mark.parametrize("top_k, expected", [(1, 1), (3, 3), (5, 5), (50, 5)])
def test_top_k_is_limited_by_the_labels(tiny, top_k, expected):
    assert len(tiny.classify(solid((0, 0, 200)), top_k=top_k).top) == expected


def test_top_k_must_be_positive(tiny):
    with pytest.raises(ValueError):
        tiny.classify(solid((0, 0, 200)), top_k=0)


def test_softmax_is_stable_on_extreme_logits():
    probabilities = softmax(np.array([1000.0, 0.0, -1000.0], dtype=np.float32))
    assert np.all(np.isfinite(probabilities))
    assert probabilities[0] == pytest.approx(1.0) and probabilities[2] == 0.0
    assert np.allclose(softmax(np.full(4, 1e30, dtype=np.float32)), 0.25)


def test_timings_cover_every_step(tiny):
    timings = tiny.classify(images.jpeg(images.chelsea())).timings
    parts = (timings.decode_ms, timings.preprocess_ms, timings.inference_ms)
    assert all(part >= 0 for part in parts)
    assert timings.total_ms >= sum(parts) - 0.01  # each is rounded to the microsecond


def test_bad_input_raises_the_decode_error(tiny):
    with pytest.raises(InvalidImage):
        tiny.classify(b"")


def test_a_model_failure_is_an_inference_error_not_a_bad_input(tmp_path):
    # log of a negative mean is NaN: fine on the mid-grey warm-up photo, NaN on a black one.
    model = tiny_package.tiny_onnx(unary_ops=["Log"])
    classifier = load_classifier(tiny_package.write_package(tmp_path / "p", model=model))
    assert np.all(np.isfinite(classifier.classify(solid((200, 150, 255))).probabilities))
    with pytest.raises(InferenceFailed) as raised:
        classifier.classify(solid((0, 0, 0)))
    assert raised.value.status == 500 and raised.value.code == "inference_failed"


def test_a_batch_of_the_wrong_shape_is_an_inference_error(tiny):
    with pytest.raises(InferenceFailed):
        tiny.predict(np.zeros((1, 3, 8, 8), dtype=np.float32))


def test_classifier_exposes_its_package(tiny):
    assert tiny.ready
    assert (tiny.name, tiny.version) == ("tiny-colours", "0.0.1")
    assert tiny.labels == tuple(tiny_package.LABELS)
    assert tiny.manifest.input == SPEC


# --- the real model ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real(model_package_dir):
    return load_classifier(model_package_dir, threads=1)


@pytest.fixture(scope="module")
def photos():
    cat, cup = images.chelsea(), images.coffee()
    return {
        "cat.jpg": images.jpeg(cat),
        "cat-12mp.jpg": images.jpeg(cat, size=(4000, 3000)),
        "cat-rotated.jpg": images.jpeg_with_orientation(cat, 6),
        "cat.webp": images.encode(cat, "WEBP", quality=90),
        "coffee.png": images.encode(cup, "PNG"),
        "coffee-cmyk.jpg": images.cmyk_jpeg(cup),
    }


def test_real_model_package_loads(real):
    assert real.ready and len(real.labels) == 1000
    assert real.labels[281] == "tabby" and real.labels[ESPRESSO] == "espresso"


@pytest.mark.parametrize("name", ["cat.jpg", "cat-12mp.jpg", "cat-rotated.jpg", "cat.webp"])
def test_real_model_sees_a_domestic_cat_in_chelsea(real, photos, name):
    result = real.classify(photos[name])
    assert result.top[0].index in DOMESTIC_CATS
    assert result.probabilities[DOMESTIC_CATS].sum() > 0.7


@pytest.mark.parametrize("name", ["coffee.png", "coffee-cmyk.jpg"])
def test_real_model_sees_an_espresso_in_coffee(real, photos, name):
    result = real.classify(photos[name])
    assert result.top[0].label == "espresso"
    assert result.probabilities[DOMESTIC_CATS].sum() < 0.01


def test_one_classifier_serves_many_threads_with_sequential_results(model_package_dir, photos):
    classifier = load_classifier(model_package_dir, threads=2)
    names = list(photos) * 3
    sequential = {name: classifier.classify(photos[name]).probabilities for name in photos}
    with ThreadPoolExecutor(max_workers=6) as pool:
        concurrent = list(pool.map(lambda name: classifier.classify(photos[name]), names))
    for name, result in zip(names, concurrent, strict=True):
        assert np.allclose(result.probabilities, sequential[name], rtol=0, atol=1e-6), name
        assert result.top[0].index == int(np.argmax(sequential[name]))
