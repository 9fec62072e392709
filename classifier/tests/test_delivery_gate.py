"""The gate in front of 'champion', with real packages that differ (the built model and a copy
whose every label is "tabby", so it calls everything a cat) evaluated by evaluate_model's
function on a small real dataset (crops of scikit-image's photos in export_dataset's format),
through publish_model as operators run it."""
from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from catmodel.delivery.aliases import history
from catmodel.delivery.store_choice import store_from_settings
from classifier.evaluator import evaluate_package
from testsupport.datasets import crops, photo, write_dataset
from testsupport.delivery import assert_serves, degraded_copy, fetch, publish

pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Photos that are not cats (crops of the cup of coffee, the rocket, the astronaut) and two
    crops of the tabby (domestic-tabby, a breed ImageNet cannot name), all in the test split."""
    plan = {"coffee": ("not-a-cat", 2), "rocket": ("not-a-cat", 1),
            "astronaut": ("not-a-cat", 1), "chelsea": ("domestic-tabby", 2)}
    examples = [(data, label, "test")
                for seed, (name, (label, count)) in enumerate(sorted(plan.items()))
                for data in crops(photo(name), count, seed=seed)]
    return write_dataset(tmp_path_factory.mktemp("gate") / "dataset", examples)


@pytest.fixture
def real(settings, tmp_path, model_package_dir, dataset):
    """A local store for the real model's name; the good and the worse package, evaluated."""
    manifest = json.loads((model_package_dir / "manifest.json").read_text())
    settings.MODEL_STORE = str(tmp_path / "store")
    settings.MODEL_STORE_PREFIX = ""
    settings.MODEL_NAME = manifest["name"]
    settings.MODEL_DIR = tmp_path / "model"
    worse = degraded_copy(model_package_dir, tmp_path / "packages", "2.0.0-worse")
    return {"name": manifest["name"], "dataset": str(dataset), "good": model_package_dir,
            "worse": worse,
            "good_top1": evaluate_package(model_package_dir, dataset).top1_accuracy,
            "worse_top1": evaluate_package(worse, dataset).top1_accuracy}


def gated(*args) -> tuple[str, CommandError | None]:
    """publish_model's output, and its error when it refused (the output is kept either way)."""
    out = StringIO()
    try:
        call_command("publish_model", *map(str, args), stdout=out)
    except CommandError as exc:
        return out.getvalue(), exc
    return out.getvalue(), None


