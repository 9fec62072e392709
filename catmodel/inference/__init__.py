"""Identifying a photo with an ONNX model package. Pure Python: no Django here.

    classifier = load_classifier(path)           # once per process
    result = classifier.classify(uploaded_bytes)  # from any thread

What a model package is (names, hashing, ``verify``) is defined once, in ``package``.
"""
from .decode import ACCEPTED_PILLOW_FORMATS, DEFAULT_MAX_PIXELS, decode_image
from .decode_memory import DEFAULT_MAX_DECODE_BYTES, DecodeBudget, DecodeGate
from .errors import (
    ACCEPTED_FORMATS,
    BadModelPackage,
    ClassifierError,
    DecodeBudgetSpent,
    DecoderBusy,
    FileTooLarge,
    InferenceFailed,
    InvalidImage,
    ModelUnavailable,
    TooManyPixels,
    UnsupportedFormat,
)
from .model import (
    Classification,
    ImageClassifier,
    LabelScore,
    Timings,
    load_classifier,
    softmax,
    top_labels,
    warm_up_photo,
)
from .package import InputSpec, Manifest
from .preprocess import preprocess_image

__all__ = [
    "ACCEPTED_FORMATS",
    "ACCEPTED_PILLOW_FORMATS",
    "DEFAULT_MAX_PIXELS",
    "BadModelPackage",
    "Classification",
    "ClassifierError",
    "DEFAULT_MAX_DECODE_BYTES",
    "DEFAULT_MAX_PIXELS",
    "DecodeBudget",
    "DecodeBudgetSpent",
    "DecodeGate",
    "DecoderBusy",
    "FileTooLarge",
    "ImageClassifier",
    "InferenceFailed",
    "InputSpec",
    "InvalidImage",
    "LabelScore",
    "Manifest",
    "ModelUnavailable",
    "Timings",
    "TooManyPixels",
    "UnsupportedFormat",
    "decode_image",
    "load_classifier",
    "preprocess_image",
    "softmax",
    "top_labels",
    "warm_up_photo",
]
