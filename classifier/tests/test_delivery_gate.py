"""The gate in front of 'champion', with real packages that differ (the built model and a copy
whose labels are shifted, so every answer is wrong) evaluated on a small real dataset (crops of
scikit-image's photos in export_dataset's format), through publish_model as operators run it."""
from __future__ import annotations

import json

import pytest
from django.core.management import CommandError

from classifier.delivery.aliases import history
from classifier.delivery.gate import top1_accuracy
from classifier.delivery.stores import store_from_settings
from classifier.tests.delivery_support import (
    assert_serves,
    degraded_copy,
    fetch,
    make_dataset,
    publish,
    run_manage,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def real(settings, tmp_path, model_package_dir):
    """A local store for the real model's name; the dataset; the good and the worse package."""
    manifest = json.loads((model_package_dir / "manifest.json").read_text())
    settings.MODEL_STORE = str(tmp_path / "store")
    settings.MODEL_STORE_PREFIX = ""
    settings.MODEL_NAME = manifest["name"]
    settings.MODEL_DIR = tmp_path / "model"
    return {
        "name": manifest["name"],
        "dataset": make_dataset(tmp_path / "dataset"),
        "good": model_package_dir,
        "worse": degraded_copy(model_package_dir, tmp_path / "packages", "2.0.0-worse"),
    }


def test_the_evaluator_tells_the_packages_apart(real):
    good = top1_accuracy(real["good"], real["dataset"])
    worse = top1_accuracy(real["worse"], real["dataset"])
    # The built model calls the tabby crops "Egyptian cat" and gets every espresso right.
    assert (good, worse) == (0.5, 0.0)


def test_a_worse_candidate_cannot_become_champion_without_force(real, settings, tmp_path):
    name, dataset = real["name"], str(real["dataset"])
    # The first champion: nothing to compare with, its accuracy is recorded.
    output = publish(real["good"], "--version", "1.0.0", "--alias", "champion",
                     "--evaluate", dataset)
    assert "champion is now 1.0.0" in output and "(no champion yet)" in output

    # Publishing the worse package as champion is refused before anything is uploaded.
    env = {"MODEL_STORE": settings.MODEL_STORE, "MODEL_NAME": name}
    refused = run_manage("publish_model", str(real["worse"]), "--alias", "champion",
                         "--evaluate", dataset, env=env)
    assert refused.returncode == 1
    assert refused.stderr.count("\n") == 1, refused.stderr  # one line
    assert ("candidate 2.0.0-worse has top-1 accuracy 0.0000 on the test split of "
            f"{dataset}, champion 1.0.0 has ") in refused.stderr
    assert "pass --force to promote it anyway" in refused.stderr
    assert not (tmp_path / "store" / name / "2.0.0-worse").exists()

    # Published as challenger (no gate), then promoted: refused again, also with a tolerance
    # smaller than the difference; without --evaluate a champion move needs --force.
    publish(real["worse"], "--alias", "challenger")
    with pytest.raises(CommandError, match=r"champion 1.0.0 has 0.5000 \(tolerance 0.4\)"):
        publish("--promote", "2.0.0-worse", "--alias", "champion", "--evaluate", dataset,
                "--tolerance", "0.4")
    with pytest.raises(CommandError, match="needs the gate: pass --evaluate DATASET_DIR"):
        publish("--promote", "2.0.0-worse", "--alias", "champion")
    store = store_from_settings(settings)
    assert [m.to_version for m in history(store, name, "champion")] == ["1.0.0"]
    fetch("--version", "champion")
    assert_serves(settings.MODEL_DIR, "1.0.0")

    # --force overrides, and the history says so, with both accuracies.
    output = publish("--promote", "2.0.0-worse", "--alias", "champion", "--evaluate", dataset,
                     "--force")
    assert "champion is now 2.0.0-worse (was 1.0.0), top-1 accuracy 0.0000 vs 0.5000" in output
    assert "forced: promoted past the gate with --force" in output
    first, forced = history(store, name, "champion")
    assert (first.to_version, first.from_version, first.forced) == ("1.0.0", None, False)
    assert first.evaluation["candidate"] == 0.5 and first.evaluation["champion"] is None
    assert (forced.from_version, forced.to_version, forced.forced) == (
        "1.0.0", "2.0.0-worse", True)
    assert forced.evaluation == {"dataset": dataset, "split": "test",
                                 "metric": "top1_accuracy", "candidate": 0.0,
                                 "champion": 0.5, "tolerance": 0.0}
    assert forced.by and forced.at
    assert "current: 1.0.0 -> 2.0.0-worse" in fetch("--version", "champion")

    # The better model comes back through the gate without --force.
    output = publish("--promote", "1.0.0", "--alias", "champion", "--evaluate", dataset)
    assert "champion is now 1.0.0 (was 2.0.0-worse), top-1 accuracy 0.5000 vs 0.0000" in output
    assert [m.forced for m in history(store, name, "champion")] == [False, True, False]