def table(output: str) -> list[str]:
    """The comparison's lines after its legend (the numbers compare_models prints too)."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Comparison on "))
    end = next(i for i, line in enumerate(lines) if line.startswith("gate: ")) \
        if any(line.startswith("gate: ") for line in lines) else len(lines)
    return [line for line in lines[start + 3:end] if line]


def test_the_evaluation_tells_the_packages_apart(real):
    # The built model knows a cup of coffee, a rocket and an astronaut are not cats (and names
    # the tabby only as a domestic cat, not its breed); the worse one calls everything a cat.
    assert real["good_top1"] == 4 / 6, real
    assert real["worse_top1"] == 0.0, real


def test_a_worse_candidate_cannot_become_champion_without_force(real, settings, tmp_path):
    name, dataset = real["name"], real["dataset"]
    good, worse = real["good_top1"], real["worse_top1"]
    # The first champion: nothing to compare with, its accuracy is recorded.
    output = publish(real["good"], "--version", "1.0.0", "--alias", "champion",
                     "--evaluate", dataset)
    assert "champion is now 1.0.0" in output and "(no champion yet)" in output
    assert f"gate: no champion of model {name} yet: candidate 1.0.0 is promoted" in output
    assert "Comparison on" not in output

    # Publishing the worse package as champion is refused before anything is uploaded; the
    # gate prints the comparison (A the champion, B the candidate) and why, in one line.
    output, refused = gated(real["worse"], "--alias", "champion", "--evaluate", dataset)
    assert refused is not None and refused.returncode == 1 and "\n" not in str(refused)
    assert str(refused) == (
        f"candidate 2.0.0-worse (B) has top-1 accuracy {worse:.4f} on the test split of "
        f"{dataset}, champion 1.0.0 (A) has {good:.4f} (tolerance 0), below the champion's "
        "minus the tolerance; B alone gets 0 photo(s) right, A alone 4 (McNemar p = 0.125): not "
        "promoted; improve the candidate, or pass --force to promote it anyway (recorded in the "
        "history)")
    assert f"  A: champion 1.0.0 ({name} 1.0.0)" in output
    assert f"  B: candidate 2.0.0-worse ({name} 2.0.0-worse)" in output
    assert "Photos: both right 0, only A right 4, only B right 0, neither 2" in output
    # ... the very table compare_models prints for the two packages.
    compared = StringIO()
    call_command("compare_models", str(real["good"]), str(real["worse"]), data=dataset,
                 stdout=compared)
    assert table(output) == table(compared.getvalue())
    assert not (tmp_path / "store" / name / "2.0.0-worse").exists()

    # Published as challenger (no gate), then promoted: refused again with a tolerance smaller
    # than the difference, let through with a larger one only if asked; without --evaluate a
    # champion move needs --force.
    publish(real["worse"], "--alias", "challenger")
    tolerance = f"{(good - worse) / 2:.4f}"
    with pytest.raises(CommandError, match=rf"champion 1.0.0 \(A\) has {good:.4f} \(tolerance "
                                           rf"{float(tolerance):g}\)"):
        publish("--promote", "2.0.0-worse", "--alias", "champion", "--evaluate", dataset,
                "--tolerance", tolerance)
    with pytest.raises(CommandError, match="needs the gate: pass --evaluate DATASET_DIR"):
        publish("--promote", "2.0.0-worse", "--alias", "champion")
    store = store_from_settings(settings)
    assert [m.to_version for m in history(store, name, "champion")] == ["1.0.0"]
    fetch("--version", "champion")
    assert_serves(settings.MODEL_DIR, "1.0.0")

    # --force overrides, and the history says so, with both accuracies.
    output = publish("--promote", "2.0.0-worse", "--alias", "champion", "--evaluate", dataset,
                     "--force")
    assert "only A right 4" in output
    assert ("below the champion's minus the tolerance; B alone gets 0 photo(s) right, A alone "
            "4 (McNemar p = 0.125): promoted past the gate with --force") in output
    assert (f"champion is now 2.0.0-worse (was 1.0.0), top-1 accuracy {worse:.4f} vs "
            f"{good:.4f}") in output
    assert "forced: promoted past the gate with --force" in output
    first, forced = history(store, name, "champion")
    assert (first.to_version, first.from_version, first.forced) == ("1.0.0", None, False)
    assert first.evaluation["candidate"] == good and first.evaluation["champion"] is None
    assert (forced.from_version, forced.to_version, forced.forced) == (
        "1.0.0", "2.0.0-worse", True)
    assert forced.evaluation == {"dataset": dataset, "split": "test",
                                 "metric": "top1_accuracy", "candidate": worse,
                                 "champion": good, "tolerance": 0.0}
    assert forced.by and forced.at
    assert "current: 1.0.0 -> 2.0.0-worse" in fetch("--version", "champion")

    # The better model comes back through the gate without --force, and the gate says why.
    output, refused = gated("--promote", "1.0.0", "--alias", "champion", "--evaluate", dataset)
    assert refused is None
    assert (f"champion is now 1.0.0 (was 2.0.0-worse), top-1 accuracy {good:.4f} vs "
            f"{worse:.4f}") in output
    assert f"  A: champion 2.0.0-worse ({name} 2.0.0-worse)" in output
    assert "Photos: both right 0, only A right 0, only B right 4, neither 2" in output
    assert (f"gate: candidate 1.0.0 (B) has top-1 accuracy {good:.4f} on the test split of "
            f"{dataset}, champion 2.0.0-worse (A) has {worse:.4f} (tolerance 0), not below the "
            "champion's minus the tolerance; B alone gets 4 photo(s) right, A alone 0 (McNemar "
            "p = 0.125): promoted\n") in output
    assert [m.forced for m in history(store, name, "champion")] == [False, True, False]


def test_a_dataset_the_gate_cannot_read_is_one_line(real, tmp_path):
    publish(real["good"], "--version", "1.0.0", "--alias", "champion", "--evaluate",
            real["dataset"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(CommandError, match=r"^evaluating the candidate 2.0.0-worse on .*empty "
                                           r"failed: .* holds no dataset.json") as error:
        publish(real["worse"], "--alias", "champion", "--evaluate", str(tmp_path / "empty"))
    assert "\n" not in str(error.value)


def test_with_trusted_keys_the_gate_and_compare_models_refuse_an_unsigned_version(
        real, settings, tmp_path):
    """The store's versions are fetched for evaluation as fetch_model fetches them: with
    MODEL_TRUSTED_KEYS an unsigned one is refused before it is evaluated, let alone promoted."""
    from testsupport.signing import key_pair

    private, public = key_pair(tmp_path, "publisher")
    publish(real["good"], "--version", "1.0.0", "--alias", "champion", "--evaluate",
            real["dataset"], "--signing-key", private)
    publish(real["worse"], "--alias", "challenger")  # unsigned
    settings.MODEL_TRUSTED_KEYS = [str(public)]
    output, refused = gated("--promote", "2.0.0-worse", "--alias", "champion", "--evaluate",
                            real["dataset"], "--force")
    assert refused is not None and "signature" in str(refused).lower(), (output, refused)
    store = store_from_settings(settings)
    assert [m.to_version for m in history(store, real["name"], "champion")] == ["1.0.0"]
    with pytest.raises(CommandError, match="(?i)signature"):
        call_command("compare_models", "store:champion", "store:challenger",
                     data=real["dataset"], stdout=StringIO())
    # The signed champion itself is fetched and compared.
    compared = StringIO()
    call_command("compare_models", "store:champion", str(real["good"]), data=real["dataset"],
                 stdout=compared)
    assert "Photos: both right" in compared.getvalue()
