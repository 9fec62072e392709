"""The serving path's dependencies: catmodel.inference runs without Django, and without the
model-building libraries the container images leave out (the build role)."""
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_inference_imports_neither_django_nor_model_building_libraries():
    probe = (
        "import json, sys; import catmodel.inference; "
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}  # no DJANGO_SETTINGS_MODULE
    output = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, check=True,
                            capture_output=True, text=True).stdout
    loaded = set(json.loads(output))
    assert "onnxruntime" in loaded and "PIL" in loaded  # the probe did import the package
    assert not loaded & {"django", "rest_framework", "torch", "torchvision", "onnx", "skimage"}


def loaded_by(*modules: str) -> set[str]:
    """The top-level packages a fresh interpreter holds after importing ``modules``."""
    probe = ("import importlib, json, sys\n"
             f"for name in {list(modules)!r}: importlib.import_module(name)\n"
             "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}  # no DJANGO_SETTINGS_MODULE
    output = subprocess.run([sys.executable, "-c", probe], cwd=REPO, env=env, check=True,
                            capture_output=True, text=True).stdout
    return set(json.loads(output))


HEAVY = {"torch", "kserve", "mlflow", "azure"}
# Every part of the library but those that exist for a heavy dependency (modelbuild: torch;
# serving's server and model: kserve; the Azure store). The MLflow store and the experiment
# tracking import mlflow only when they are used.
LIGHT_PARTS = (
    "catmodel.errors", "catmodel.redaction", "catmodel.taxonomy", "catmodel.inference",
    "catmodel.inference.signatures", "catmodel.evaluation", "catmodel.evaluation.plot",
    "catmodel.delivery.fetch", "catmodel.delivery.publish", "catmodel.delivery.gate",
    "catmodel.delivery.install", "catmodel.delivery.store_choice",
    "catmodel.delivery.local_store", "catmodel.delivery.mlflow_store", "catmodel.mlflow_client",
    "catmodel.tracking",
    "catmodel.serving.client", "catmodel.modelbuild.cache", "catmodel.modelbuild.requirements",
)


def test_the_light_parts_of_the_library_load_no_heavy_dependency_and_no_django():
    loaded = loaded_by(*LIGHT_PARTS)
    assert "catmodel" in loaded and "onnxruntime" in loaded  # the probe did import them
    assert not loaded & (HEAVY | {"django", "rest_framework"})


def test_the_heavy_parts_do_load_theirs():
    """The probe above can see a heavy dependency: these parts load the one they are for."""
    assert "kserve" in loaded_by("catmodel.serving.server")
    assert "azure" in loaded_by("catmodel.delivery.azure_store")
