"""Issue 24 item 11: the package the loader verifies is the package it loads. ``current`` is a
symlink that can be flipped at any moment (fetch_model does it; so can anyone who can write the
model directory); the loader resolves it once and hands ONNX Runtime the very bytes whose hash
and signature it checked."""
from __future__ import annotations

import os
import threading

import pytest

from catmodel.inference import BadModelPackage, load_classifier
from catmodel.inference.signatures import (
    SignatureRefused,
    load_trusted_keys,
    sign_package,
    verify_signature,
)
from testsupport.delivery import make_package
from testsupport.signing import key_pair


def test_flipping_current_while_loading_never_loads_the_unsigned_package(tmp_path):
    private, public = key_pair(tmp_path, "publisher")
    trusted = load_trusted_keys([public])
    model_dir = tmp_path / "model"
    versions = model_dir / "versions"
    sign_package(make_package(versions, "1.0.0"), private)
    make_package(versions, "2.0.0-unsigned")  # a valid package, but nobody trusted signed it
    current = model_dir / "current"
    current.symlink_to("versions/1.0.0")

    stop = threading.Event()

    def flip():
        # As fetch_model switches: a new symlink renamed over the old one, atomically.
        staged = model_dir / ".current-flip"
        while not stop.is_set():
            for target in ("versions/2.0.0-unsigned", "versions/1.0.0"):
                os.symlink(target, staged)
                os.replace(staged, current)

    flipper = threading.Thread(target=flip, daemon=True)
    flipper.start()
    loaded, refused = [], []
    try:
        for _ in range(40):
            try:
                loaded.append(load_classifier(current, threads=1, trusted_keys=trusted).version)
            except SignatureRefused as exc:
                refused.append(exc.reason)
            except BadModelPackage as exc:  # a manifest and a model of different versions
                refused.append(exc.problem)
    finally:
        stop.set()
        flipper.join(timeout=10)
    assert "2.0.0-unsigned" not in loaded, (loaded, refused)
    assert loaded, refused  # the signed package still loads while the flipping goes on
    assert set(refused) <= {"unsigned"}, refused  # the only refusal: the unsigned one, whole


def test_bytes_held_for_loading_must_be_the_signed_ones(tmp_path):
    """The check behind it: bytes read for loading that differ from what was signed are refused,
    even when the files on disk (which model-signing hashes) are the signed ones."""
    private, public = key_pair(tmp_path, "publisher")
    trusted = load_trusted_keys([public])
    package = make_package(tmp_path, "1.0.0")
    sign_package(package, private)
    model = (package / "model.onnx").read_bytes()
    manifest = (package / "manifest.json").read_bytes()
    assert verify_signature(package, trusted, held={"model.onnx": model,
                                                    "manifest.json": manifest}).path == public
    with pytest.raises(SignatureRefused, match="the model.onnx read for loading differ") as exc:
        verify_signature(package, trusted, held={"model.onnx": model + b"\0",
                                                 "manifest.json": manifest})
    assert exc.value.reason == "changed"
