"""Identifying a photo with an ONNX model package. Pure Python: no Django here.

    classifier = load_classifier(path)           # once per process
    result = classifier.classify(uploaded_bytes)  # from any thread
"""
from .decode import ACCEPTED_PILLOW_FORMATS, DEFAULT_MAX_PIXELS, decode_image
from .decode_memory import DEFAULT_MAX_DECODE_BYTES, DecodeGate
from .errors import (
    ACCEPTED_FORMATS,
    BadModelPackage,
    ClassifierError,
    DecoderBusy,
    FileTooLarge,
    InferenceFailed,
    InvalidImage,
    ModelUnavailable,
    TooManyPixels,
    UnsupportedFormat,
)
from .model import Classification, ImageClassifier, Prediction, Timings, load_classifier, softmax
from .package import InputSpec, Manifest, load_manifest, parse_manifest
from .preprocess import preprocess_image

__all__ = [
    "ACCEPTED_FORMATS",
    "ACCEPTED_PILLOW_FORMATS",
    "BadModelPackage",
    "Classification",
    "ClassifierError",
    "DEFAULT_MAX_DECODE_BYTES",
    "DEFAULT_MAX_PIXELS",
    "DecodeGate",
    "DecoderBusy",
    "FileTooLarge",
    "ImageClassifier",
    "InferenceFailed",
    "InputSpec",
    "InvalidImage",
    "Manifest",
    "ModelUnavailable",
    "Prediction",
    "Timings",
    "TooManyPixels",
    "UnsupportedFormat",
    "decode_image",
    "load_classifier",
    "load_manifest",
    "parse_manifest",
    "preprocess_image",
    "softmax",
]
