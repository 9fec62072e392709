"""The serving path's dependencies: classifier.inference runs without Django, and without the
model-building libraries the container images leave out (the build role)."""
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_inference_imports_neither_django_nor_model_building_libraries():
    probe = (
        "import json, sys; import classifier.inference; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}  # no DJANGO_SETTINGS_MODULE
    output = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, check=True,
                            capture_output=True, text=True).stdout
    loaded = set(json.loads(output))
    assert "onnxruntime" in loaded and "PIL" in loaded  # the probe did import the package
    assert not loaded & {"django", "rest_framework", "torch", "torchvision", "onnx", "skimage"}
