"""The package layout (docs/model-package.md) and its integrity check, without heavy imports.

Kept free of torch so the build cache can recognise a finished package cheaply.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

FORMAT = "catsite-model/1"
MODEL_FILE = "model.onnx"
MANIFEST_FILE = "manifest.json"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_complete_package(directory: Path) -> bool:
    """True when ``directory`` holds a manifest and exactly the files it lists, bytes intact."""
    try:
        manifest = json.loads((Path(directory) / MANIFEST_FILE).read_text())
        files = manifest["files"]
        present = {entry.name for entry in Path(directory).iterdir()}
    except (OSError, ValueError, KeyError, TypeError):
        return False
    if manifest.get("format") != FORMAT or present != set(files) | {MANIFEST_FILE}:
        return False
    for name, expected in files.items():
        path = Path(directory) / name
        if path.stat().st_size != expected["bytes"] or sha256_file(path) != expected["sha256"]:
            return False
    return True
